"""What validate --deployment says about a root's template and bundle versions, and about the
interpreter its environment is built on; real files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schnitzel_stream.deploy._bundle_check import bundle_problems, interpreter_problems, versions_of
from schnitzel_stream.deploy.layout import Answers


def _bundle(
    root: Path, *, commit: str = "v0.1.0", version: str = "0.1.0", truncate: str | None = None
) -> None:
    wheels = root / "wheels"
    wheels.mkdir(parents=True)
    entries: list[dict[str, Any]] = []
    for name in (f"schnitzel_stream-{version}-py3-none-any.whl", "pure-2.0-py3-none-any.whl"):
        (wheels / name).write_bytes(b"x" * 100)
        entries.append(
            {"file": name, "name": name.split("-")[0], "version": "1", "sha256": "0" * 64, "size": 100}
        )
    if truncate:
        (wheels / truncate).write_bytes(b"x" * 10)
    manifest = {
        "format": 1,
        "created_by": "schnitzel-stream 0.1.0",
        "template_commit": commit,
        "commit": "f" * 40,
        "python": "3.11",
        "targets": ["linux-x86_64"],
        "project": {**entries[0], "name": "schnitzel-stream", "version": version},
        "files": entries[1:],
    }
    (wheels / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _codes(root: Path, commit: str | None) -> list[tuple[str, str]]:
    versions = versions_of(root, {"_commit": commit} if commit else {})
    return [(p.code, p.severity) for p in bundle_problems(root, versions)]


def test_a_matching_bundle_is_fine_and_described(tmp_path: Path) -> None:
    _bundle(tmp_path)
    assert _codes(tmp_path, "v0.1.0") == []
    line = versions_of(tmp_path, {"_commit": "v0.1.0"}).line()
    assert line == "template v0.1.0; bundle schnitzel-stream 0.1.0 (2 files for linux-x86_64, CPython 3.11)"


def test_a_root_without_a_bundle_gets_a_warning(tmp_path: Path) -> None:
    assert _codes(tmp_path, "v0.1.0") == [("deploy.bundle-missing", "warning")]
    assert versions_of(tmp_path, {}).line() == "template: no commit recorded; no bundle (wheels/)"


def test_a_bundle_for_another_template_commit_gets_a_warning(tmp_path: Path) -> None:
    _bundle(tmp_path, commit="v0.1.0-2-gabc1234")
    assert _codes(tmp_path, "v0.1.0") == [("deploy.bundle-stale", "warning")]


def test_a_release_template_with_another_bundled_version_gets_a_warning(tmp_path: Path) -> None:
    _bundle(tmp_path, commit="v0.2.0", version="0.1.0")
    assert _codes(tmp_path, "v0.2.0") == [("deploy.bundle-version", "warning")]


def test_a_cut_short_or_unreadable_bundle_is_an_error(tmp_path: Path) -> None:
    _bundle(tmp_path / "short", truncate="pure-2.0-py3-none-any.whl")
    assert _codes(tmp_path / "short", "v0.1.0") == [("deploy.bundle", "error")]
    (tmp_path / "broken" / "wheels").mkdir(parents=True)
    (tmp_path / "broken" / "wheels" / "manifest.json").write_text("{", encoding="utf-8")
    assert _codes(tmp_path / "broken", "v0.1.0") == [("deploy.bundle", "error")]


def _answers(
    os_name: str = "linux", scope: str = "system", install_dir: str = "/opt/schnitzel-stream/edge-1"
) -> Answers:
    return Answers("edge-1", os_name, scope, install_dir, "synthetic_demo", user_home="/home/me")  # type: ignore[arg-type]


def _venv(tmp_path: Path, home: str) -> Path:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = {home}\nversion_info = 3.11.2\n", encoding="utf-8")
    return venv


@pytest.mark.parametrize(
    ("home", "answers", "refused"),
    [
        pytest.param("/root/.pyenv/versions/3.11.7/bin", _answers(), True, id="pyenv-under-root"),
        pytest.param("/home/me/.local/share/uv/python/bin", _answers(), True, id="uv-python-in-home"),
        pytest.param("/tmp/python/bin", _answers(scope="user"), True, id="tmp-even-for-user-scope"),
        pytest.param("/home/me/.local/bin", _answers(scope="user"), False, id="user-scope-home-is-readable"),
        pytest.param("/usr/bin", _answers(), False, id="os-python"),
        pytest.param("/Users/runner/hostedtoolcache/Python/3.11/bin", _answers("macos"), True, id="macos-daemon-home"),
        pytest.param("/opt/homebrew/opt/python@3.11/bin", _answers("macos"), False, id="macos-homebrew"),
        pytest.param(
            "C:\\Users\\runneradmin\\AppData\\Roaming\\uv\\python", _answers("windows", install_dir="C:\\x"), True,
            id="windows-profile",
        ),
        pytest.param("C:\\hostedtoolcache\\windows\\Python\\3.11.9\\x64", _answers("windows", install_dir="C:\\x"), False,
                     id="windows-tool-cache"),
    ],
)  # fmt: skip
def test_an_interpreter_the_service_cannot_see_is_refused(
    tmp_path: Path, home: str, answers: Answers, refused: bool
) -> None:
    problems = interpreter_problems(_venv(tmp_path, home), answers, "root")
    assert [p.code for p in problems] == (["deploy.interpreter"] if refused else [])
    if refused:
        assert "which the service cannot see" in problems[0].message
