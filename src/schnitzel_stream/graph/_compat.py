"""The design's document shapes, accepted with a warning that names the modern form.

The design this project comes from loads graphs more loosely than our schema. Where a form
of its own has one clear meaning here, :func:`normalize` rewrites it before the schema runs
and says so (``validate --strict`` makes these warnings errors):

- no ``version`` key (its newest loader even forbids one): version 2;
- ``version: "2"`` (a string): version 2;
- a node without ``kind``: ``node``, as its loader defaults;
- ``node_id`` instead of ``id``;
- ``from_port``/``to_port`` (and ``src_port``/``dst_port``) on edges: its runtime never routed
  by port (the labels were only checked for syntax), and here every packet goes along every
  edge, so the ports are dropped.

Positions move with renamed keys, so later problems still point at the line the author wrote.
"""

from __future__ import annotations

from typing import Any

from schnitzel_stream.graph.findings import Finding, JsonPath
from schnitzel_stream.graph.load import SourceDocument

PORT_KEYS = ("from_port", "to_port", "src_port", "dst_port")


def normalize(document: SourceDocument) -> tuple[SourceDocument, list[Finding]]:
    """``document`` in the modern form, and a ``compat.*`` warning for every legacy form in it."""
    data: dict[str, Any] = dict(document.data)
    values = dict(document.values)
    keys = dict(document.keys)
    found: list[Finding] = []
    if "version" not in data:
        data["version"] = 2
        found.append(
            _warn("compat.no-version", "the graph has no 'version' key", "start it with 'version: 2'", ())
        )
    elif data["version"] == "2":
        data["version"] = 2
        found.append(
            _warn(
                "compat.version",
                "'version' is the string \"2\"",
                "write the number: version: 2",
                ("version",),
            )
        )
    nodes = data.get("nodes")
    if isinstance(nodes, list):
        data["nodes"] = [_node(i, node, values, keys, found) for i, node in enumerate(nodes)]
    edges = data.get("edges")
    if isinstance(edges, list):
        data["edges"] = [_edge(i, edge, found) for i, edge in enumerate(edges)]
    if not found:
        return document, found
    return document._replace(data=data, values=values, keys=keys), found


def _node(
    index: int,
    node: Any,
    values: dict[JsonPath, tuple[int, int]],
    keys: dict[JsonPath, tuple[int, int]],
    found: list[Finding],
) -> Any:
    if not isinstance(node, dict):
        return node
    node = dict(node)
    at: JsonPath = ("nodes", index)
    if "node_id" in node and "id" not in node:
        node = {("id" if key == "node_id" else key): value for key, value in node.items()}
        for table in (values, keys):
            if (*at, "node_id") in table:
                table[(*at, "id")] = table[(*at, "node_id")]
        found.append(
            _warn(
                "compat.node-id", "'node_id' is the design's name for 'id'", "write id:", (*at, "id"), "key"
            )
        )
    if "kind" not in node:
        node["kind"] = "node"
        found.append(
            _warn(
                "compat.no-kind",
                "the node has no 'kind'; as in the design, it is a processing node",
                "kind: node (or source, or sink)",
                at,
            )
        )
    return node


def _edge(index: int, edge: Any, found: list[Finding]) -> Any:
    if not isinstance(edge, dict) or not any(key in edge for key in PORT_KEYS):
        return edge
    for key in PORT_KEYS:
        if key in edge:
            found.append(
                _warn(
                    "compat.edge-port",
                    f"'{key}' is ignored: every packet goes along every edge here (the design only "
                    "checked port names, it never routed by them)",
                    f"remove '{key}'",
                    ("edges", index, key),
                    "key",
                )
            )
    return {key: value for key, value in edge.items() if key not in PORT_KEYS}


def _warn(code: str, message: str, modern: str, path: JsonPath, anchor: Any = "value") -> Finding:
    return Finding(code, message, path, severity="warning", hint=f"the modern form: {modern}", anchor=anchor)
