"""The text report: one line per problem, the offending source line quoted with a caret.

Both renderers draw the same styled segments; :func:`render_plain` drops the styles and
:func:`render_rich` hands them to rich (imported only here, as it costs ~0.07 s).

::

    graphs/cam.yaml:12:7: error: nodes[2].config.url: expected a string, got 42 [schema.type]
       12 |       url: 42
          |       ^
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TextIO

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import FileReport, Report

Segment = tuple[str, str]  # (text, rich style; "" for none)
_WIDTH = 120


def problem_lines(problem: Problem, file: FileReport, lines: list[str] | None) -> Iterator[list[Segment]]:
    """The problem's line, then the source line it points at (from ``lines``) with a caret."""
    parts = [problem.file or file.path]
    if problem.line is not None:
        parts.append(str(problem.line))
        if problem.column is not None:
            parts.append(str(problem.column))
    location = ":".join(parts)
    severity_style = "bold red" if problem.severity == "error" else "bold yellow"
    head: list[Segment] = [(f"{location}: ", "bold"), (f"{problem.severity}: ", severity_style)]
    if problem.path:
        head.append((f"{problem.path}: ", "cyan"))
    head.append((problem.message, ""))
    if problem.hint:
        head.append((f" ({problem.hint})", "green"))
    head.append((f" [{problem.code}]", "dim"))
    yield head
    if lines is None or problem.line is None or not 1 <= problem.line <= len(lines):
        return
    text = lines[problem.line - 1].rstrip("\r")
    column = max(1, problem.column or 1)
    text, column = _window(text, column)
    number = str(problem.line)
    gutter = " " * len(number)
    yield [(f"  {number} | ", "dim"), (text, "")]
    # Copy tabs from the quoted line so the caret lands under the right character.
    pad = "".join(ch if ch == "\t" else " " for ch in text[: column - 1])
    yield [(f"  {gutter} | ", "dim"), (pad, ""), ("^", severity_style)]


def _window(text: str, column: int) -> tuple[str, int]:
    """Cut a long line down to a window around ``column``."""
    if len(text) <= _WIDTH:
        return text, column
    start = max(0, min(column - 1 - _WIDTH // 2, len(text) - _WIDTH))
    piece = text[start : start + _WIDTH]
    prefix = "..." if start else ""
    suffix = "..." if start + _WIDTH < len(text) else ""
    return prefix + piece + suffix, column - start + len(prefix)


def _report_lines(report: Report) -> Iterator[list[Segment]]:
    for file in report.files:
        lines = file.source.split("\n") if file.source is not None else None
        for problem in file.problems:
            yield from problem_lines(problem, file, lines)
        if file.valid:
            note = f" ({file.warnings} warning{'s' if file.warnings != 1 else ''})" if file.warnings else ""
            yield [(f"{file.path}: ", "bold"), ("valid", "bold green"), (note, "yellow")]
    yield [(report.summary(), "bold green" if report.valid else "bold red")]


def write_lines(lines: Iterable[list[Segment]], stream: TextIO, *, colour: bool) -> None:
    """Styled lines to ``stream``: through rich in colour, or as plain text without escapes."""
    if not colour:
        stream.writelines("".join(text for text, _ in segments) + "\n" for segments in lines)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for segments in lines:
        console.print(Text.assemble(*[(text, style) if style else text for text, style in segments]))


def render_plain(report: Report, stream: TextIO) -> None:
    """The report without colour or escape sequences."""
    write_lines(_report_lines(report), stream, colour=False)


def render_rich(report: Report, stream: TextIO) -> None:
    """The report in colour for a terminal."""
    write_lines(_report_lines(report), stream, colour=True)
