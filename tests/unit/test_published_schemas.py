"""``schemas/*.schema.json`` are exactly what ``schnitzel-stream schema`` prints: never stale."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream.graph.schema import PUBLISHED_SCHEMAS, published_schema, schema_text

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@pytest.mark.parametrize("name", PUBLISHED_SCHEMAS)
def test_committed_schema_is_current(name: str) -> None:
    path = SCHEMAS / f"{name}.schema.json"
    regenerate = f"uv run schnitzel-stream schema --name {name} --output schemas/{name}.schema.json"
    assert path.is_file(), f"{path} is missing; create it with: {regenerate}"
    committed = path.read_text(encoding="utf-8")
    assert committed == schema_text(published_schema(name)), (
        f"{path.name} is stale; regenerate it with: {regenerate}"
    )


@pytest.mark.parametrize("name", PUBLISHED_SCHEMAS)
def test_published_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json")
    assert schema["title"] and schema["description"]


def test_no_stray_schema_files() -> None:
    found = sorted(path.name for path in SCHEMAS.glob("*.json"))
    assert found == sorted(f"{name}.schema.json" for name in PUBLISHED_SCHEMAS)
