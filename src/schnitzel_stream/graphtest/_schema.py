"""The graph-test document's JSON Schema: the one source of ``schemas/graph-test.schema.json``.

The loader checks every test file against :func:`test_schema` before anything else, so what
editors complete and what ``schnitzel-stream test`` accepts cannot drift apart. A packet in
``inputs`` is exactly one item of the static source's ``packets`` (a case's inputs *are* a
static source), so that part is taken from the static source's own spec.
"""

from __future__ import annotations

import functools
from typing import Any

from schnitzel_stream.graph.schema import DIALECT, SCHEMA_BASE

TEST_SCHEMA_ID = f"{SCHEMA_BASE}graph-test.schema.json"
#: Upper bounds that keep a hostile file from asking for the impossible (or for a day-long wait).
MAX_COUNT = 1_000_000_000
MAX_TIMEOUT_SEC = 3600
DEFAULT_TIMEOUT_SEC = 30.0
#: The fields of a packet that ``all``/``any``/``none`` can look at.
PACKET_FIELDS = ("kind", "source_id", "payload", "meta", "packet_id", "ts")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _packet_item_schema() -> dict[str, Any]:
    from schnitzel_stream.nodes.registry import builtin_specs

    packets = builtin_specs()["static_source"].schema["properties"]["packets"]
    return dict(packets["items"])


def _count_schema() -> dict[str, Any]:
    bound = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
    return {
        "title": "Packet count",
        "description": "How many packets reach the node: an exact number, or a range with min and/or max.",
        "anyOf": [
            {**bound, "description": "Exactly this many packets."},
            {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "min": {**bound, "description": "At least this many packets."},
                    "max": {**bound, "description": "At most this many packets."},
                },
            },
        ],
        "examples": [58, {"min": 1, "max": 500}],
    }


def _pattern_schema(title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": (
            f"{description} A pattern is a subset of the packet: every key it names must be there "
            "with a matching value (mappings match recursively, lists item by item, other values "
            "must be equal)."
        ),
        "type": "object",
        "additionalProperties": False,
        "properties": {field: {"description": f"The packet's {field}."} for field in PACKET_FIELDS},
        "examples": [{"kind": "event", "payload": {"event_type": "motion"}}],
    }


@functools.cache
def graph_test_schema() -> dict[str, Any]:
    """The published ``graph-test.schema.json``."""
    return {
        "$schema": DIALECT,
        "$id": TEST_SCHEMA_ID,
        "title": "schnitzel-stream graph test",
        "description": (
            "Tests for one graph, run by 'schnitzel-stream test': each case swaps nodes for "
            "deterministic ones, captures the packets that reach some nodes, and checks them."
        ),
        "type": "object",
        "required": ["version", "graph", "cases"],
        "additionalProperties": False,
        "properties": {
            "version": {"title": "Document version", "description": "Always 1.", "const": 1},
            "graph": {
                "title": "Graph",
                "description": "The graph file under test (*.yaml), relative to this file.",
                "type": "string",
                "minLength": 1,
                "examples": ["../ops/graphs/synthetic_to_http_durable.yaml"],
            },
            "env": {
                "title": "Environment",
                "description": (
                    "Variables for ${NAME} in the graph, and for nodes that read the environment; "
                    "they win over the process environment."
                ),
                "type": "object",
                "propertyNames": {"pattern": _ENV_NAME},
                "additionalProperties": {"type": "string"},
                "examples": [{"SCHNITZEL_BACKEND_URL": "http://127.0.0.1:9/ingest"}],
            },
            "cases": {
                "title": "Cases",
                "description": "The test cases; each runs the graph once, in its own temporary directories.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/case"},
            },
        },
        "$defs": {
            "nodeId": {"type": "string", "minLength": 1, "description": "A node id of the graph."},
            "case": {
                "title": "Case",
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {
                        "title": "Name",
                        "description": "What the case proves; unique within the file.",
                        "type": "string",
                        "minLength": 1,
                    },
                    "replace": {
                        "title": "Replaced nodes",
                        "description": (
                            "Node id -> the plugin and config to run instead, of the same kind: "
                            "a synthetic camera in place of a live one."
                        ),
                        "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/replacement"},
                    },
                    "inputs": {
                        "title": "Inputs",
                        "description": "Source id -> the packets it emits instead (a static source).",
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/packet"}},
                    },
                    "capture": {
                        "title": "Captured nodes",
                        "description": (
                            "Nodes that are not run: the packets that reach them are recorded. A captured "
                            "node that passes packets on (http_sink, mqtt_sink with forward: true) passes "
                            "each one on, as a delivery that always succeeds."
                        ),
                        "type": "array",
                        "uniqueItems": True,
                        "items": {"$ref": "#/$defs/nodeId"},
                    },
                    "expect": {
                        "title": "Expectations",
                        "description": "Captured node id -> what the packets that reached it must satisfy.",
                        "type": "object",
                        "additionalProperties": {"$ref": "#/$defs/expectation"},
                    },
                    "timeout_sec": {
                        "title": "Timeout",
                        "description": (
                            "Stop the graph after this many seconds if its sources have not ended; the "
                            "expectations are checked then."
                        ),
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": MAX_TIMEOUT_SEC,
                        "default": DEFAULT_TIMEOUT_SEC,
                    },
                },
            },
            "replacement": {
                "title": "Replacement",
                "type": "object",
                "required": ["plugin"],
                "additionalProperties": False,
                "properties": {
                    "plugin": {
                        "title": "Plugin",
                        "description": "The plugin to run instead; it must allow the node's kind.",
                        "type": "string",
                        "minLength": 1,
                        "examples": ["synthetic_camera"],
                    },
                    "config": {
                        "title": "Config",
                        "description": "The replacement's config, checked against its plugin's schema.",
                        "type": "object",
                        "default": {},
                    },
                },
            },
            "packet": _packet_item_schema(),
            "expectation": {
                "title": "Expectation",
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "count": _count_schema(),
                    "schema": {
                        "title": "Payload schema",
                        "description": (
                            "A JSON Schema file (relative to this file) that every captured packet's "
                            "payload must validate against."
                        ),
                        "type": "string",
                        "minLength": 1,
                        "examples": ["../schemas/event.schema.json"],
                    },
                    "all": _pattern_schema("Every packet", "Every captured packet matches this pattern."),
                    "any": _pattern_schema(
                        "Some packet", "At least one captured packet matches this pattern."
                    ),
                    "none": _pattern_schema("No packet", "No captured packet matches this pattern."),
                },
            },
        },
    }
