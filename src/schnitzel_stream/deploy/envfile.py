"""The env file of a deployment root: ``NAME=value`` lines in systemd's ``EnvironmentFile=`` format.

One format for every OS: systemd reads it itself (``EnvironmentFile=``), and the runtime reads
it with ``--env-file`` where the service manager cannot (launchd, the Windows SCM). The template
writes values with POSIX shell single quotes (``'it'"'"'s'``), which both systemd and ``sh``
read the same way.

The grammar is systemd's, line by line:

- blank lines and lines whose first non-blank character is ``#`` or ``;`` are comments;
- ``NAME=value``: whitespace around ``NAME`` and before the value is dropped; an unquoted
  value loses its trailing whitespace and ``\\`` escapes the next character;
- ``'...'`` keeps everything literally; ``"..."`` unescapes ``\\"``, ``\\\\``, ``\\``` and
  ``\\$`` and keeps any other backslash; quoted and unquoted parts that follow each other
  are joined, and a quote inside an unquoted part is an ordinary character (as in systemd).

Unlike systemd, values that continue on the next line are refused: a value is one line.
Values that are not UTF-8 are kept byte for byte (Python's surrogate escapes), as systemd
keeps them; names are ASCII.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from schnitzel_stream.errors import Problem

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_BYTES = 1 << 20
#: Characters that a ``\\`` unescapes inside double quotes (systemd's SHELL_NEED_ESCAPE).
_DQ_ESCAPES = '"\\`$'


@dataclass(frozen=True, slots=True)
class EnvEntry:
    """One assignment: the name, the decoded value and its 1-based line."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class EnvFile:
    """A parsed env file: its assignments in order, and the problems found."""

    path: str
    entries: tuple[EnvEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    def as_dict(self) -> dict[str, str]:
        """The variables; a name assigned twice keeps its last value, as systemd does."""
        return {entry.name: entry.value for entry in self.entries}

    def line_of(self, name: str) -> int | None:
        """The line of the last assignment of ``name``."""
        found = [entry.line for entry in self.entries if entry.name == name]
        return found[-1] if found else None


def quote_value(value: str) -> str:
    """``value`` written so that systemd, ``sh`` and :func:`parse_env_text` read it back unchanged."""
    return shlex.quote(value)


def read_env_file(path: str | Path) -> EnvFile:
    """Read and parse ``path``; a missing or unreadable file is a problem, not an exception."""
    name = str(path)
    target = Path(path)
    try:
        size = target.stat().st_size
        if size > MAX_BYTES:
            return EnvFile(
                name, problems=(_problem(name, None, "env.too-large", "the env file is over 1 MiB"),)
            )
        data = target.read_bytes()
    except FileNotFoundError:
        return EnvFile(name, problems=(_problem(name, None, "env.missing", "no such file"),))
    except OSError as exc:
        return EnvFile(
            name, problems=(_problem(name, None, "env.unreadable", f"cannot read it: {exc.strerror}"),)
        )
    # Bytes that are not UTF-8 pass through as surrogate escapes, as systemd passes them to the
    # process: os.environ turns them back into the same bytes, and validate refuses such a value
    # where a graph uses it (interp.encoding), with the graph's file and line.
    return parse_env_text(data.decode("utf-8", "surrogateescape"), name)


def parse_env_text(text: str, file: str) -> EnvFile:
    """Parse env file text that came from ``file`` (named in problems)."""
    entries: list[EnvEntry] = []
    problems: list[Problem] = []
    for number, raw in enumerate(_LINE_BREAK.split(text), start=1):
        line = raw.strip(" \t")
        if not line or line[0] in "#;":
            continue
        name, sep, rest = line.partition("=")
        name = name.strip(" \t")
        if not sep:
            problems.append(
                _problem(
                    file, number, "env.syntax", "expected NAME=value", hint="comment the line out with '#'"
                )
            )
            continue
        if not ENV_NAME.fullmatch(name):
            hint = "drop the 'export ' prefix" if name.startswith("export ") else None
            problems.append(
                _problem(
                    file,
                    number,
                    "env.name",
                    f"{name!r} is not a valid variable name (letters, digits and '_', not starting with a digit)",
                    hint=hint,
                )
            )
            continue
        value, error = _decode_value(rest)
        if error is not None:
            problems.append(_problem(file, number, "env.syntax", f"{name}: {error}", hint=_QUOTE_HINT))
            continue
        entries.append(EnvEntry(name, value, number))
    return EnvFile(file, tuple(entries), tuple(problems))


#: systemd ends an env file line at LF or CR (and sh at LF); str.splitlines() would also end
#: it at U+0085, U+2028, VT, FF and others, which both keep inside a value.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

_QUOTE_HINT = "quote the value like a shell single-quoted string: 'value' (write ' as '\"'\"')"


def _decode_value(text: str) -> tuple[str, str | None]:
    """The value after ``=``, decoded; or an error message."""
    out: list[str] = []
    i = 0
    n = len(text)
    trailing_ws_from: int | None = None  # index in ``out`` where unquoted trailing whitespace starts
    in_unquoted = False
    while i < n:
        c = text[i]
        if not in_unquoted and c in " \t":
            i += 1  # whitespace before a value (or between quoted parts) is skipped
            continue
        if not in_unquoted and c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                return "", "the single quote is not closed on this line"
            out.append(text[i + 1 : end])
            i = end + 1
            continue
        if not in_unquoted and c == '"':
            i, error = _double_quoted(text, i + 1, out)
            if error is not None:
                return "", error
            continue
        # An unquoted part runs to the end of the line; quotes in it are ordinary characters.
        in_unquoted = True
        if c == "\\":
            if i + 1 >= n:
                return "", "a trailing backslash would continue the value on the next line"
            out.append(text[i + 1])
            trailing_ws_from = None
            i += 2
            continue
        if c in " \t":
            if trailing_ws_from is None:
                trailing_ws_from = len(out)
        else:
            trailing_ws_from = None
        out.append(c)
        i += 1
    if trailing_ws_from is not None:
        del out[trailing_ws_from:]
    return "".join(out), None


def _double_quoted(text: str, i: int, out: list[str]) -> tuple[int, str | None]:
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return i + 1, None
        if c == "\\":
            if i + 1 >= n:
                break
            nxt = text[i + 1]
            out.append(nxt if nxt in _DQ_ESCAPES else "\\" + nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return n, "the double quote is not closed on this line"


def _problem(file: str, line: int | None, code: str, message: str, hint: str | None = None) -> Problem:
    return Problem(code=code, message=message, file=file, line=line, hint=hint)
