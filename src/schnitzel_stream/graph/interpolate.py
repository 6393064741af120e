"""``${...}`` references inside node configs.

- ``${state}``, ``${config}``, ``${logs}``: the path classes (:class:`~schnitzel_stream.paths.PathSet`);
- ``${NAME}``: the environment variable ``NAME``; ``${NAME:-default}`` uses ``default`` when
  ``NAME`` is unset or empty (the default may hold references itself: ``${DIR:-${state}}``);
- ``${oc.env:NAME}`` and ``${oc.env:NAME,default}``: OmegaConf's form, which the design this
  project comes from uses. As there, a variable that is set (even to nothing) wins, and the
  default may be quoted (``'a,b'``), ``null`` (the value becomes null), or hold references. It
  works, with a ``compat.oc-env`` warning that names the modern form;
- ``$${`` is a literal ``${``; a ``$`` anywhere else is just a dollar sign.

Only strings are interpolated (never keys, numbers or booleans). Every missing variable is
reported with the location of the string that needs it. Hostile input is bounded: references
nest at most :data:`MAX_DEPTH` deep, one config expands to at most :data:`MAX_EXPANDED`
characters, and a variable whose value is not UTF-8 (bytes a service manager passed through,
which Python holds as surrogate escapes) is refused where it is used, because no sink could
encode it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from schnitzel_stream.graph.findings import Finding, JsonPath, quoted
from schnitzel_stream.paths import PATH_CLASSES, PathSet

MAX_DEPTH = 16
MAX_EXPANDED = 1 << 20
OC_ENV = "oc.env:"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NULL = object()  # an oc.env default of null: the whole value becomes None


class Interpolated:
    """The interpolated value, the problems found, and which strings held references.

    ``unresolved`` strings still hold a reference that could not be resolved, so a schema
    complaint about them would only repeat the real problem. ``expanded`` counts the
    characters references have added so far (bounded by :data:`MAX_EXPANDED`).
    """

    __slots__ = ("expanded", "findings", "references", "unresolved", "value")

    def __init__(self, value: Any = None) -> None:
        self.value = value
        self.findings: list[Finding] = []
        self.references: set[JsonPath] = set()
        self.unresolved: set[JsonPath] = set()
        self.expanded = 0


class _Context(NamedTuple):
    """Where a string is interpolated: the path classes, the environment, its path, the result."""

    paths: PathSet | None
    environ: Mapping[str, str]
    at: JsonPath
    out: Interpolated


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
        if "$" not in value:
            return value
        context = _Context(paths, environ, at, out)
        resolved = _string(value, context, depth=0)
        if resolved is _NULL:
            return None
        if isinstance(resolved, str):
            out.expanded += len(resolved)
            if out.expanded > MAX_EXPANDED:
                _fail(
                    context,
                    "interp.too-large",
                    f"references expand this config past {MAX_EXPANDED >> 20} MiB",
                )
                return value
            return resolved
        return value
    if isinstance(value, dict):
        return {key: _walk(item, paths, environ, (*at, key), out) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, paths, environ, (*at, i), out) for i, item in enumerate(value)]
    return value


def _fail(context: _Context, code: str, message: str, hint: str | None = None) -> None:
    context.out.findings.append(Finding(code, message, context.at, hint=hint))
    context.out.unresolved.add(context.at)


def _string(text: str, context: _Context, *, depth: int) -> str | object | None:
    """``text`` with its references resolved; None after a reported problem; _NULL for a null default."""
    parts: list[str] = []
    failed = False  # go on after a missing variable, so that every one is reported
    i = 0
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
        if depth >= MAX_DEPTH:
            _fail(context, "interp.too-deep", f"references nest deeper than {MAX_DEPTH} levels")
            return None
        end = _closing_brace(text, j + 2)
        if end < 0:
            hint = "close it with '}', or write '$${' for a literal '${'"
            _fail(context, "interp.syntax", f"unterminated '${{' in {_short(text)}", hint)
            return None
        context.out.references.add(context.at)
        resolved = _reference(text[j + 2 : end], context, depth=depth)
        if resolved is None:
            failed = True
            i = end + 1
            continue
        if resolved is _NULL:
            if j == 0 and end == len(text) - 1:
                return _NULL
            _fail(context, "interp.syntax", "a null default only works for a value that is one reference")
            return None
        parts.append(str(resolved))
        i = end + 1
    return None if failed else "".join(parts)


def _closing_brace(text: str, start: int) -> int:
    """Index of the ``}`` that closes a ``${`` opened just before ``start``, or -1.

    Quotes count only in an ``oc.env`` default (after its comma), where ``'a}b'`` is text.
    One pass over ``text``, whatever it holds.
    """
    depth = 1
    i = start
    quote = ""
    in_default = False
    oc_env = text.startswith(OC_ENV, start)
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if char == quote:
                quote = ""
        elif char in "'\"" and in_default:
            quote = char
        elif char == "," and oc_env and depth == 1:
            in_default = True
        elif text.startswith("${", i):
            depth += 1
            i += 2
            continue
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _reference(expr: str, context: _Context, *, depth: int) -> str | object | None:
    if expr.startswith(OC_ENV):
        return _oc_env(expr, context, depth=depth)
    name, has_default, default = expr.partition(":-")
    if not _NAME.fullmatch(name):
        hint = (
            "write ${NAME}, ${NAME:-default} or ${oc.env:NAME,default} with a name of letters, digits "
            "and underscores, or '$${' for a literal '${'"
        )
        if expr.startswith("oc."):
            hint = (
                "of OmegaConf's resolvers only oc.env is supported: ${oc.env:NAME} or ${oc.env:NAME,default}"
            )
        _fail(context, "interp.syntax", f"'${{{_clip(expr)}}}' is not a valid reference", hint)
        return None
    if name in PATH_CLASSES:
        if context.paths is None:
            _fail(context, "interp.no-paths", f"'${{{name}}}' needs the path classes")
            return None
        return context.paths.as_dict()[name]
    found = context.environ.get(name)
    if found:
        return _checked(name, found, context)
    if has_default:
        return _string(default, context, depth=depth + 1) if "$" in default else default
    if found is not None:  # set but empty: an empty value is what the operator asked for
        return found
    _missing(name, context, f"${{{name}:-default}}")
    return None


def _oc_env(expr: str, context: _Context, *, depth: int) -> str | object | None:
    """``oc.env:NAME[,default]`` as OmegaConf resolves it: set (even empty) wins, else the default."""
    name, comma, raw_default = expr[len(OC_ENV) :].partition(",")
    name = name.strip()
    if not _NAME.fullmatch(name):
        _fail(
            context,
            "interp.syntax",
            f"'${{{_clip(expr)}}}' is not a valid reference",
            "write ${oc.env:NAME,default}",
        )
        return None
    modern = f"${{{name}:-{raw_default.strip()}}}" if comma else f"${{{name}}}"
    context.out.findings.append(
        Finding(
            "compat.oc-env",
            f"'${{oc.env:...}}' is OmegaConf's form of a reference; the modern form is {modern!r}",
            context.at,
            severity="warning",
            hint="a variable that is set but empty counts as set here, as in OmegaConf; "
            "${NAME:-default} uses the default for an empty value too",
        )
    )
    found = context.environ.get(name)
    if found is not None:
        return _checked(name, found, context)
    if not comma:
        _missing(name, context, f"${{oc.env:{name},default}}")
        return None
    default = raw_default.strip()
    if default == "null":
        return _NULL
    if default[:1] in ("'", '"'):
        return _quoted(default, context)
    return _string(default, context, depth=depth + 1) if "$" in default else default


def _quoted(text: str, context: _Context) -> str | None:
    quote = text[0]
    out: list[str] = []
    i = 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == quote:
            if text[i + 1 :].strip():
                break  # text after the closing quote
            return "".join(out)
        out.append(char)
        i += 1
    _fail(context, "interp.syntax", f"the quoted default {_short(text)} is not one closed string")
    return None


def _checked(name: str, value: str, context: _Context) -> str | None:
    """``value`` unless it is not UTF-8 (Python holds such bytes as surrogate escapes)."""
    bad = _SURROGATE.search(value)
    if bad is None:
        return value
    byte = ord(bad.group()) - 0xDC00
    shown = f"byte 0x{byte:02x}" if 0x80 <= byte <= 0xFF else f"U+{ord(bad.group()):04X}"
    _fail(
        context,
        "interp.encoding",
        f"environment variable {quoted(name)} is not valid UTF-8 ({shown} at offset {bad.start()})",
        "write the value as UTF-8 in the env file or the service's environment",
    )
    return None


def _missing(name: str, context: _Context, example: str) -> None:
    hint = f"set it, or give a default: {example}"
    context.out.findings.append(
        Finding(
            "interp.missing-env", f"environment variable {quoted(name)} is not set", context.at, hint=hint
        )
    )
    context.out.unresolved.add(context.at)


def _short(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["MAX_DEPTH", "MAX_EXPANDED", "Interpolated", "interpolate"]
