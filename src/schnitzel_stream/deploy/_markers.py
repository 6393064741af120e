"""Environment markers (PEP 508) of a lock export, evaluated without ``packaging``.

``uv export`` writes markers such as ``python_full_version < '3.12'`` or
``sys_platform == 'win32' and platform_machine == 'x86_64'``. ``packaging`` is not a runtime
dependency, so this evaluates the marker grammar itself: comparisons of a variable and a
quoted string, ``and``, ``or`` and parentheses. Version variables compare as versions.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Mapping

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lpar>\() | (?P<rpar>\)) |
        (?P<op>===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b) |
        (?P<bool>and\b|or\b) |
        (?P<str>'[^']*'|"[^"]*") |
        (?P<var>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_VERSION_VARS = frozenset({"python_version", "python_full_version", "implementation_version"})


class MarkerError(ValueError):
    """A marker this evaluator does not understand."""


def environment(python_version: str | None = None) -> dict[str, str]:
    """The marker variables of this machine; ``python_version`` overrides the interpreter's (a venv's)."""
    full = python_version or platform.python_version()
    parts = full.split(".")
    return {
        "python_version": ".".join(parts[:2]),
        "python_full_version": full,
        "implementation_name": sys.implementation.name,
        "implementation_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "os_name": os.name,
    }


def evaluate(marker: str, env: Mapping[str, str]) -> bool:
    """True when ``marker`` holds in ``env``. Raises :class:`MarkerError` for what it cannot read."""
    tokens = _tokenize(marker)
    value, pos = _or(tokens, 0, env)
    if pos != len(tokens):
        raise MarkerError(f"unexpected {tokens[pos][1]!r} in marker {marker!r}")
    return value


def _tokenize(marker: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = marker.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise MarkerError(f"cannot read marker {marker!r} at {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _or(tokens: list[tuple[str, str]], pos: int, env: Mapping[str, str]) -> tuple[bool, int]:
    value, pos = _and(tokens, pos, env)
    while pos < len(tokens) and tokens[pos] == ("bool", "or"):
        right, pos = _and(tokens, pos + 1, env)
        value = value or right
    return value, pos


def _and(tokens: list[tuple[str, str]], pos: int, env: Mapping[str, str]) -> tuple[bool, int]:
    value, pos = _atom(tokens, pos, env)
    while pos < len(tokens) and tokens[pos] == ("bool", "and"):
        right, pos = _atom(tokens, pos + 1, env)
        value = value and right
    return value, pos


def _atom(tokens: list[tuple[str, str]], pos: int, env: Mapping[str, str]) -> tuple[bool, int]:
    if pos < len(tokens) and tokens[pos][0] == "lpar":
        value, pos = _or(tokens, pos + 1, env)
        if pos >= len(tokens) or tokens[pos][0] != "rpar":
            raise MarkerError("unbalanced parentheses in marker")
        return value, pos + 1
    if pos + 2 >= len(tokens):
        raise MarkerError("incomplete comparison in marker")
    (lkind, left), (okind, op), (rkind, right) = tokens[pos], tokens[pos + 1], tokens[pos + 2]
    if okind != "op" or {lkind, rkind} != {"var", "str"}:
        raise MarkerError(f"cannot compare {left!r} {op!r} {right!r}")
    name = left if lkind == "var" else right
    if name not in env:
        raise MarkerError(f"unknown marker variable {name!r}")
    lhs = env[left] if lkind == "var" else left[1:-1]
    rhs = env[right] if rkind == "var" else right[1:-1]
    return _compare(lhs, " ".join(op.split()), rhs, version=name in _VERSION_VARS), pos + 3


def _compare(lhs: str, op: str, rhs: str, *, version: bool) -> bool:
    if op == "in":
        return lhs in rhs
    if op == "not in":
        return lhs not in rhs
    if op == "===":
        return lhs == rhs
    if not version:
        if op == "==":
            return lhs == rhs
        if op == "!=":
            return lhs != rhs
        raise MarkerError(f"{op} needs versions, not {lhs!r} and {rhs!r}")
    a, b = _version(lhs), _version(rhs)
    if op == "~=":
        prefix = _version(rhs)[:-1] if len(_version(rhs)) > 1 else _version(rhs)
        return a >= b and a[: len(prefix)] == prefix
    width = max(len(a), len(b))
    a, b = a + (0,) * (width - len(a)), b + (0,) * (width - len(b))
    results = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    return results[op]


def _version(text: str) -> tuple[int, ...]:
    """The release numbers of a version (``3.11.2rc1`` -> ``(3, 11, 2)``)."""
    numbers: list[int] = []
    for part in text.split("."):
        digits = re.match(r"\d+", part)
        if not digits:
            break
        numbers.append(int(digits.group()))
        if digits.end() != len(part):
            break
    return tuple(numbers)
