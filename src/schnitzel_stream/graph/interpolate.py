"""``${...}`` references inside node configs.

- ``${state}``, ``${config}``, ``${logs}``: the path classes (:class:`~schnitzel_stream.paths.PathSet`);
- ``${NAME}``: the environment variable ``NAME``; ``${NAME:-default}`` uses ``default`` when
  ``NAME`` is unset or empty (the default may hold references itself: ``${DIR:-${state}}``);
- ``$${`` is a literal ``${``; a ``$`` anywhere else is just a dollar sign.

Only strings are interpolated (never keys, numbers or booleans), so a value keeps its
type. Every missing variable is reported with the location of the string that needs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schnitzel_stream.graph.findings import Finding, JsonPath
from schnitzel_stream.paths import PATH_CLASSES, PathSet

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class Interpolated:
    """The interpolated value, the problems found, and which strings held references.

    ``unresolved`` strings still hold a reference that could not be resolved, so a schema
    complaint about them would only repeat the real problem.
    """

    value: Any
    findings: list[Finding] = field(default_factory=list)
    references: set[JsonPath] = field(default_factory=set)
    unresolved: set[JsonPath] = field(default_factory=set)


def interpolate(
    value: Any, *, paths: PathSet | None, environ: Mapping[str, str], base: JsonPath = ()
) -> Interpolated:
    """Interpolate every string inside ``value`` (a copy is returned; ``value`` is untouched)."""
    result = Interpolated(value=None)
    result.value = _walk(value, paths, environ, base, result)
    return result


def _walk(
    value: Any, paths: PathSet | None, environ: Mapping[str, str], at: JsonPath, out: Interpolated
) -> Any:
    if isinstance(value, str):
        return _string(value, paths, environ, at, out) if "$" in value else value
    if isinstance(value, dict):
        return {key: _walk(item, paths, environ, (*at, key), out) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, paths, environ, (*at, i), out) for i, item in enumerate(value)]
    return value


def _string(
    text: str, paths: PathSet | None, environ: Mapping[str, str], at: JsonPath, out: Interpolated
) -> str:
    parts: list[str] = []
    i = 0
    ok = True
    while True:
        j = text.find("$", i)
        if j < 0:
            parts.append(text[i:])
            break
        parts.append(text[i:j])
        if text.startswith("$${", j):
            parts.append("${")
            i = j + 3
            continue
        if not text.startswith("${", j):
            parts.append("$")
            i = j + 1
            continue
        end = _closing_brace(text, j + 2)
        if end < 0:
            out.findings.append(
                Finding(
                    "interp.syntax",
                    f"unterminated '${{' in {_short(text)}",
                    at,
                    hint="close it with '}', or write '$${' for a literal '${'",
                )
            )
            ok = False
            parts.append(text[j:])
            break
        out.references.add(at)
        resolved = _reference(text[j + 2 : end], paths, environ, at, out)
        if resolved is None:
            ok = False
            parts.append(text[j : end + 1])
        else:
            parts.append(resolved)
        i = end + 1
    if not ok:
        out.unresolved.add(at)
    return "".join(parts)


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that closes a ``${`` opened just before ``start``, or -1."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _reference(
    expr: str, paths: PathSet | None, environ: Mapping[str, str], at: JsonPath, out: Interpolated
) -> str | None:
    name, has_default, default = expr.partition(":-")
    if not _NAME.fullmatch(name):
        out.findings.append(
            Finding(
                "interp.syntax",
                f"'${{{expr}}}' is not a valid reference",
                at,
                hint="write ${NAME} or ${NAME:-default} with a name of letters, digits and underscores, "
                "or '$${' for a literal '${'",
            )
        )
        return None
    if name in PATH_CLASSES:
        if paths is None:
            out.findings.append(Finding("interp.no-paths", f"'${{{name}}}' needs the path classes", at))
            return None
        return paths.as_dict()[name]
    found = environ.get(name)
    if found:
        return found
    if has_default:
        if "$" not in default:
            return default
        # Only a default that is used gets resolved, so its own references are only needed then.
        before = len(out.findings)
        resolved = _string(default, paths, environ, at, out)
        return resolved if len(out.findings) == before else None
    if found is not None:  # set but empty: an empty value is what the operator asked for
        return found
    out.findings.append(
        Finding(
            "interp.missing-env",
            f"environment variable {name!r} is not set",
            at,
            hint=f"set it, or give a default: ${{{name}:-default}}",
        )
    )
    return None


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


__all__ = ["Interpolated", "interpolate"]
