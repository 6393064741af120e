"""Every OS x scope x profile renders, and `validate --deployment` (the real CLI) accepts it."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from schnitzel_stream.deploy.envfile import read_env_file
from schnitzel_stream.deploy.layout import SECRET_QUESTIONS
from tests.template._support import OSES, PROFILES, SCOPES, SECRETS, answers, cli, problems_of, render

SERVICE_FILE = {
    "linux": "schnitzel-stream-edge-1.service",
    "macos": "dev.schnitzel-stream.edge-1.plist",
    "windows": "schnitzel-stream-edge-1.winsvc.json",
}
SCRIPTS = {
    "linux": ("install.sh", "uninstall.sh"),
    "macos": ("install.sh", "uninstall.sh"),
    "windows": ("install.ps1", "uninstall.ps1"),
}
CASES = [
    pytest.param(os_name, scope, profile, id=f"{os_name}-{scope}-{profile}")
    for os_name in OSES
    for scope in SCOPES
    for profile in PROFILES
]


@pytest.mark.parametrize(("os_name", "scope", "profile"), CASES)
def test_renders_and_validates(
    template_dir: Path, tmp_path: Path, os_name: str, scope: str, profile: str
) -> None:
    root = render(template_dir, tmp_path / "root", answers(os_name, scope, profile))

    expected = {
        ".copier-answers.yml",
        ".gitignore",
        "RUNBOOK.md",
        "requirements.lock.txt",
        "config/graph.yaml",
        "config/schnitzel-stream.env",
        "tests/smoke.test.yaml",
        SERVICE_FILE[os_name],
        *SCRIPTS[os_name],
    }
    rendered = {str(path.relative_to(root).as_posix()) for path in root.rglob("*") if path.is_file()}
    assert rendered == expected
    assert (
        (root / "config" / "graph.yaml")
        .read_text(encoding="utf-8")
        .startswith("# yaml-language-server: $schema=")
    )

    # Secrets: in the env file (read back exactly), never in the answers file or the graph.
    answers_text = (root / ".copier-answers.yml").read_text(encoding="utf-8")
    stored = yaml.safe_load(answers_text)
    assert not set(SECRET_QUESTIONS) & set(stored)
    env = read_env_file(root / "config" / "schnitzel-stream.env")
    assert env.problems == ()
    for name, secret in SECRETS.items():
        for other in ("answers", "graph", "service"):
            text = {
                "answers": answers_text,
                "graph": (root / "config" / "graph.yaml").read_text(encoding="utf-8"),
                "service": (root / SERVICE_FILE[os_name]).read_text(encoding="utf-8"),
            }[other]
            assert secret not in text, f"{name} leaked into the {other} file"
    values = env.as_dict()
    if profile in ("rtsp_to_http_durable", "synthetic_to_http_durable"):
        assert values["SCHNITZEL_BACKEND_AUTH"] == f"Bearer {SECRETS['backend_token']}"
    if profile == "synthetic_to_mqtt":
        # In the broker URL's user-info, percent-encoded: no character can change the URL.
        broker = urlsplit(values["SCHNITZEL_MQTT_URL"])
        assert (broker.hostname, broker.port) == ("broker.example.com", 1883)
        assert (unquote(broker.username or ""), unquote(broker.password or "")) == (
            "edge-17",
            SECRETS["mqtt_password"],
        )
    assert values["SCHNITZEL_SOURCE_ID"] == "edge-1-cam"
    if profile == "rtsp_to_http_durable":
        # Percent-encoded inside the URL, so that '@', '/' and ':' in a password cannot break it.
        assert values["SCHNITZEL_CAMERA_URL"].startswith("rtsp://admin:p%40ss%20w%2Frd%27%24x%22%C3%BC@")

    result = cli("validate", "--deployment", str(root), "--format", "json")
    report = json.loads(result.stdout)
    errors = [p for p in problems_of(report) if p["severity"] == "error"]
    assert result.returncode == 0, errors
    # validate --deployment renders the template for the root's answers in-process and compares
    # (deploy/_rendered.py): it must give copier's bytes for every file, RUNBOOK.md included.
    assert not [p for p in problems_of(report) if p["code"] == "deploy.not-rendered"]
    assert report["valid"] is True
    assert {Path(f["path"]).name for f in report["files"]} >= {
        ".copier-answers.yml",
        "graph.yaml",
        "schnitzel-stream.env",
        SERVICE_FILE[os_name],
        "requirements.lock.txt",
    }
