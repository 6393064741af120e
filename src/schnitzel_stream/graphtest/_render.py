"""The test report as text (people), github (workflow annotations), json (tools) or junit (CI).

Failed expectations and file problems are :class:`~schnitzel_stream.errors.Problem` records,
so text and github output draw them exactly as ``validate`` does: ``file:line:col``, the
JSON path, the message, and (in text) the offending line of the test file with a caret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Literal, TextIO, get_args

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import FileReport, github_line, problem_to_json
from schnitzel_stream.graph.report_text import Segment, problem_lines, write_lines
from schnitzel_stream.graphtest._results import CaseResult, FileResult, RunResults

Format = Literal["text", "json", "github", "junit"]
FORMATS: tuple[Format, ...] = get_args(Format)

_LABEL = {"passed": ("PASS ", "bold green"), "failed": ("FAIL ", "bold red"), "error": ("ERROR", "bold red")}


def _problem_segments(file: FileResult, problems: tuple[Problem, ...]) -> Iterator[list[Segment]]:
    for problem in problems:
        text = file.sources.get(problem.file or file.path)
        report = FileReport(path=file.path, valid=False, source=text)
        yield from problem_lines(problem, report, text.split("\n") if text is not None else None)


def _case_line(case: CaseResult) -> list[Segment]:
    label, style = _LABEL[case.status]
    captured = ", ".join(f"{node}: {count}" for node, count in case.captured.items())
    detail = f"  {case.duration:.2f}s, {case.ended}" + (f", captured {captured}" if captured else "")
    return [("  ", ""), (label, style), (f"  {case.name}", "bold"), (detail, "dim")]


def text_lines(results: RunResults) -> Iterator[list[Segment]]:
    """Every line of the text report, with rich styles."""
    for file in results.files:
        if not file.valid:
            yield from _problem_segments(file, file.problems)
            yield [(f"{file.path}: ", "bold"), ("invalid test file, no case ran", "bold red")]
            continue
        yield [(file.path, "bold")]
        for case in file.cases:
            yield _case_line(case)
            if case.status != "passed":
                yield from _problem_segments(file, case.problems)
                for line in case.logs:
                    yield [("    log: ", "dim"), (line, "yellow")]
    yield [(results.summary(), "bold green" if results.passed else "bold red")]


def render_text(results: RunResults, stream: TextIO, *, colour: bool = False) -> None:
    write_lines(text_lines(results), stream, colour=colour)


def render_github(results: RunResults, stream: TextIO, *, colour: bool = False) -> None:
    """One ``::error`` workflow command per problem or failed expectation, then the summary."""
    for file in results.files:
        problems = [*file.problems, *(p for case in file.cases for p in case.problems)]
        stream.writelines(github_line(problem, file.path) + "\n" for problem in problems)
    stream.write(results.summary() + "\n")


def _case_json(case: CaseResult) -> dict[str, Any]:
    return {
        "name": case.name,
        "status": case.status,
        "ended": case.ended,
        "duration_sec": round(case.duration, 3),
        "captured": dict(case.captured),
        "problems": [problem_to_json(problem) for problem in case.problems],
        "logs": list(case.logs),
    }


def results_to_json(results: RunResults) -> dict[str, Any]:
    """The results as the plain data ``schemas/test-report.schema.json`` describes."""
    return {
        "passed": results.passed,
        "summary": {
            "files": len(results.files),
            "invalid_files": results.invalid,
            "cases": results.cases,
            "passed": results.count("passed"),
            "failed": results.count("failed"),
            "errors": results.count("error"),
        },
        "files": [
            {
                "path": file.path,
                "valid": file.valid,
                "passed": file.passed,
                "problems": [problem_to_json(problem) for problem in file.problems],
                "cases": [_case_json(case) for case in file.cases],
            }
            for file in results.files
        ],
    }


def render_json(results: RunResults, stream: TextIO, *, colour: bool = False) -> None:
    stream.write(json.dumps(results_to_json(results), indent=2, ensure_ascii=False) + "\n")


def render_junit(results: RunResults, stream: TextIO, *, colour: bool = False) -> None:
    from schnitzel_stream.graphtest._junit import junit_xml

    stream.write(junit_xml(results))


Renderer = Callable[..., None]
RENDERERS: dict[Format, Renderer] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "junit": render_junit,
}


def render(results: RunResults, fmt: Format, stream: TextIO, *, colour: bool = False) -> None:
    """Write ``results`` to ``stream`` in ``fmt``; only text is ever coloured."""
    RENDERERS[fmt](results, stream, colour=colour and fmt == "text")
