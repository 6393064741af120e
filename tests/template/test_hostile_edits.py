"""A hand-edited root is refused: validate --deployment reports what the template never writes.

Each case in tests/template/hostile_edits/ edits one rendered service file; see the README
there. The check is an allowlist per format (deploy/checks/), so a new kind of edit is an
error by default, not a gap.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from schnitzel_stream import __version__
from schnitzel_stream.deploy.root import validate_deployment
from tests.template._support import answers, render

CASES = sorted((Path(__file__).parent / "hostile_edits").glob("*.yaml"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, template_dir: Path) -> dict[str, Path]:
    """One clean root per OS, copied for each case."""
    base = tmp_path_factory.mktemp("clean")
    return {
        os_name: render(template_dir, base / os_name, answers(os_name, "system", "synthetic_demo"))
        for os_name in ("linux", "macos", "windows")
    }


def _errors(root: Path) -> set[str]:
    report = validate_deployment(root)
    return {p.code for f in report.files for p in f.problems if p.severity == "error"}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hand_edit_is_refused(rendered: dict[str, Path], tmp_path: Path, path: Path) -> None:
    case: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    root = tmp_path / "root"
    shutil.copytree(rendered[case["os"]], root)
    (root / "config" / "schnitzel-stream.env").chmod(0o600)
    assert _errors(root) == set()
    target = root / case["file"]
    text = target.read_text(encoding="utf-8")
    assert text.count(case["old"]) == 1, f"{case['old']!r} must occur once in {case['file']}"
    target.write_text(text.replace(case["old"], case["new"]), encoding="utf-8")
    assert case["code"] in _errors(root)


@pytest.mark.parametrize(
    ("commit", "severity"),
    [
        pytest.param(None, "error", id="local-template"),
        pytest.param(f"v{__version__}", "error", id="this-release"),
        pytest.param(f"v{__version__}-7-gabc1234", "error", id="after-this-release"),
        pytest.param("v99.0.0", "warning", id="another-release"),
    ],
)
def test_a_root_of_another_template_version_is_compared_as_a_warning(
    rendered: dict[str, Path], tmp_path: Path, commit: str | None, severity: str
) -> None:
    """The comparison is strict for this release's template; another version may differ."""
    root = tmp_path / "root"
    shutil.copytree(rendered["linux"], root)
    answers = root / ".copier-answers.yml"
    if commit is not None:
        answers.write_text(f"_commit: {commit}\n" + answers.read_text(encoding="utf-8"), encoding="utf-8")
    script = root / "install.sh"
    script.write_text(script.read_text(encoding="utf-8") + "id\n", encoding="utf-8")
    report = validate_deployment(root)
    # Only install.sh was edited. (The service files differ too when _commit is added by hand:
    # the template writes its version into them, SCHNITZEL_STREAM_TEMPLATE_VERSION.)
    [found] = [
        p
        for f in report.files
        for p in f.problems
        if p.code == "deploy.not-rendered" and p.file is not None and Path(p.file).name == "install.sh"
    ]
    assert found.severity == severity
    assert found.line == len(script.read_text(encoding="utf-8").splitlines())
