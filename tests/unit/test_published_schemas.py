"""``schemas/*.schema.json`` are exactly what ``schnitzel-stream schema`` prints: never stale."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream import graphtest
from schnitzel_stream.cli.__main__ import build_parser
from schnitzel_stream.graph import schema as graph_schema
from schnitzel_stream.graph.schema import schema_text

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
#: Every published schema: the graph layer's and the graph-test package's.
PUBLISHED_SCHEMAS = (*graph_schema.PUBLISHED_SCHEMAS, *graphtest.PUBLISHED_SCHEMAS)


def published_schema(name: str) -> dict[str, Any]:
    if name in graph_schema.PUBLISHED_SCHEMAS:
        return graph_schema.published_schema(name)
    return graphtest.published_schema(name)


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


def test_the_schema_command_offers_every_published_schema() -> None:
    subcommands = next(
        a for a in build_parser(every_command=True)._actions if isinstance(a, argparse._SubParsersAction)
    )
    name_option = next(a for a in subcommands.choices["schema"]._actions if "--name" in a.option_strings)
    assert sorted(name_option.choices or ()) == sorted(PUBLISHED_SCHEMAS)
