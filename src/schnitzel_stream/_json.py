"""JSON text every parser accepts, whatever floats the value holds.

``json.dumps`` writes NaN and the infinities as the bare words ``NaN`` and ``Infinity``,
which are not JSON: ``jq``, JavaScript's ``JSON.parse`` and most log shippers reject the
whole line or file. Reports, log lines and ``--json`` output can hold such floats (a rate
over a zero interval, a payload read back from a hand-edited queue file), so they are
written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``: still visible to a
reader, and the document stays valid.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps", "finite"]

#: Deeper than this, a value is written as its ``str()`` (a cycle or a hostile nesting).
_MAX_DEPTH = 100


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, **options)`` with non-finite floats as strings (never bare NaN)."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError:  # rare: a non-finite float somewhere, or a cycle
        return json.dumps(finite(value), allow_nan=False, **options)


def _float_text(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _key(key: Any) -> Any:
    return _float_text(key) if isinstance(key, float) and not math.isfinite(key) else key


def finite(value: Any, depth: int = 0) -> Any:
    """``value`` with NaN and the infinities (values and keys) replaced by strings."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _float_text(value)
    if depth > _MAX_DEPTH:
        return str(value)
    if isinstance(value, dict):
        return {_key(key): finite(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item, depth + 1) for item in value]
    return value
