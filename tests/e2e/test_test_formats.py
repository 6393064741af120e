"""``schnitzel-stream test`` output: JUnit XML that CI tools accept, GitHub annotations, progress
on a terminal only, and usage errors."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import xmlschema

from schnitzel_stream.cli.__main__ import main
from tests.e2e.test_test_cli import JUNIT_SCHEMAS
from tests.e2e.test_test_runs import GRAPH, write
from tests.support.corpus import cli


def _junit_run(tmp_path: Path) -> str:
    write(tmp_path, "g.yaml", GRAPH)
    write(
        tmp_path,
        "mixed.test.yaml",
        """\
        version: 1
        graph: g.yaml
        cases:
          - {name: "passes \\x01 <&> ]]>", capture: [out], expect: {out: {count: 3}}}
          - {name: fails, capture: [out], expect: {out: {count: 4, all: {kind: frame}}}}
          - name: errors
            inputs: {src: [{kind: event}]}
            replace: {relay: {plugin: motion_detector}}
        """,
    )
    write(tmp_path, "invalid.test.yaml", "version: 1\ngraph: g.yaml\ncases: [{name: a, capture: [nope]}]\n")
    output = tmp_path / "report.xml"
    assert main(["test", str(tmp_path), "--format", "junit", "--output", str(output)]) == 1
    return output.read_text(encoding="utf-8")


@pytest.mark.parametrize("xsd", [pytest.param(p, id=p.name) for p in JUNIT_SCHEMAS])
def test_junit_output_validates_against_the_schemas_ci_tools_accept(
    xsd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _junit_run(tmp_path)
    _, err = capsys.readouterr()
    assert "1 invalid test file" in err  # the summary still reaches the terminal
    xmlschema.XMLSchema(xsd).validate(document)
    assert '<testsuite name="' in document and 'tests="3" failures="1" errors="1"' in document
    assert '<failure type="expect.all"' in document
    assert '<error type="test.unknown-node"' in document
    assert "\x01" not in document


def test_github_format_is_one_annotation_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "g.yaml", GRAPH)
    test = write(
        tmp_path,
        "t.test.yaml",
        "version: 1\ngraph: g.yaml\ncases: [{name: a, capture: [out], expect: {out: {count: 9}}}]\n",
    )
    assert main(["test", str(test), "--format", "github"]) == 1
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(
        f"::error file={test},line=3,col=57,title=expect.count::cases[0].expect.out.count: case 'a': "
    )
    assert lines[-1] == "1 test file, 1 case: 0 passed, 1 failed, 0 errors"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert cli("test").returncode == 2
    assert cli("test", "ops/graphs", "--format", "xml").returncode == 2
    unwritable = cli(
        "test",
        "ops/graphs/tests/synthetic_camera.test.yaml",
        "--output",
        str(tmp_path / "no" / "dir" / "r.txt"),
    )
    assert unwritable.returncode == 2
    assert "cannot write the report" in unwritable.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_progress_shows_on_a_terminal_and_never_in_a_pipe(
    terminal: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "g.yaml", GRAPH)
    cases = ", ".join(f"{{name: case {i}, capture: [out]}}" for i in range(3))
    test = write(tmp_path, "t.test.yaml", f"version: 1\ngraph: g.yaml\ncases: [{cases}]\n")
    stderr = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    assert main(["test", str(test)]) == 0
    out, _ = capsys.readouterr()
    shown = stderr.getvalue()
    if terminal:
        assert "3/3" in shown  # rich's bar, finished (then cleared)
        assert sys.platform == "win32" or "\x1b[" in shown
    else:
        assert shown == ""
    assert "\x1b[" not in out  # the report itself goes to a pipe here: plain
    assert "3 cases: 3 passed" in out
