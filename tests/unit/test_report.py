"""Report renderers: plain text with quoted lines, colour only on a terminal, JSON, GitHub annotations."""

from __future__ import annotations

import io
import json

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import (
    REPORT_SCHEMA,
    FileReport,
    Report,
    github_line,
    render,
    report_to_json,
)
from schnitzel_stream.graph.validate import ValidateOptions, validate_text
from schnitzel_stream.paths import resolve_paths

SOURCE = "version: 2\nnodes:\n  - id: cam\n    config: {url: 42}\n"
URL = Problem(
    code="schema.type",
    message="expected a string, got 42",
    path="nodes[0].config.url",
    file="g.yaml",
    line=4,
    column=19,
    hint="did you mean 'uri'?",
)
WARN = Problem(code="graph.dead-end", message="source 'cam' goes nowhere", path="nodes[0].id", file="g.yaml",
               line=3, column=9, severity="warning")  # fmt: skip
BAD = FileReport.from_problems("g.yaml", [URL, WARN], source=SOURCE)
GOOD = FileReport.from_problems("ok.yaml", [], source="version: 2\n")
REPORT = Report(files=(BAD, GOOD))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _text(report: Report, stream: io.StringIO | None = None, environ: dict[str, str] | None = None) -> str:
    out = stream if stream is not None else io.StringIO()
    render(report, "text", out, environ or {})
    return out.getvalue()


def test_plain_text_quotes_the_line_with_a_caret() -> None:
    assert _text(REPORT).splitlines() == [
        "g.yaml:4:19: error: nodes[0].config.url: expected a string, got 42 (did you mean 'uri'?) [schema.type]",
        "  4 |     config: {url: 42}",
        "    |                   ^",
        "g.yaml:3:9: warning: nodes[0].id: source 'cam' goes nowhere [graph.dead-end]",
        "  3 |   - id: cam",
        "    |         ^",
        "ok.yaml: valid",
        "2 files checked, 1 invalid, 1 error, 1 warning",
    ]


def test_counts_and_validity() -> None:
    assert (BAD.valid, BAD.errors, BAD.warnings) == (False, 1, 1)
    assert not REPORT.valid
    only_warning = FileReport.from_problems("w.yaml", [WARN])
    assert only_warning.valid
    assert Report(files=(only_warning,)).summary() == "1 file checked, 0 invalid, 0 errors, 1 warning"


def test_caret_copies_tabs_and_long_lines_are_windowed() -> None:
    tabbed = FileReport.from_problems("t.yaml", [Problem("yaml.tab", "tab", file="t.yaml", line=1, column=3)],
                                      source="\t\tx: 1\n")  # fmt: skip
    lines = _text(Report(files=(tabbed,))).splitlines()
    assert lines[1:3] == ["  1 | \t\tx: 1", "    | \t\t^"]
    long_line = "k: " + "a" * 300 + "X" + "b" * 300
    wide = FileReport.from_problems("w.yaml", [Problem("c", "m", file="w.yaml", line=1, column=304)],
                                    source=long_line)  # fmt: skip
    quoted, caret = _text(Report(files=(wide,))).splitlines()[1:3]
    assert len(quoted) < 140
    assert quoted[caret.index("^")] == "X"


def test_problem_without_line_or_source_is_still_one_line() -> None:
    missing = FileReport.from_problems("gone.yaml", [Problem("io.missing", "no such file", file="gone.yaml")])
    assert _text(Report(files=(missing,))).splitlines() == [
        "gone.yaml: error: no such file [io.missing]",
        "1 file checked, 1 invalid, 1 error, 0 warnings",
    ]


def test_terminal_gets_colour_and_the_same_words() -> None:
    coloured = _text(REPORT, _Terminal())
    assert "\x1b[" in coloured
    assert "expected a string, got 42" in coloured
    assert "    config: {url: 42}" in coloured


@pytest.mark.parametrize(
    ("stream", "environ"),
    [
        pytest.param(_Terminal(), {"NO_COLOR": "1"}, id="no-color-on-terminal"),
        pytest.param(_Terminal(), {"NO_COLOR": "anything"}, id="no-color-any-value"),
        pytest.param(io.StringIO(), {}, id="not-a-terminal"),
        pytest.param(_Terminal(), {"TERM": "dumb"}, id="dumb-terminal"),
        pytest.param(io.StringIO(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}, id="no-color-beats-force-color"),
        pytest.param(io.StringIO(), {"FORCE_COLOR": ""}, id="empty-force-color"),
    ],
)
def test_no_escape_sequences_without_a_colour_terminal(stream: io.StringIO, environ: dict[str, str]) -> None:
    text = _text(REPORT, stream, environ)
    assert "\x1b" not in text
    assert text == _text(REPORT)


def test_force_color_colours_a_pipe_too() -> None:
    coloured = _text(REPORT, io.StringIO(), {"FORCE_COLOR": "1"})
    assert "\x1b[" in coloured and "expected a string, got 42" in coloured


