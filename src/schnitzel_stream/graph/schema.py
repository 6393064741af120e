"""The graph document's JSON Schema (draft 2020-12), assembled from the node specs.

Two uses, one source:

- :func:`document_schema` is the published ``graph.schema.json``: the document skeleton,
  plus each built-in node's config schema in ``$defs``, selected by the node's ``plugin``.
- Validation does not run that combined schema (it would check every ``if`` for every
  node). It checks the skeleton once, then each node's config against its own spec's schema
  (:mod:`schnitzel_stream.graph._schema_check`). Both use the functions below, so they cannot
  drift apart.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from schnitzel_stream.graph.model import DEFAULT_INBOX_MAX, OVERFLOW_POLICIES
from schnitzel_stream.ids import SAFE_ID_PATTERN
from schnitzel_stream.nodes.base import NodeSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://schnitzel-stream.dev/schemas/"
GRAPH_SCHEMA_ID = f"{SCHEMA_BASE}graph.schema.json"
RUNTIME_KEY = "__runtime__"
_ROLE_ORDER = ("source", "node", "sink")

RUNTIME_SCHEMA: dict[str, Any] = {
    "title": "Engine settings for this node",
    "description": (
        "Settings the engine reads from 'config.__runtime__'; they are split off before the node "
        "sees its config."
    ),
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "inbox_max": {
            "title": "Inbox size",
            "description": "How many packets may wait in front of this node before the overflow policy applies.",
            "type": "integer",
            "minimum": 1,
            "default": DEFAULT_INBOX_MAX,
            "examples": [64],
        },
        "inbox_overflow": {
            "title": "Inbox overflow policy",
            "description": (
                "What happens when the inbox is full: block the sender, drop the oldest or the new "
                "packet, or stop the graph with an error. Default: drop_oldest behind live sources, "
                "block otherwise."
            ),
            "enum": list(OVERFLOW_POLICIES),
            "examples": ["drop_oldest"],
        },
    },
}


def _node_ref(description: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/nodeId", "description": description}


def _defs(config: dict[str, Any]) -> dict[str, Any]:
    """The ``$defs`` shared by the skeleton and the published schema; ``config`` varies."""
    return {
        "nodeId": {
            "title": "Node id",
            "description": "A node's id, unique within the graph; edges refer to nodes by it.",
            "type": "string",
            "minLength": 1,
            "examples": ["cam", "motion", "out"],
        },
        "node": {
            "title": "Node",
            "description": "One node: a source, a processing node or a sink, built from a plugin.",
            "type": "object",
            "required": ["id", "kind", "plugin"],
            "additionalProperties": False,
            "properties": {
                "id": {"$ref": "#/$defs/nodeId"},
                "kind": {
                    "title": "Role",
                    "description": "source (makes packets), node (transforms them) or sink (consumes them).",
                    "enum": list(_ROLE_ORDER),
                },
                "plugin": {
                    "title": "Plugin",
                    "description": (
                        "A built-in short name, 'schnitzel_stream.nodes.<module>:<Class>', an "
                        "entry-point name, or an allowlisted 'package.module:Class'."
                    ),
                    "type": "string",
                    "minLength": 1,
                },
                "config": config,
            },
        },
        "edge": {
            "title": "Edge",
            "description": "Packets flow from one node to another. 'src' and 'dst' are aliases of 'from' and 'to'.",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "from": _node_ref("The sending node."),
                "to": _node_ref("The receiving node."),
                "src": _node_ref("Alias of 'from'."),
                "dst": _node_ref("Alias of 'to'."),
            },
            "allOf": [
                {"oneOf": [{"required": ["from"]}, {"required": ["src"]}]},
                {"oneOf": [{"required": ["to"]}, {"required": ["dst"]}]},
            ],
        },
        "runtime": RUNTIME_SCHEMA,
    }


def _document(config: dict[str, Any], extra_defs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": GRAPH_SCHEMA_ID,
        "title": "schnitzel-stream graph (version 2)",
        "description": (
            "A stream-processing graph: nodes (sources, processing nodes, sinks) and the edges "
            "packets flow along. Strings in node configs may use ${state}, ${config}, ${logs}, "
            "${ENV_VAR} and ${ENV_VAR:-default}."
        ),
        "type": "object",
        "required": ["version", "nodes"],
        "additionalProperties": False,
        "properties": {
            "version": {"title": "Document version", "description": "Always 2.", "const": 2},
            "plugins": {
                "title": "Plugin settings",
                "description": "Which third-party 'module:Class' plugins this graph may load.",
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "allow": {
                        "title": "Plugin allowlist",
                        "description": (
                            "Module prefixes whose classes may be used as plugins, added to "
                            "SCHNITZEL_STREAM_PLUGIN_ALLOWLIST. 'acme.nodes' allows 'acme.nodes.cam:Cam'."
                        ),
                        "type": "array",
                        "items": {
                            "type": "string",
                            "description": "A dotted module name, such as 'acme.nodes'.",
                            "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
                        },
                        "examples": [["acme.nodes"]],
                    }
                },
            },
            "nodes": {
                "title": "Nodes",
                "description": "The nodes of the graph.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/node"},
            },
            "edges": {
                "title": "Edges",
                "description": "Connections between nodes; packets flow from 'from' to 'to'.",
                "type": "array",
                "items": {"$ref": "#/$defs/edge"},
                "default": [],
            },
            "config": {
                "title": "Graph settings",
                "description": "Free-form top-level settings, kept for compatibility with older graphs.",
                "type": "object",
            },
        },
        "$defs": {**_defs(config), **(extra_defs or {})},
    }


def _base_config() -> dict[str, Any]:
    return {
        "title": "Node config",
        "description": "The plugin's settings; '__runtime__' holds engine settings for this node.",
        "type": "object",
        "properties": {RUNTIME_KEY: {"$ref": "#/$defs/runtime"}},
        "default": {},
    }


def skeleton_schema() -> dict[str, Any]:
    """The document schema with every node's config checked only for being a mapping."""
    return _document({"title": "Node config", "type": "object"})


