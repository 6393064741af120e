"""The text report: one line per problem, the offending source line quoted with a caret.

Both renderers draw the same styled segments; :func:`render_plain` drops the styles and
:func:`render_rich` hands them to rich (imported only here, as it costs ~0.07 s).
:func:`render_text` picks one with the package's one colour decision
(:func:`~schnitzel_stream.colour.use_colour`: ``NO_COLOR``, ``FORCE_COLOR``, a terminal).

Quoted lines pass through :func:`~schnitzel_stream.redact.redact` first, so a password written
into a URL in the graph does not end up in a CI log. ::

    graphs/cam.yaml:12:7: error: nodes[2].config.url: expected a string, got 42 [schema.type]
       12 |       url: 42
          |       ^
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, TextIO

from schnitzel_stream.colour import use_colour
from schnitzel_stream.errors import Problem

if TYPE_CHECKING:  # report.py imports this module for its renderer table
    from schnitzel_stream.graph.report import FileReport, Report

Segment = tuple[str, str]  # (text, rich style; "" for none)
_WIDTH = 120
#: How far either side of the caret a quoted line is masked (far wider than the window shown).
_MASK_REACH = 4096
#: Format (Cf), control (Cc, but tab) and separator characters that show nothing or move text.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


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
    text, column = lines[problem.line - 1].rstrip("\r"), max(1, problem.column or 1)
    if len(text) > 2 * _MASK_REACH:  # mask a bounded stretch: a megabyte line may hold many problems
        start = max(0, column - 1 - _MASK_REACH)
        text, column = text[start : column - 1 + _MASK_REACH], column - start
    text, column = _window(*_visible(*_masked(text, column)))
    number = str(problem.line)
    gutter = " " * len(number)
    yield [(f"  {number} | ", "dim"), (text, "")]
    # Copy tabs from the quoted line so the caret lands under the right character.
    pad = "".join(ch if ch == "\t" else " " for ch in text[: column - 1])
    yield [(f"  {gutter} | ", "dim"), (pad, ""), ("^", severity_style)]


def _masked(text: str, column: int) -> tuple[str, int]:
    """The quoted line with credentials masked (CI logs keep it), and the caret's column in it.

    The part before the caret is masked on its own to find where the caret lands; when a
    secret spans the caret, the caret moves to where the masked secret starts.
    """
    from schnitzel_stream.redact import redact  # only for a problem's quoted line: valid files never pay

    masked = redact(text)
    if masked == text:
        return text, column
    before = redact(text[: column - 1])
    if masked.startswith(before):
        return masked, len(before) + 1
    return masked, min(column, len(masked) + 1)


def _visible(text: str, column: int) -> tuple[str, int]:
    """Invisible characters (bidi overrides, zero-width spaces, controls) as ``\\u202e`` escapes.

    A quoted line goes to terminals and CI logs; an override there would reorder what people
    read. Tabs stay, so the caret can copy them.
    """
    if not _INVISIBLE.search(text):
        return text, column
    before = _INVISIBLE.sub(_escape, text[: column - 1])
    return before + _INVISIBLE.sub(_escape, text[column - 1 :]), len(before) + 1


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


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


def render_text(report: Report, stream: TextIO, environ: Mapping[str, str] | None = None) -> None:
    """The report in colour when :func:`~schnitzel_stream.colour.use_colour` says so, else plain."""
    if use_colour(stream, environ):
        render_rich(report, stream)
    else:
        render_plain(report, stream)


__all__ = ["problem_lines", "render_plain", "render_rich", "render_text", "write_lines"]
