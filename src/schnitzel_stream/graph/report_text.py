"""The text report: one line per problem, the offending source line quoted with a caret.

Both renderers draw the same styled segments; :func:`render_plain` drops the styles and
:func:`render_rich` hands them to rich (imported only here, as it costs ~0.07 s).
:func:`render_text` picks one with the package's one colour decision
(:func:`~schnitzel_stream.colour.use_colour`: ``NO_COLOR``, ``FORCE_COLOR``, a terminal).

::

    graphs/cam.yaml:12:7: error: nodes[2].config.url: expected a string, got 42 [schema.type]
       12 |       url: 42
          |       ^
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TextIO

from schnitzel_stream.colour import use_colour
from schnitzel_stream.errors import Problem

if TYPE_CHECKING:  # report.py imports this module for its renderer table
    from schnitzel_stream.graph.report import FileReport, Report

Segment = tuple[str, str]  # (text, rich style; "" for none)
_WIDTH = 120


def _problem_lines(problem: Problem, file: FileReport, lines: list[str] | None) -> Iterator[list[Segment]]:
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
            yield from _problem_lines(problem, file, lines)
        if file.valid:
            note = f" ({file.warnings} warning{'s' if file.warnings != 1 else ''})" if file.warnings else ""
            yield [(f"{file.path}: ", "bold"), ("valid", "bold green"), (note, "yellow")]
    yield [(report.summary(), "bold green" if report.valid else "bold red")]


def render_plain(report: Report, stream: TextIO) -> None:
    """The report without colour or escape sequences."""
    stream.writelines("".join(text for text, _ in segments) + "\n" for segments in _report_lines(report))


def render_rich(report: Report, stream: TextIO) -> None:
    """The report in colour for a terminal."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
    for segments in _report_lines(report):
        console.print(Text.assemble(*[(text, style) if style else text for text, style in segments]))


def render_text(report: Report, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
    """The report in colour when :func:`~schnitzel_stream.colour.use_colour` says so, else plain."""
    if use_colour(stream, environ):
        render_rich(report, stream)
    else:
        render_plain(report, stream)


__all__ = ["render_plain", "render_rich", "render_text"]
