"""Subset patterns: does a packet contain what ``all``/``any``/``none`` ask for?

A mapping pattern matches a mapping that has every key of the pattern with a matching value
(more keys are fine); a list pattern matches a list of the same length item by item; any
other value must be equal, with JSON's types: ``1`` matches ``1`` and ``1.0`` but never
``true``, and nothing matches an in-process value such as a frame array.

:func:`mismatch` says *where* a packet first differs, as a JSON path and a sentence, so a
failing case can show exactly what was seen instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schnitzel_stream.graph.findings import JsonPath, format_path

_JSON_SCALARS = (str, int, float, bool, type(None))


def describe(value: Any) -> str:
    """A short rendering of a value seen in a packet, for messages."""
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} shape={tuple(shape)}" if shape is not None else type(value).__name__


def _equal(pattern: Any, value: Any) -> bool:
    if not isinstance(value, _JSON_SCALARS):
        return False  # a frame (numpy array) or another in-process object: never equal to YAML
    if isinstance(pattern, bool) or isinstance(value, bool):
        return type(pattern) is type(value) and pattern == value
    if isinstance(pattern, (int, float)) and isinstance(value, (int, float)):
        return pattern == value
    return type(pattern) is type(value) and bool(pattern == value)


def mismatch(pattern: Any, value: Any, at: JsonPath = ()) -> tuple[JsonPath, str] | None:
    """None when ``value`` contains ``pattern``; else where and how it first differs."""
    if isinstance(pattern, Mapping):
        if not isinstance(value, Mapping):
            return at, f"expected a mapping, got {describe(value)}"
        for key, wanted in pattern.items():
            if key not in value:
                return (*at, key), "is missing"
            found = mismatch(wanted, value[key], (*at, key))
            if found is not None:
                return found
        return None
    if isinstance(pattern, list):
        if not isinstance(value, (list, tuple)):
            return at, f"expected a list, got {describe(value)}"
        if len(value) != len(pattern):
            return at, f"expected a list of {len(pattern)}, got {describe(value)}"
        for index, (wanted, item) in enumerate(zip(pattern, value, strict=True)):
            found = mismatch(wanted, item, (*at, index))
            if found is not None:
                return found
        return None
    if _equal(pattern, value):
        return None
    return at, f"expected {describe(pattern)}, got {describe(value)}"


def matches(pattern: Any, value: Any) -> bool:
    return mismatch(pattern, value) is None


def explain(found: tuple[JsonPath, str]) -> str:
    """``payload.event_type: expected 'motion', got 'error'``."""
    path, reason = found
    return f"{format_path(path)} {reason}" if reason == "is missing" else f"{format_path(path)}: {reason}"
