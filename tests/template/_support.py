"""Rendering deployment roots for the template tests, and running the CLI on them.

Roots are rendered with copier's Python API from a plain copy of the template (``copier.yml``,
``templates/`` and ``ops/graphs/``): a directory that is not a git repository is used as it is, without a
clone, which keeps each render near 0.3 s. The ``copier update`` test builds a real git
repository instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from copier import run_copy

REPO_ROOT = Path(__file__).resolve().parents[2]
OSES = ("linux", "windows", "macos")
SCOPES = ("system", "user", "portable")
PROFILES = ("synthetic_demo", "rtsp_to_http_durable", "synthetic_to_http_durable", "synthetic_to_mqtt")
#: Secrets with every character that quoting can get wrong: quotes, spaces, $, /, @, unicode.
SECRETS = {
    "camera_password": "p@ss w/rd'$x\"ü",
    "backend_token": "tok-9f8e7d6c5b4a",
    "mqtt_password": 'mq\'pw $HOME "x"',
}
#: The profiles that ask each secret (the template's `when:` conditions).
SECRET_PROFILES = {
    "camera_password": ("rtsp_to_http_durable",),
    "backend_token": ("rtsp_to_http_durable", "synthetic_to_http_durable"),
    "mqtt_password": ("synthetic_to_mqtt",),
}


def copy_template(dst: Path) -> Path:
    """A plain (non-git) copy of the template at ``dst``: copier.yml, templates/ and the
    reference graphs the template renders (ops/graphs/*.yaml)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "copier.yml", dst / "copier.yml")
    shutil.copytree(REPO_ROOT / "templates", dst / "templates", dirs_exist_ok=True)
    (dst / "ops" / "graphs").mkdir(parents=True, exist_ok=True)
    for graph in (REPO_ROOT / "ops" / "graphs").glob("*.yaml"):
        shutil.copy2(graph, dst / "ops" / "graphs" / graph.name)
    return dst


def answers(os_name: str, scope: str, profile: str, **extra: Any) -> dict[str, Any]:
    """Answers for one OS x scope x profile, with every secret the profile asks."""
    data: dict[str, Any] = {"target_os": os_name, "scope": scope, "graph_profile": profile}
    for name, profiles in SECRET_PROFILES.items():
        if profile in profiles:
            data[name] = SECRETS[name]
    if profile == "synthetic_to_mqtt":
        data["mqtt_username"] = "edge-17"
    if profile == "rtsp_to_http_durable":
        data["camera_username"] = "admin"
    data.update(extra)
    return data


def render(template: Path, dst: Path, data: dict[str, Any]) -> Path:
    """Render one root non-interactively (``--defaults`` plus ``data``), as a fleet script would."""
    run_copy(str(template), dst, data=data, defaults=True, quiet=True)
    return dst


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m schnitzel_stream ARGS`` as a subprocess, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        cwd=cwd or REPO_ROOT,
        check=False,
    )


def problems_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem of a ``validate --format json`` report, with its file's path added."""
    return [{**problem, "file": file["path"]} for file in report["files"] for problem in file["problems"]]