def _embed(spec: NodeSpec) -> dict[str, Any]:
    """A spec's config schema ready for ``$defs``, with ``__runtime__`` allowed and refs rebased."""
    key = f"config.{spec.name}"
    schema: dict[str, Any] = copy.deepcopy(dict(spec.schema))
    schema.pop("$schema", None)
    schema.pop("$id", None)
    _rebase_refs(schema, f"#/$defs/{key}")
    schema.setdefault("title", spec.title)
    schema.setdefault("description", spec.description)
    properties = schema.setdefault("properties", {})
    properties[RUNTIME_KEY] = {"$ref": "#/$defs/runtime"}
    return schema


def _rebase_refs(node: Any, base: str) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            node["$ref"] = base + ref[1:]
        for value in node.values():
            _rebase_refs(value, base)
    elif isinstance(node, list):
        for value in node:
            _rebase_refs(value, base)


def document_schema(specs: Mapping[str, NodeSpec] | None = None) -> dict[str, Any]:
    """The combined, published graph schema (``schemas/graph.schema.json``)."""
    from schnitzel_stream.nodes.registry import builtin_specs, design_paths_of

    if specs is None:
        specs = builtin_specs()
    config = _base_config()
    extra: dict[str, Any] = {}
    selectors: list[dict[str, Any]] = []
    for spec in specs.values():
        extra[f"config.{spec.name}"] = _embed(spec)
        names = [spec.name, spec.target, *spec.aliases, *design_paths_of(spec.name)]
        selectors.append(
            {
                "if": {"properties": {"plugin": {"enum": names}}, "required": ["plugin"]},
                "then": {
                    "properties": {
                        "kind": {"enum": [role for role in _ROLE_ORDER if role in spec.roles]},
                        "config": {"$ref": f"#/$defs/config.{spec.name}"},
                    }
                },
            }
        )
    document = _document(config, extra)
    # Editors check ids against the safe set; validate's own check words the problem and
    # suggests a safe id (graph/_node_check.py), so the skeleton it runs leaves this out.
    document["$defs"]["nodeId"]["pattern"] = SAFE_ID_PATTERN
    document["$defs"]["nodeId"]["description"] += (
        " ASCII letters, digits, '_', '-' and '.', starting with a letter, digit or '_'; at most 64."
    )
    node = document["$defs"]["node"]
    node["properties"]["plugin"]["examples"] = list(specs)
    if selectors:
        node["allOf"] = selectors
    return document


def schema_text(schema: Mapping[str, Any]) -> str:
    """The text every published schema file holds: 2-space JSON and a trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


PUBLISHED_SCHEMAS = ("graph", "event", "validate-report")


def published_schema(name: str) -> dict[str, Any]:
    """The schema published as ``schemas/<name>.schema.json``."""
    if name == "graph":
        return document_schema()
    if name == "event":
        from schnitzel_stream.nodes.motion import EVENT_SCHEMA

        return dict(EVENT_SCHEMA)
    if name == "validate-report":
        from schnitzel_stream.graph.report import REPORT_SCHEMA

        return dict(REPORT_SCHEMA)
    raise KeyError(name)


__all__ = [
    "DIALECT",
    "GRAPH_SCHEMA_ID",
    "PUBLISHED_SCHEMAS",
    "RUNTIME_KEY",
    "RUNTIME_SCHEMA",
    "SCHEMA_BASE",
    "document_schema",
    "published_schema",
    "schema_text",
    "skeleton_schema",
]
