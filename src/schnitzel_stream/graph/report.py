"""Validation results and their renderers: ``text`` (people), ``json`` (tools), ``github`` (CI).

``REPORT_BY_NAME`` maps a format name to its renderer. The JSON shape is published as
:data:`REPORT_SCHEMA` (``schemas/validate-report.schema.json``). Renderers only write to the
stream they are given; the CLI decides where that is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, TextIO, get_args

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report_text import render_text

Format = Literal["text", "json", "github"]
FORMATS: tuple[Format, ...] = get_args(Format)


class FileReport(NamedTuple):
    """The outcome for one file: valid unless some problem is an error (warnings are fine).

    ``source`` is the file's text when it could be read, so the text renderer can quote lines.
    """

    path: str
    valid: bool
    problems: tuple[Problem, ...] = ()
    source: str | None = None

    @classmethod
    def from_problems(cls, path: str, problems: Sequence[Problem], source: str | None = None) -> FileReport:
        valid = not any(problem.severity == "error" for problem in problems)
        return cls(path=path, valid=valid, problems=tuple(problems), source=source)

    @property
    def errors(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == "warning")


class Report(NamedTuple):
    """The outcome for every file checked in one call."""

    files: tuple[FileReport, ...]

    @property
    def valid(self) -> bool:
        return all(file.valid for file in self.files)

    @property
    def errors(self) -> int:
        return sum(file.errors for file in self.files)

    @property
    def warnings(self) -> int:
        return sum(file.warnings for file in self.files)

    def summary(self) -> str:
        """``2 files checked, 1 invalid, 3 errors, 1 warning``."""
        invalid = sum(1 for file in self.files if not file.valid)
        return ", ".join(
            (
                _count(len(self.files), "file") + " checked",
                f"{invalid} invalid",
                _count(self.errors, "error"),
                _count(self.warnings, "warning"),
            )
        )


def promote_warnings(report: Report) -> Report:
    """``report`` with every warning made an error (``validate --strict``), codes and words kept."""
    files = []
    for file in report.files:
        problems = [p._replace(severity="error") if p.severity == "warning" else p for p in file.problems]
        files.append(FileReport.from_problems(file.path, problems, source=file.source))
    return Report(files=tuple(files))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


REPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schnitzel-stream.dev/schemas/validate-report.schema.json",
    "title": "schnitzel-stream validate report",
    "description": "The output of 'schnitzel-stream validate --format json'.",
    "type": "object",
    "required": ["valid", "files"],
    "additionalProperties": False,
    "properties": {
        "valid": {"type": "boolean", "description": "True when no file has an error (warnings allowed)."},
        "files": {
            "type": "array",
            "description": "One entry per file checked, in the order checked.",
            "items": {"$ref": "#/$defs/file"},
        },
    },
    "$defs": {
        "file": {
            "type": "object",
            "required": ["path", "valid", "problems"],
            "additionalProperties": False,
            "properties": {
                "path": {
                    "type": "string",
                    "description": "The file as named on the command line or found in a directory.",
                },
                "valid": {"type": "boolean", "description": "True when none of its problems is an error."},
                "problems": {"type": "array", "items": {"$ref": "#/$defs/problem"}},
            },
        },
        "problem": {
            "type": "object",
            "required": ["severity", "code", "message", "path", "line", "column"],
            "additionalProperties": False,
            "properties": {
                "severity": {"enum": ["error", "warning"]},
                "code": {
                    "type": "string",
                    "description": "Stable machine-readable code, such as 'schema.type' or 'graph.cycle'.",
                },
                "message": {"type": "string", "description": "One plain English sentence."},
                "path": {
                    "type": "string",
                    "description": "JSON path inside the document, such as 'nodes[2].config.url'; empty for the whole file.",
                },
                "line": {"type": ["integer", "null"], "minimum": 1, "description": "1-based line, if known."},
                "column": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "1-based column, if known.",
                },
                "hint": {
                    "type": "string",
                    "description": "How to fix it, such as a did-you-mean suggestion.",
                },
            },
        },
    },
}


def report_to_json(report: Report) -> dict[str, Any]:
    """The report as the plain data :data:`REPORT_SCHEMA` describes."""
    files = [
        {"path": file.path, "valid": file.valid, "problems": [problem_to_json(p) for p in file.problems]}
        for file in report.files
    ]
    return {"valid": report.valid, "files": files}


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """One problem as ``$defs/problem`` of :data:`REPORT_SCHEMA` describes it."""
    item: dict[str, Any] = {
        "severity": problem.severity,
        "code": problem.code,
        "message": problem.message,
        "path": problem.path,
        "line": problem.line,
        "column": problem.column,
    }
    if problem.hint:
        item["hint"] = problem.hint
    return item


def render_json(report: Report, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
    stream.write(json.dumps(report_to_json(report), indent=2, ensure_ascii=False) + "\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(problem: Problem, file: str) -> str:
    """One workflow command: ``::error file=F,line=L,col=C,title=CODE::message``."""
    props = [f"file={_escape_property(problem.file or file)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.column is not None:
            props.append(f"col={problem.column}")
    props.append(f"title={_escape_property(problem.code)}")
    text = f"{problem.path}: {problem.message}" if problem.path else problem.message
    if problem.hint:
        text = f"{text} ({problem.hint})"
    return f"::{problem.severity} {','.join(props)}::{_escape_data(text)}"


def render_github(report: Report, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
    for file in report.files:
        stream.writelines(github_line(problem, file.path) + "\n" for problem in file.problems)
    stream.write(report.summary() + "\n")


Renderer = Callable[[Report, TextIO, "Mapping[str, str] | None"], None]


REPORT_BY_NAME: dict[Format, Renderer] = {"text": render_text, "json": render_json, "github": render_github}


def render(report: Report, fmt: Format, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
    """Write ``report`` to ``stream`` in format ``fmt``."""
    REPORT_BY_NAME[fmt](report, stream, environ)


__all__ = [
    "FORMATS",
    "REPORT_BY_NAME",
    "REPORT_SCHEMA",
    "FileReport",
    "Format",
    "Report",
    "github_line",
    "promote_warnings",
    "render",
    "render_github",
    "render_json",
    "render_text",
    "report_to_json",
]
