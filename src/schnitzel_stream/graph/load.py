"""Read a graph file safely, with a line and column for every value in it.

Everything a malformed or hostile file can do ends in a :class:`GraphError` whose problems
name the file, line and column, never in a traceback:

- the file is missing, a directory, unreadable, larger than 1 MiB (checked before reading),
  not UTF-8 (the byte offset is reported) or holds control characters;
- YAML syntax errors (with YAML's own mark), tabs used for indentation;
- duplicate keys (both lines named), tags other than plain values (``!!python/...``
  constructs nothing), aliases that expand past a bound (billion laughs), nesting deeper
  than 64 levels, more than one document, a top level that is not a mapping.
"""

from __future__ import annotations

import codecs
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from schnitzel_stream.errors import GraphError, Problem
from schnitzel_stream.graph._yaml_tree import MAX_DEPTH, Position, TreeBuilder, TreeError
from schnitzel_stream.graph.findings import Anchor, JsonPath, describe_value, format_path

MAX_BYTES = 1 << 20

# What YAML's reader refuses: C0/C1 controls other than tab, newline, return and NEL.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceDocument(NamedTuple):
    """A parsed graph file: its text, the top-level mapping, and positions by JSON path."""

    file: str
    text: str
    data: dict[str, Any]
    values: Mapping[JsonPath, Position]
    keys: Mapping[JsonPath, Position]

    def position(self, path: JsonPath, anchor: Anchor = "value") -> Position | None:
        """Where ``path`` starts (its key with ``anchor="key"``), else its nearest known parent."""
        if anchor == "key" and path in self.keys:
            return self.keys[path]
        for cut in range(len(path), -1, -1):
            found = self.values.get(path[:cut])
            if found is not None:
                return found
        return None


def _problem(code: str, message: str, file: str, pos: Position | None, path: JsonPath = ()) -> Problem:
    line, column = pos if pos else (None, None)
    return Problem(code=code, message=message, path=format_path(path), file=file, line=line, column=column)


def read_text(path: str) -> str:
    """The file's text, decoded as UTF-8 (a BOM is dropped). Raises :class:`GraphError`."""
    target = Path(path)
    try:
        info = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise GraphError(_problem("io.missing", "no such file", path, None)) from None
    except OSError as exc:
        raise GraphError(
            _problem("io.unreadable", f"cannot read the file: {exc.strerror}", path, None)
        ) from None
    except ValueError as exc:  # a NUL byte in the name, which no file system accepts
        raise GraphError(_problem("io.unreadable", f"cannot read the file: {exc}", path, None)) from None
    if stat.S_ISDIR(info.st_mode):
        raise GraphError(_problem("io.directory", "this is a directory, not a graph file", path, None))
    if not stat.S_ISREG(info.st_mode):
        raise GraphError(_problem("io.not-a-file", "this is not a regular file", path, None))
    if info.st_size > MAX_BYTES:
        raise GraphError(_too_large(path, info.st_size))
    try:
        with target.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise GraphError(
            _problem("io.unreadable", f"cannot read the file: {exc.strerror}", path, None)
        ) from None
    if len(data) > MAX_BYTES:
        raise GraphError(_too_large(path, len(data)))
    return decode(data, path)


def _too_large(path: str, size: int) -> Problem:
    return _problem(
        "io.too-large",
        f"the file is {size / (1 << 20):.1f} MiB; graph files are limited to {MAX_BYTES >> 20} MiB",
        path,
        None,
    )


def decode(data: bytes, file: str) -> str:
    """Decode UTF-8 strictly; a bad byte is reported with its offset, line and column."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        utf16 = data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        problem = Problem(
            code="io.encoding",
            message=f"the file is not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset}",
            file=file,
            line=line,
            column=column,
            hint="the file looks like UTF-16; save it as UTF-8" if utf16 else "save the file as UTF-8",
        )
        raise GraphError(problem) from None


def load_document(path: str) -> SourceDocument:
    """Read and parse a graph file. Raises :class:`GraphError` with every problem found."""
    return parse_text(read_text(path), path)


def parse_text(text: str, file: str) -> SourceDocument:
    """Parse graph text that came from ``file`` (used in messages). Raises :class:`GraphError`."""
    bad = _NON_PRINTABLE.search(text)
    if bad:
        raise GraphError(
            _problem(
                "yaml.control-char",
                f"the file holds the control character U+{ord(bad.group()):04X}, which YAML does not allow",
                file,
                _line_col(text, bad.start()),
            )
        )
    builder = TreeBuilder()
    try:
        tree = builder.build(yaml.parse(text, Loader=_Loader))
    except TreeError as exc:
        raise GraphError(_problem(exc.code, exc.message, file, (exc.line, exc.column), exc.path)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # A tab on (or just above) the line YAML choked on is the real cause; the scanner may
        # not have reported block scalars yet, so only look there.
        line = mark.line + 1 if mark else 0
        tab = _tab_problem(text, file, [], lines=(line - 1, line))
        raise GraphError(tab or _syntax_problem(exc, file)) from None
    except yaml.YAMLError as exc:
        raise GraphError(
            _problem("yaml.syntax", f"YAML error: {str(exc).splitlines()[0]}", file, None)
        ) from None
    problems = [
        _problem(issue.code, issue.message, file, (issue.line, issue.column), issue.path)
        for issue in tree.issues
    ]
    tab = _tab_problem(text, file, tree.block_scalars, lines=None)
    if tab:
        problems.insert(0, tab)
    if problems:
        raise GraphError(problems)
    if not isinstance(tree.data, dict):
        if tree.data is None:
            message = "the file is empty; a graph file is a mapping with 'version', 'nodes' and 'edges'"
            raise GraphError(_problem("graph.empty", message, file, (1, 1)))
        message = (
            "the top level must be a mapping with 'version', 'nodes' and 'edges', "
            f"not {describe_value(tree.data)}"
        )
        raise GraphError(_problem("graph.not-mapping", message, file, tree.values.get(())))
    return SourceDocument(file=file, text=text, data=tree.data, values=tree.values, keys=tree.keys)


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    pos = (mark.line + 1, mark.column + 1) if mark else None
    problem = (exc.problem or "invalid YAML").strip()
    if "nesting depth" in problem:  # libyaml's own bound (1000) can trip before ours
        return _problem("yaml.too-deep", f"the document nests deeper than {MAX_DEPTH} levels", file, pos)
    message = f"YAML syntax error: {problem}"
    if exc.context:
        where = f" on line {exc.context_mark.line + 1}" if exc.context_mark and exc.problem_mark else ""
        message = f"{message} ({exc.context.strip()}{where})"
    return _problem("yaml.syntax", message, file, pos)


def _tab_problem(
    text: str, file: str, blocks: list[tuple[int, int]], *, lines: tuple[int, int] | None
) -> Problem | None:
    """The first line indented with a tab (within ``lines``), outside literal/folded blocks."""
    if "\t" not in text:
        return None
    for number, line in enumerate(text.split("\n"), start=1):
        if lines is not None and not lines[0] <= number <= lines[1]:
            continue
        content = line.lstrip(" \t")
        indent = line[: len(line) - len(content)]
        if "\t" not in indent or not content.strip() or content.startswith("#"):
            continue
        if any(first < number <= last for first, last in blocks):
            continue
        return Problem(
            code="yaml.tab",
            message="a tab character is used for indentation; YAML indents with spaces only",
            file=file,
            line=number,
            column=indent.index("\t") + 1,
        )
    return None


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return (line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


__all__ = ["MAX_BYTES", "SourceDocument", "decode", "load_document", "parse_text", "read_text"]