@pytest.mark.parametrize(("environ", "coloured"), [({"FORCE_COLOR": "1"}, True), ({"NO_COLOR": "1"}, False)])
def test_the_log_lines_follow_the_same_colour_decision(
    environ: dict[str, str], coloured: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from schnitzel_stream.runtime import logs

    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    logger = logs.configure(stream=out)
    try:
        logger.warning("a warning")
    finally:
        logging.getLogger(logs.LOGGER_NAME).handlers.clear()
    assert "a warning" in out.getvalue()
    assert ("\x1b[" in out.getvalue()) is coloured


def test_json_matches_the_published_schema() -> None:
    data = report_to_json(REPORT)
    Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert data["valid"] is False
    assert data["files"][0]["problems"][0] == {
        "severity": "error",
        "code": "schema.type",
        "message": "expected a string, got 42",
        "path": "nodes[0].config.url",
        "line": 4,
        "column": 19,
        "hint": "did you mean 'uri'?",
    }
    assert "hint" not in data["files"][0]["problems"][1]
    out = io.StringIO()
    render(REPORT, "json", out)
    assert json.loads(out.getvalue()) == data


def test_real_reports_match_the_published_schema() -> None:
    options = ValidateOptions(
        environ={}, paths=resolve_paths(os_name="linux", environ={}, scope="user", home="/h")
    )
    texts = [
        "version: 1\nnodes: []\nextra: x\n",
        "a: [\n",
        "version: 2\nnodes:\n  - {id: a, kind: source, plugin: x}\n",
    ]
    reports = tuple(validate_text(text, f"g{i}.yaml", options)[1] for i, text in enumerate(texts))
    data = report_to_json(Report(files=reports))
    Draft202012Validator(REPORT_SCHEMA).validate(data)
    assert sum(len(f["problems"]) for f in data["files"]) >= 5


def test_github_annotations_escape_data_and_properties() -> None:
    problem = Problem(
        code="x:y,z",
        message="50% done\r\nnext line",
        path="p",
        file="dir,1/a:b.yaml",
        line=2,
        column=5,
        severity="warning",
    )
    assert github_line(problem, "ignored") == (
        "::warning file=dir%2C1/a%3Ab.yaml,line=2,col=5,title=x%3Ay%2Cz::p: 50%25 done%0D%0Anext line"
    )


def test_github_output_has_one_command_per_problem_and_a_summary() -> None:
    out = io.StringIO()
    render(REPORT, "github", out)
    assert out.getvalue().splitlines() == [
        (
            "::error file=g.yaml,line=4,col=19,title=schema.type::nodes[0].config.url: expected a string, got 42 "
            "(did you mean 'uri'?)"
        ),
        "::warning file=g.yaml,line=3,col=9,title=graph.dead-end::nodes[0].id: source 'cam' goes nowhere",
        "2 files checked, 1 invalid, 1 error, 1 warning",
    ]


def test_github_without_position() -> None:
    line = github_line(Problem("io.missing", "no such file", file="a.yaml"), "a.yaml")
    assert line == "::error file=a.yaml,title=io.missing::no such file"


def test_quoted_lines_mask_credentials_and_the_caret_stays_on_its_value() -> None:
    source = 'version: 2\n  x: {url: "rtsp://admin:hunter2@cam/1", n: nope}\n'
    column = source.splitlines()[1].index("nope") + 1
    problem = Problem("schema.type", "expected an integer", path="x.n", file="g.yaml", line=2, column=column)
    text = _text(Report(files=(FileReport.from_problems("g.yaml", [problem], source=source),)))
    quoted, caret = text.splitlines()[1:3]
    assert "hunter2" not in text
    assert "rtsp://admin:***@cam/1" in quoted
    assert quoted[caret.index("^")] == "n"  # the caret moved with the shorter masked line


def test_a_caret_inside_a_masked_password_lands_on_the_mask() -> None:
    source = "u: https://user:longsecretvalue@host/x\n"
    problem = Problem("c", "m", file="g.yaml", line=1, column=source.index("secret") + 1)
    text = _text(Report(files=(FileReport.from_problems("g.yaml", [problem], source=source),)))
    quoted, caret = text.splitlines()[1:3]
    assert "longsecretvalue" not in text
    assert quoted[caret.index("^")] in "*@h"


def test_a_megabyte_line_is_quoted_masked_and_windowed() -> None:
    line = "k: " + "a" * 600_000 + " https://u:pw1234@h/x " + "b" * 600_000
    column = line.index("https") + 1
    problem = Problem("c", "m", file="g.yaml", line=1, column=column)
    quoted, caret = _text(
        Report(files=(FileReport.from_problems("g.yaml", [problem], source=line),))
    ).splitlines()[1:3]
    assert len(quoted) < 140 and "pw1234" not in quoted and "***" in quoted
    assert quoted[caret.index("^")] == "h"
