"""Settings from the schema: a node's defaults are written once, in its JSON Schema.

A node's config arrives validated against ``SPEC.schema`` but with only the keys the graph
author wrote. :func:`with_defaults` merges it over the schema's ``default`` values, the way
a validator that fills in defaults would, recursing into nested objects and into the items
of arrays of objects. A node then builds its typed settings from the merged mapping with
plain indexing (``merged["timeout_sec"]``), never ``config.get(key, default)``: a default
written in code would be a second copy that can drift from the published schema.
``tests/unit/test_settings_from_schema.py`` fails when one appears.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["schema_defaults", "with_defaults"]


def schema_defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The ``default`` of every property of an object schema that declares one (copies)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    return {
        key: copy.deepcopy(prop["default"])
        for key, prop in properties.items()
        if isinstance(prop, Mapping) and "default" in prop
    }


def with_defaults(schema: Mapping[str, Any], config: Mapping[str, Any] | None) -> dict[str, Any]:
    """``config`` over the schema's defaults, recursively; neither argument is changed.

    A key the config gives (``null`` included) wins over its default. A nested object the
    config gives is filled from its own property schema; so is every object in an array
    whose ``items`` schema has properties. Defaults are deep copies, so a node that changes
    its settings never changes the schema.
    """
    merged = schema_defaults(schema)
    properties: Mapping[str, Any] = schema.get("properties") or {}
    for key, value in (config or {}).items():
        merged[key] = _fill(properties.get(key), value)
    return merged


def _fill(prop: Any, value: Any) -> Any:
    if not isinstance(prop, Mapping):
        return value
    if isinstance(value, Mapping) and "properties" in prop:
        return with_defaults(prop, value)
    items = prop.get("items")
    if isinstance(value, list) and isinstance(items, Mapping) and "properties" in items:
        return [with_defaults(items, item) if isinstance(item, Mapping) else item for item in value]
    return value
