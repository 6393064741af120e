"""Every built-in node's config schema is complete enough to publish and to guide an editor.

The published ``graph.schema.json`` is all an operator's editor knows about a node, so each
config schema must close its mapping (``additionalProperties: false``, which is also what
makes "unknown key 'widht'" possible), and every property needs a title, a description,
examples, and a default unless it is required.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream.graph.schema import RUNTIME_SCHEMA
from schnitzel_stream.nodes.base import NodeSpec
from schnitzel_stream.nodes.registry import builtin_specs

SPECS = builtin_specs()


def _objects(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema with ``properties`` inside ``schema`` (items and nested objects too)."""
    if isinstance(schema, dict):
        if isinstance(schema.get("properties"), dict):
            yield where, schema
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _objects(sub, f"{where}.{name}")
            elif key in ("items", "additionalProperties") or key.endswith("Of") or key == "$defs":
                yield from _objects(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, item in enumerate(schema):
            yield from _objects(item, f"{where}[{i}]")


def _required(obj: dict[str, Any]) -> set[str]:
    """Required keys, counting those an ``anyOf``/``oneOf`` branch requires (url or url_from_env)."""
    names = set(obj.get("required", ()))
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in obj.get(key, ()):
            if isinstance(branch, dict):
                names.update(branch.get("required", ()))
    return names


def test_there_are_built_in_nodes() -> None:
    expected = {
        "static_source",
        "identity",
        "print_sink",
        "synthetic_camera",
        "motion_detector",
        "jsonl_sink",
    }
    assert expected <= set(SPECS)


@pytest.mark.parametrize("spec", [pytest.param(spec, id=name) for name, spec in SPECS.items()])
def test_config_schema_is_complete(spec: NodeSpec) -> None:
    schema = dict(spec.schema)
    Draft202012Validator.check_schema(schema)
    assert schema.get("type") == "object"
    assert spec.title and spec.description
    gaps: list[str] = []
    for where, obj in _objects(schema, spec.name):
        if obj.get("additionalProperties") is not False:
            gaps.append(f"{where}: additionalProperties is not false")
        required = _required(obj)
        for name, prop in obj["properties"].items():
            if not isinstance(prop, dict):
                continue
            for field in ("title", "description"):
                if not prop.get(field):
                    gaps.append(f"{where}.{name}: no {field}")
            if not prop.get("examples"):
                gaps.append(f"{where}.{name}: no examples")
            if name not in required and "default" not in prop:
                gaps.append(f"{where}.{name}: optional but no default")
    assert gaps == []


def test_runtime_schema_meets_the_same_bar() -> None:
    for name, prop in RUNTIME_SCHEMA["properties"].items():
        assert prop.get("title") and prop.get("description") and prop.get("examples"), name
    assert RUNTIME_SCHEMA["additionalProperties"] is False
