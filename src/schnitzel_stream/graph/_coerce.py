"""Typed values from ``${...}``: a string built from references takes the type its key's schema wants.

An environment variable is always text, so ``limit: ${DRAIN_LIMIT}`` would never be an
integer. As in the design this project comes from, such a string is converted when the
node's schema does not take a string at that place but takes an integer, a number, true or
false, or null, and the text reads as one (``100``, ``2.5``, ``true``, ``null``). Text that
reads as none of them stays a string, so the schema reports it, with a hint that names the
reference. Literal strings in the graph file are never converted: only ``${...}`` results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from schnitzel_stream.graph.findings import JsonPath

_INTEGER = re.compile(r"[-+]?[0-9]+")
_NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
_NULLS = frozenset({"null", "~", ""})
_TYPE_WORDS = {"integer": "an integer", "number": "a number", "boolean": "true or false", "null": "null"}


def coerce(schema: Mapping[str, Any], config: Any, paths: Iterable[JsonPath]) -> dict[JsonPath, str]:
    """Convert, in place, the strings of ``config`` at ``paths`` (relative to it) the schema types.

    Returns the paths whose text did not fit, with the types the schema wanted, in words.
    """
    misfits: dict[JsonPath, str] = {}
    for path in sorted(paths, key=len):
        parent, key = _slot(config, path)
        if parent is None:
            continue
        text = parent[key]
        if not isinstance(text, str):
            continue
        wanted = types_at(schema, path)
        if not wanted or "string" in wanted:
            continue  # unknown, or a string is fine: leave it alone
        converted = _convert(text.strip(), wanted)
        if converted is _MISFIT:
            words = [_TYPE_WORDS[name] for name in ("integer", "number", "boolean", "null") if name in wanted]
            if words:
                misfits[path] = " or ".join(words)
            continue
        parent[key] = converted
    return misfits


_MISFIT = object()


def _convert(text: str, wanted: set[str]) -> Any:
    if "integer" in wanted and _INTEGER.fullmatch(text):
        value = int(text)
        if -(2**63) <= value < 2**64:
            return value
    if "number" in wanted and _NUMBER.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return int(text) if _INTEGER.fullmatch(text) else number
    if "boolean" in wanted and text.lower() in _BOOLEANS:
        return _BOOLEANS[text.lower()]
    if "null" in wanted and text.lower() in _NULLS:
        return None
    return _MISFIT


def _slot(value: Any, path: JsonPath) -> tuple[Any, Any]:
    """The container holding ``path`` and the key in it, or (None, None)."""
    if not path:
        return None, None
    for key in path[:-1]:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None, None
    last = path[-1]
    if isinstance(value, dict) and last in value:
        return value, last
    if isinstance(value, list) and isinstance(last, int) and 0 <= last < len(value):
        return value, last
    return None, None


def types_at(schema: Mapping[str, Any], path: JsonPath) -> set[str] | None:
    """The JSON types ``schema`` allows at ``path``; None when some branch does not say."""
    nodes: list[Any] = [schema]
    for key in path:
        nodes = [child for node in _expand(schema, nodes) for child in _children(node, key)]
        if not nodes:
            return None
    found: set[str] = set()
    for node in _expand(schema, nodes):
        if not isinstance(node, dict):
            return None
        declared = node.get("type")
        if isinstance(declared, str):
            found.add(declared)
        elif isinstance(declared, list):
            found.update(name for name in declared if isinstance(name, str))
        elif "enum" in node or "const" in node:
            values = node["enum"] if "enum" in node else [node["const"]]
            found.update(_json_type(value) for value in values)
        else:
            return None
    return found


def _expand(root: Mapping[str, Any], nodes: list[Any], depth: int = 0) -> list[Any]:
    """``nodes`` with ``$ref`` followed and ``allOf``/``anyOf``/``oneOf`` branches added."""
    out: list[Any] = []
    for node in nodes:
        if not isinstance(node, dict):
            out.append(node)
            continue
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/") and depth < 16:
            out.extend(_expand(root, [_pointer(root, ref)], depth + 1))
            continue
        branches = [
            b for key in ("allOf", "anyOf", "oneOf") for b in node.get(key, ()) if isinstance(b, dict)
        ]
        typed = [b for b in branches if "type" in b or "$ref" in b or "enum" in b or "const" in b]
        if typed and "type" not in node:
            out.extend(_expand(root, typed, depth + 1))
        else:
            out.append(node)
    return out


def _children(node: Any, key: str | int) -> list[Any]:
    if not isinstance(node, dict):
        return []
    if isinstance(key, int):
        items = node.get("items")
        return [items] if isinstance(items, dict) else []
    properties = node.get("properties", {})
    if isinstance(properties, dict) and key in properties:
        return [properties[key]]
    extra = node.get("additionalProperties")
    return [extra] if isinstance(extra, dict) else []


def _pointer(root: Mapping[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "object"
