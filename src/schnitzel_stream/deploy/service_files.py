"""Parsers for the three service file formats, reduced to what the checks compare.

- systemd units (``.service``): sections of ``Key=value`` entries with line numbers, and
  command lines split the way systemd splits ``ExecStart=``;
- launchd property lists (``.plist``), through :mod:`plistlib`;
- Windows command lines (the service definition's ``ImagePath``), split by the Windows rules
  (``CommandLineToArgvW``).

Each parser returns what it could read plus :class:`~schnitzel_stream.errors.Problem`s
naming file and line; none raises for a malformed file.
"""

from __future__ import annotations

import plistlib
import shlex
from dataclasses import dataclass
from typing import Any

from schnitzel_stream.errors import Problem

#: Prefixes systemd allows before an Exec*= command (ignore failure, argv0, no specifiers, ...).
_EXEC_PREFIXES = "-@:+!|"


@dataclass(frozen=True, slots=True)
class UnitEntry:
    section: str
    key: str
    value: str
    line: int


@dataclass(frozen=True, slots=True)
class UnitFile:
    """A parsed unit file; repeated keys keep every entry (``Environment=`` may repeat)."""

    path: str
    entries: tuple[UnitEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    def all(self, section: str, key: str) -> list[UnitEntry]:
        return [entry for entry in self.entries if entry.section == section and entry.key == key]

    def last(self, section: str, key: str) -> UnitEntry | None:
        """The effective entry: systemd lets a later assignment win for single-valued keys."""
        found = self.all(section, key)
        return found[-1] if found else None

    def environment(self) -> dict[str, str]:
        """``Environment=`` assignments of ``[Service]`` (each entry may hold several, quoted)."""
        env: dict[str, str] = {}
        for entry in self.all("Service", "Environment"):
            for word in split_command(entry.value) or []:
                name, sep, value = word.partition("=")
                if sep:
                    env[name] = value
        return env


def parse_unit(text: str, file: str) -> UnitFile:
    """Parse a systemd unit file's text (continuation lines joined, comments dropped)."""
    entries: list[UnitEntry] = []
    problems: list[Problem] = []
    section: str | None = None
    pending: tuple[str, int] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if pending is not None:
            if raw.lstrip().startswith(("#", ";")):
                continue  # comments inside a continued line are skipped, as systemd does
            joined, start = pending
            raw = f"{joined} {raw.strip()}"
            number = start
            pending = None
        line = raw.strip()
        if line.endswith("\\") and not line.startswith(("#", ";")):
            pending = (line[:-1].rstrip(), number)
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("service.syntax", "expected Key=value", file=file, line=number))
            continue
        if section is None:
            problems.append(
                Problem("service.syntax", "an entry before the first [Section]", file=file, line=number)
            )
            continue
        entries.append(UnitEntry(section, key.strip(), value.strip(), number))
    if pending is not None:
        problems.append(
            Problem("service.syntax", "the file ends inside a continued line", file=file, line=pending[1])
        )
    return UnitFile(file, tuple(entries), tuple(problems))


def split_command(value: str) -> list[str] | None:
    """Split an ``Exec*=`` or ``Environment=`` value into words; ``None`` when quoting is broken."""
    body = value.lstrip(_EXEC_PREFIXES)
    try:
        words = shlex.split(body, posix=True)
    except ValueError:
        return None
    return [word.replace("%%", "%") for word in words]


def parse_plist(data: bytes, file: str) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Parse a property list; the top level must be a dictionary."""
    try:
        loaded = plistlib.loads(data)
    except Exception as exc:  # noqa: BLE001 - plistlib raises several unrelated types for bad input
        return None, [Problem("service.parse", f"not a valid property list: {exc}", file=file)]
    if not isinstance(loaded, dict):
        return None, [Problem("service.parse", "the property list is not a dictionary", file=file)]
    return loaded, []


def plist_key_line(text: str, key: str) -> int | None:
    """The line of ``<key>KEY</key>`` in a plist's text, to point problems at it."""
    needle = f"<key>{key}</key>"
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def split_windows_args(text: str) -> list[str]:
    """Split a command line as ``CommandLineToArgvW`` and the MSVC runtime do.

    Whitespace separates arguments outside double quotes; ``2n`` backslashes before a quote
    become ``n`` backslashes and the quote toggles quoting; ``2n+1`` become ``n`` and a
    literal quote; ``""`` inside quotes is a literal quote; other backslashes are literal.
    """
    args: list[str] = []
    current: list[str] = []
    in_quotes = False
    have_arg = False
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            j = i
            while j < n and text[j] == "\\":
                j += 1
            count = j - i
            if j < n and text[j] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    i = j + 1
                else:
                    i = j
                have_arg = True
                continue
            current.append("\\" * count)
            have_arg = True
            i = j
            continue
        if c == '"':
            if in_quotes and i + 1 < n and text[i + 1] == '"':
                current.append('"')
                i += 2
                continue
            in_quotes = not in_quotes
            have_arg = True
            i += 1
            continue
        if c in " \t" and not in_quotes:
            if have_arg:
                args.append("".join(current))
                current, have_arg = [], False
            i += 1
            continue
        current.append(c)
        have_arg = True
        i += 1
    if have_arg:
        args.append("".join(current))
    return args
