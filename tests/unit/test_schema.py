"""The graph JSON Schema: the published combined schema, and plain-English errors from jsonschema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from schnitzel_stream.graph._schema_check import config_findings, skeleton_findings
from schnitzel_stream.graph._schema_errors import findings_for
from schnitzel_stream.graph.findings import Finding, format_path
from schnitzel_stream.graph.schema import GRAPH_SCHEMA_ID, document_schema, skeleton_schema
from schnitzel_stream.nodes.base import NodeSpec
from schnitzel_stream.nodes.registry import builtin_specs

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "ops" / "graphs" / "synthetic_camera.yaml"


def _combined_errors(document: Any) -> list[str]:
    validator = Draft202012Validator(document_schema())
    # A __runtime__ error shows twice (the generic config and the plugin's); the place matters.
    return sorted({format_path(tuple(error.absolute_path)) for error in validator.iter_errors(document)})


def _reference() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return data


def test_published_graph_schema_is_a_valid_2020_12_schema() -> None:
    schema = document_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == GRAPH_SCHEMA_ID
    assert schema["title"] and schema["description"]
    assert {f"config.{name}" for name in builtin_specs()} <= set(schema["$defs"])


def test_reference_graph_passes_both_schemas() -> None:
    document = _reference()
    assert _combined_errors(document) == []
    assert skeleton_findings(document) == []


def test_combined_schema_selects_config_by_plugin_name_target_and_allows_runtime() -> None:
    document = _reference()
    document["nodes"][0]["config"]["widht"] = 1
    assert _combined_errors(document) == ["nodes[0].config"]  # additionalProperties at the config
    document["nodes"][0]["config"].pop("widht")
    document["nodes"][1]["plugin"] = "schnitzel_stream.nodes.motion:MotionDetector"
    document["nodes"][1]["config"]["threshold"] = "high"
    assert _combined_errors(document) == ["nodes[1].config.threshold"]
    document["nodes"][1]["config"]["threshold"] = 30
    document["nodes"][1]["config"]["__runtime__"] = {"inbox_max": 8, "inbox_overflow": "drop_oldest"}
    assert _combined_errors(document) == []
    document["nodes"][1]["config"]["__runtime__"] = {"inbox_max": 0}
    assert _combined_errors(document) == ["nodes[1].config.__runtime__.inbox_max"]


def test_combined_schema_checks_the_role_per_plugin() -> None:
    document = _reference()
    document["nodes"][2]["kind"] = "source"  # jsonl_sink cannot be a source
    assert _combined_errors(document) == ["nodes[2].kind"]


def test_edges_accept_from_to_or_src_dst_but_not_both() -> None:
    document = _reference()
    document["edges"] = [{"src": "cam", "dst": "motion"}, {"from": "motion", "dst": "events"}]
    assert _combined_errors(document) == []
    assert skeleton_findings(document) == []
    document["edges"] = [{"from": "cam", "src": "cam", "to": "motion"}]
    assert [f.code for f in skeleton_findings(document)] == ["schema.conflict"]
    assert _combined_errors(document) == ["edges[0]"]


def test_third_party_plugins_are_not_constrained_by_the_combined_schema() -> None:
    document = _reference()
    document["nodes"][1] = {
        "id": "motion",
        "kind": "node",
        "plugin": "acme.nodes:Thing",
        "config": {"any": 1},
    }
    assert _combined_errors(document) == []


def _spec(schema: dict[str, Any], name: str = "fake") -> NodeSpec:
    return NodeSpec(
        name=name,
        target=f"acme.nodes:{name.title()}",
        roles=frozenset({"node"}),
        title="Fake",
        description="A fake node for tests.",
        schema=schema,
        consumes=frozenset({"*"}),
        produces=frozenset({"*"}),
    )


def test_internal_refs_of_a_config_schema_are_rebased_when_embedded() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {"size": {"$ref": "#/$defs/size"}},
        "$defs": {"size": {"type": "integer", "minimum": 1}},
    }
    combined = document_schema({"fake": _spec(schema)})
    Draft202012Validator.check_schema(combined)
    embedded = combined["$defs"]["config.fake"]
    assert embedded["properties"]["size"] == {"$ref": "#/$defs/config.fake/$defs/size"}
    assert "$schema" not in embedded
    document = {
        "version": 2,
        "nodes": [{"id": "n", "kind": "node", "plugin": "fake", "config": {"size": 0, "__runtime__": {}}}],
    }
    errors = [
        format_path(tuple(e.absolute_path)) for e in Draft202012Validator(combined).iter_errors(document)
    ]
    assert errors == ["nodes[0].config.size"]


def test_skeleton_reports_every_error_not_just_the_first() -> None:
    document = {"version": 3, "nodes": [{"id": "", "kind": "x", "plugin": 5}], "edges": [{}], "extra": 1}
    found = {(f.code, f.path) for f in skeleton_findings(document)}
    assert found == {
        ("schema.const", ("version",)),
        ("schema.minLength", ("nodes", 0, "id")),
        ("schema.enum", ("nodes", 0, "kind")),
        ("schema.type", ("nodes", 0, "plugin")),
        ("schema.required", ("edges", 0)),
        ("schema.unknown-key", ("extra",)),
    }
    assert len(skeleton_schema()["$defs"]) == 4


# -- messages -----------------------------------------------------------------------------------


def _findings(schema: dict[str, Any], instance: Any) -> list[Finding]:
    return findings_for(Draft202012Validator(schema), instance, ("c",))


OBJECT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "minLength": 1, "description": "Where to send. More text."},
        "width": {"type": "integer", "minimum": 1, "maximum": 100},
        "mode": {"enum": ["fast", "slow"]},
        "name": {"type": "string", "pattern": "^[a-z]+$", "description": "Lower-case letters."},
        "tags": {"type": "array", "uniqueItems": True, "maxItems": 2},
        "timeout": {"anyOf": [{"type": "number"}, {"const": "auto"}]},
        "target": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"port": {"type": "integer"}},
                    "additionalProperties": False,
                },
            ]
        },
        "legacy": False,
        "opt": {"type": ["string", "null"]},
    },
}


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        pytest.param({"url": 42}, [("schema.type", ("c", "url"), "expected a string, got 42")], id="type"),
        pytest.param(
            {"url": "x", "width": "abc"},
            [("schema.type", ("c", "width"), "expected an integer, got the string 'abc'")],
            id="type-string",
        ),
        pytest.param(
            {"url": "x", "width": True},
            [("schema.type", ("c", "width"), "expected an integer, got true")],
            id="bool",
        ),
        pytest.param({}, [("schema.required", ("c",), "missing required key 'url'")], id="required"),
        pytest.param({"url": ""}, [("schema.minLength", ("c", "url"), "must not be empty")], id="min-length"),
        pytest.param(
            {"url": "x", "width": 0},
            [("schema.minimum", ("c", "width"), "must be at least 1, got 0")],
            id="minimum",
        ),
        pytest.param(
            {"url": "x", "width": 101},
            [("schema.maximum", ("c", "width"), "must be at most 100, got 101")],
            id="maximum",
        ),
        pytest.param(
            {"url": "x", "mode": "fsat"},
            [("schema.enum", ("c", "mode"), "expected 'fast' or 'slow', got the string 'fsat'")],
            id="enum",
        ),
        pytest.param(
            {"url": "x", "tags": [1, 1, 2]},
            [
                ("schema.uniqueItems", ("c", "tags"), "items must be unique"),
                ("schema.maxItems", ("c", "tags"), "takes at most 2 items, got 3"),
            ],
            id="array",
        ),
        pytest.param(
            {"url": "x", "timeout": "soon"},
            [("schema.type", ("c", "timeout"), "expected a number or 'auto', got the string 'soon'")],
            id="anyof-shape",
        ),
        pytest.param(
            {"url": "x", "target": {"port": "80"}},
            [("schema.type", ("c", "target", "port"), "expected an integer, got the string '80'")],
            id="anyof-meant-branch",
        ),
        pytest.param(
            {"url": "x", "legacy": 1},
            [("schema.not-allowed", ("c", "legacy"), "this key is not allowed here")],
            id="false",
        ),
        pytest.param(
            {"url": "x", "opt": 3},
            [("schema.type", ("c", "opt"), "expected a string or null, got 3")],
            id="type-list",
        ),
        pytest.param(
            {"url": "x", "name": "Bob"},
            [("schema.pattern", ("c", "name"), "the string 'Bob' does not match the pattern '^[a-z]+$'")],
            id="pattern",
        ),
    ],
)
def test_errors_read_as_plain_english(
    instance: Any, expected: list[tuple[str, tuple[Any, ...], str]]
) -> None:
    found = [(f.code, f.path, f.message) for f in _findings(OBJECT, instance)]
    assert sorted(found) == sorted(expected)


def test_unknown_keys_are_one_finding_each_with_a_hint_at_the_key() -> None:
    found = _findings(OBJECT, {"url": "x", "widht": 1, "zzzz": 2})
    assert [(f.code, f.path, f.hint, f.anchor) for f in found] == [
        ("schema.unknown-key", ("c", "widht"), "did you mean 'width'?", "key"),
        (
            "schema.unknown-key",
            ("c", "zzzz"),
            "known keys: url, width, mode, name, tags, timeout, target, legacy, opt",
            "key",
        ),
    ]


def test_required_and_pattern_hints_come_from_descriptions() -> None:
    (required,) = _findings(OBJECT, {})
    assert required.hint == "url: Where to send"
    (pattern,) = _findings(OBJECT, {"url": "x", "name": "Bob"})
    assert pattern.hint == "Lower-case letters"


def test_enum_hint_suggests_the_closest_choice() -> None:
    (finding,) = _findings(OBJECT, {"url": "x", "mode": "fsat"})
    assert finding.hint == "did you mean 'fast'?"


def test_one_of_matching_twice_is_ambiguous() -> None:
    schema = {"oneOf": [{"type": "integer"}, {"minimum": 0}]}
    (finding,) = _findings(schema, 5)
    assert (finding.code, finding.message) == (
        "schema.ambiguous",
        "5 matches more than one of the allowed forms",
    )


def test_broken_third_party_schema_is_a_finding_not_a_crash() -> None:
    spec = _spec({"type": "object", "properties": {"x": {"type": "no-such-type"}}}, name="broken")
    (finding,) = config_findings(spec, {"x": 1}, ("nodes", 0, "config"), builtin=False)
    assert finding.code == "plugin.bad-schema"
    assert "'broken'" in finding.message
