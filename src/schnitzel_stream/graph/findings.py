"""JSON paths and findings: problems located by where they sit in the document.

Every stage of validation (schema, interpolation, semantic checks) reports a :class:`Finding`
that names a JSON path as a tuple (``("nodes", 2, "config", "url")``). The pipeline then
turns each into an :class:`~schnitzel_stream.errors.Problem` with a file, line and column
looked up from the loader's position map, and the path written as ``nodes[2].config.url``.
Keeping the tuple until the end means no stage has to parse path strings back.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from schnitzel_stream.errors import Severity

JsonPath = tuple[str | int, ...]
#: Point at the key of a mapping entry (unknown or duplicate keys) or at its value.
Anchor = Literal["key", "value"]

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


#: Longer keys and names are cut in messages and paths: a hostile file may hold a megabyte key.
MAX_SHOWN = 60


def quoted(text: str) -> str:
    """``text`` as ``repr`` shows it (controls escaped), cut to :data:`MAX_SHOWN` characters."""
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "...")


def format_path(path: JsonPath) -> str:
    """``("nodes", 2, "config", "url")`` -> ``nodes[2].config.url``; odd keys are quoted, long ones cut."""
    out: list[str] = []
    for part in path:
        if isinstance(part, str) and len(part) > MAX_SHOWN:
            part = part[: MAX_SHOWN - 3] + "..."
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            # json-style quoting keeps keys with dots, spaces or brackets unambiguous.
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'["{escaped}"]')
    return "".join(out)


class Finding(NamedTuple):
    """A problem before it is located in a file: a code, a plain sentence and a JSON path."""

    code: str
    message: str
    path: JsonPath = ()
    severity: Severity = "error"
    hint: str | None = None
    anchor: Anchor = "value"


def describe_value(value: object) -> str:
    """A short plain-English description of a YAML value for messages (``the string 'abc'``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = value if len(value) <= 160 else value[:157] + "..."
        return f"the string {text!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


__all__ = ["MAX_SHOWN", "Anchor", "Finding", "JsonPath", "describe_value", "format_path", "quoted"]
