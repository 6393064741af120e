"""The template's requirements.lock.txt is the current, hash-pinned, runtime-only export of uv.lock."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from schnitzel_stream.deploy.lock_export import (
    EXPORT_COMMAND,
    TEMPLATE_LOCK,
    LockedPackage,
    applicable,
    drift,
    installed_here,
    parse_lock_export,
)
from tests.template._support import REPO_ROOT

LOCK = REPO_ROOT / TEMPLATE_LOCK


def test_lock_export_is_fresh() -> None:
    exported = subprocess.run(
        list(EXPORT_COMMAND),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        timeout=120,
        check=True,
    ).stdout
    assert LOCK.read_text(encoding="utf-8") == exported, (
        f"{TEMPLATE_LOCK} is stale against uv.lock: regenerate it with `nox -s lock_export`"
    )


def test_lock_is_hash_pinned_and_runtime_only() -> None:
    packages, problems = parse_lock_export(LOCK.read_text(encoding="utf-8"), str(LOCK))
    assert problems == []
    names = {package.name for package in packages}
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = {
        dep.split(">")[0].split("=")[0].split("[")[0].strip().lower()
        for dep in pyproject["project"]["dependencies"]
    }
    assert runtime <= names
    assert not {"pytest", "mypy", "ruff", "copier", "nox", "schnitzel-stream"} & names
    assert all(package.hashes for package in packages)
    assert all(len(h) == len("sha256:") + 64 for package in packages for h in package.hashes)


def test_this_environment_matches_the_lock() -> None:
    """The dev environment is synced from the same uv.lock, so its runtime packages match."""
    packages, _ = parse_lock_export(LOCK.read_text(encoding="utf-8"), str(LOCK))
    assert drift(applicable(packages), installed_here()) == []


def test_unhashed_and_broken_lines_are_reported() -> None:
    text = "pyyaml==6.0.2\nnot a requirement\n"
    packages, problems = parse_lock_export(text, "lock.txt")
    assert [p.name for p in packages] == ["pyyaml"]
    assert [(p.code, p.line) for p in problems] == [("lock.unhashed", 1), ("lock.syntax", 2)]


def test_template_installs_the_project_version() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layout = (REPO_ROOT / "templates" / "deployment" / "_partials" / "layout.jinja").read_text("utf-8")
    match = re.search(r"\{%- set version = '([^']+)' -%\}", layout)
    assert match is not None
    assert match.group(1) == pyproject["project"]["version"]


THIS_PLATFORM = sys.platform
OTHER_PLATFORM = "win32" if sys.platform != "win32" else "linux"


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        pytest.param("python_full_version < '3.12'", True, id="lt"),
        pytest.param("python_full_version >= '3.12'", False, id="ge"),
        pytest.param("python_version == '3.11'", True, id="eq"),
        pytest.param("python_full_version == '3.11.*'", True, id="wildcard"),
        pytest.param("python_full_version >= '3.11.10'", False, id="patch-numeric-not-lexical"),
        pytest.param(f"sys_platform == '{OTHER_PLATFORM}'", False, id="other-platform"),
        pytest.param(f"sys_platform == '{THIS_PLATFORM}'", True, id="this-platform"),
        pytest.param(f"sys_platform == '{OTHER_PLATFORM}' or python_version == '3.11'", True, id="or"),
        pytest.param("'3.13' > python_version", True, id="reversed"),
        pytest.param("python_version == '3.11' and implementation_name == 'no-such'", False, id="and"),
        pytest.param("python_version <", True, id="unreadable-counts"),
    ],
)
def test_markers_for_a_python_version(marker: str, expected: bool) -> None:
    """The markers of the export are evaluated for the venv's Python, not the running one."""
    package = LockedPackage("demo", "1.0", marker, ("sha256:" + "0" * 64,), 1)
    assert ("demo" in applicable([package], python_version="3.11.2")) is expected


def test_lock_path_is_inside_the_template() -> None:
    assert LOCK.is_file()
    assert Path("templates", "deployment") in LOCK.relative_to(REPO_ROOT).parents
