"""Camera lists: one graph for many cameras, without repeating the nodes each camera needs.

A graph lists its cameras once and marks the nodes every camera needs with
``each_camera: true``::

    cameras:
      - {id: front-door, url_from_env: FRONT_DOOR_URL}
      - {id: yard, url: "rtsp://10.0.0.7/stream1", transport: udp}
    nodes:
      - {id: cam, kind: source, plugin: rtsp_camera, each_camera: true, config: {read_timeout_sec: 5}}
      - {id: motion, kind: node, plugin: motion_detector, each_camera: true}
      - {id: queue, kind: sink, plugin: sqlite_queue_sink, config: {path: "${state}/events.db"}}
    edges:
      - {from: cam, to: motion}
      - {from: motion, to: queue}

Before validation, :func:`expand` turns that into the graph it stands for:

- a node marked ``each_camera`` becomes one node per camera, with the id
  ``<camera id>.<node id>`` (``yard.motion``): ids that depend on the camera's id only, not
  on its place in the list, so counters, metrics and idempotency keys stay stable when
  cameras are added, removed or reordered;
- a marked **source** takes the camera entry's keys (all but ``id``) on top of its own
  config, and its ``source_id`` defaults to the camera id when its plugin has that setting
  and it is the only marked source; other marked nodes take their own config;
- ``${camera}`` in a marked node's config is the camera's id (a file per camera:
  ``path: "${state}/${camera}.jsonl"``);
- an edge between marked nodes is repeated per camera; an edge from a marked node to an
  unmarked one becomes one edge per camera into it (fan-in), and the other way a fan-out.

Problems in a generated node are reported where they were written: a key that came from
a camera entry at that key of the entry, the camera as a whole (a missing URL) at its
entry, and a key of the marked node's own config once, at the marked node.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from schnitzel_stream.graph.findings import Finding, JsonPath
from schnitzel_stream.graph.load import SourceDocument
from schnitzel_stream.nodes.registry import PluginError, resolve

__all__ = ["CAMERAS_SCHEMA", "EACH_CAMERA_SCHEMA", "Expansion", "expand", "published_config"]

CAMERAS_KEY = "cameras"
EACH_CAMERA_KEY = "each_camera"
CAMERA_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_CAMERA_ID = re.compile(CAMERA_ID_PATTERN)
#: ``${camera}`` in a marked node's config is its camera's id; ``$${`` stays a literal ``${``.
_CAMERA_REFERENCE = re.compile(r"(?<!\$)\$\{camera\}")

CAMERAS_SCHEMA: dict[str, Any] = {
    "title": "Cameras",
    "description": (
        "One entry per camera. Every node marked 'each_camera: true' is built once per camera, "
        "with the id '<camera id>.<node id>'; a marked source takes the entry's keys (all but "
        "'id') on top of its own config, and its source_id defaults to the camera id. In a "
        "marked node's config, ${camera} is the camera id."
    ),
    "type": "array",
    "minItems": 1,
    "items": {
        "title": "Camera",
        "description": "A camera's id and the config keys of its source (url or url_from_env, and any other).",
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {
                "title": "Camera id",
                "description": (
                    "Unique within the graph, stable over time: it names the camera's nodes, "
                    "its counters and metrics, and its events' source_id and idempotency keys."
                ),
                "type": "string",
                "pattern": CAMERA_ID_PATTERN,
                "examples": ["front-door"],
            }
        },
        "examples": [{"id": "front-door", "url_from_env": "FRONT_DOOR_RTSP_URL"}],
    },
}

EACH_CAMERA_SCHEMA: dict[str, Any] = {
    "title": "Once per camera",
    "description": (
        "Build this node once for every entry of 'cameras', with the id '<camera id>.<node id>'. "
        "Edges to and from it are repeated per camera."
    ),
    "type": "boolean",
    "default": False,
}


def published_config(
    spec_name: str, embedded: Mapping[str, Any], extra_defs: dict[str, Any]
) -> dict[str, Any]:
    """The published schema's check of a source's config, whether or not it is marked.

    A marked source's config is completed by each camera entry (the URL usually comes from
    there), so it is checked against a variant of the plugin's schema that requires nothing;
    unmarked nodes against the schema itself. Adds the variant to ``extra_defs``.
    """
    partial = {key: value for key, value in embedded.items() if key not in ("required", "oneOf", "anyOf")}
    partial["description"] = (
        f"{embedded.get('description', '')} Marked 'each_camera': each camera entry completes it."
    ).strip()
    extra_defs[f"camera-config.{spec_name}"] = partial
    return {
        "if": {"properties": {EACH_CAMERA_KEY: {"const": True}}, "required": [EACH_CAMERA_KEY]},
        "then": {"properties": {"config": {"$ref": f"#/$defs/camera-config.{spec_name}"}}},
        "else": {"properties": {"config": {"$ref": f"#/$defs/config.{spec_name}"}}},
    }


_NO_ORIGINS: Mapping[JsonPath, JsonPath] = MappingProxyType({})


class Expansion(NamedTuple):
    """The document's data with the camera list expanded, and where each generated path came from."""

    data: dict[str, Any]
    findings: Sequence[Finding] = ()
    #: Path prefixes in ``data`` that were written elsewhere in the file, longest wins.
    origins: Mapping[JsonPath, JsonPath] = _NO_ORIGINS

    def locate(self, finding: Finding) -> Finding:
        """``finding`` with its path moved to where the file says what it is about."""
        if finding in self.findings:
            return finding  # the expansion's own findings name paths of the file already
        path = finding.path
        for cut in range(len(path), 0, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                return finding._replace(path=(*origin, *path[cut:]))
        return finding


def expand(document: SourceDocument, max_nodes: int) -> Expansion:
    """Expand the camera list of ``document``; the data unchanged when the graph has none.

    With no valid camera, marked nodes have no copy at all (and a finding says why). A list
    that would make more than ``max_nodes`` nodes is not expanded: a small file could ask for
    cameras times marked nodes in the millions.
    """
    data = document.data
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or (CAMERAS_KEY not in data and not any(_marked(n) for n in nodes)):
        return Expansion(data)
    findings: list[Finding] = []
    cameras = list(_cameras(data.get(CAMERAS_KEY), findings))
    marked = {node["id"]: index for index, node in enumerate(nodes) if _marked(node) and _has_id(node)}
    if not marked:
        findings.append(
            Finding(
                "graph.cameras-unused",
                "the graph lists cameras, but no node is marked 'each_camera: true', so they are not used",
                (CAMERAS_KEY,),
                severity="warning",
            )
        )
        return Expansion(data, findings)
    if not cameras:
        # No copies at all: the camera list's own problems (reported by the schema) explain why.
        first = min(marked.values())
        findings.append(
            Finding(
                "graph.no-cameras",
                f"node {nodes[first]['id']!r} is marked 'each_camera: true', but the graph lists no valid "
                "camera, so it and the other marked nodes are left out",
                ("nodes", first, EACH_CAMERA_KEY),
                hint="list the cameras under 'cameras:', each like {id: front-door, url: rtsp://...}",
            )
        )
    total = len(cameras) * len(marked) + len(nodes) - len(marked)
    if total > max_nodes:
        findings.append(
            Finding(
                "graph.too-many-nodes",
                f"the camera list makes {total} nodes ({len(cameras)} cameras x {len(marked)} marked "
                f"nodes, plus {len(nodes) - len(marked)}); one graph may have at most {max_nodes} "
                "(the engine runs one thread per node)",
                (CAMERAS_KEY,),
                hint="split the cameras over several graphs, each run by its own service",
                anchor="key",
            )
        )
        return Expansion(data, findings)
    return _Expander(data, nodes, cameras, marked, findings).run()


def _marked(node: Any) -> bool:
    return isinstance(node, dict) and node.get(EACH_CAMERA_KEY) is True


def _has_id(node: dict[str, Any]) -> bool:
    return isinstance(node.get("id"), str) and bool(node["id"])


def _cameras(raw: Any, findings: list[Finding]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(index, id, entry)`` of every usable camera; malformed entries are left to the schema."""
    if not isinstance(raw, list):
        return
    first_at: dict[str, int] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        camera_id = entry["id"]
        if not _CAMERA_ID.fullmatch(camera_id):
            continue
        if camera_id in first_at:
            findings.append(
                Finding(
                    "graph.duplicate-camera",
                    f"duplicate camera id {camera_id!r} (first used by cameras[{first_at[camera_id]}])",
                    (CAMERAS_KEY, index, "id"),
                )
            )
            continue
        first_at[camera_id] = index
        yield index, camera_id, entry


def _with_camera(value: Any, camera_id: str) -> Any:
    """``value`` with ``${camera}`` in its strings replaced by the camera id (``$${camera}`` kept)."""
    if isinstance(value, str):
        return _CAMERA_REFERENCE.sub(camera_id, value) if "${camera}" in value else value
    if isinstance(value, dict):
        return {key: _with_camera(item, camera_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_camera(item, camera_id) for item in value]
    return value


def _source_id_setting(plugin: Any) -> bool:
    """Whether a built-in source plugin has a ``source_id`` setting (third-party ones are not guessed)."""
    if not isinstance(plugin, str):
        return False
    try:
        resolved = resolve(plugin, import_external=False)
    except PluginError:
        return False  # reported where the node is checked
    spec = resolved.spec
    return resolved.builtin and "source" in spec.roles and "source_id" in spec.schema.get("properties", {})


class _Expander:
    def __init__(
        self,
        data: dict[str, Any],
        nodes: list[Any],
        cameras: list[tuple[int, str, dict[str, Any]]],
        marked: dict[str, int],
        findings: list[Finding],
    ) -> None:
        self.data = data
        self.nodes = nodes
        self.cameras = cameras
        self.marked = marked
        self.findings = findings
        self.origins: dict[JsonPath, JsonPath] = {}
        sources = [nodes[i] for i in marked.values() if nodes[i].get("kind") == "source"]
        self.name_sources = len(sources) == 1 and _source_id_setting(sources[0].get("plugin"))

    def run(self) -> Expansion:
        out_nodes: list[Any] = []
        for index, node in enumerate(self.nodes):
            if not (_marked(node) and _has_id(node)):
                self.origins[("nodes", len(out_nodes))] = ("nodes", index)
                out_nodes.append(node)
                continue
            for camera in self.cameras:
                self._generate(index, node, camera, out_nodes)
        data = {**self.data, "nodes": out_nodes, "edges": self._edges()}
        return Expansion(data, self.findings, self.origins)

    def _generate(
        self, index: int, node: dict[str, Any], camera: tuple[int, str, dict[str, Any]], out: list[Any]
    ) -> None:
        entry_index, camera_id, entry = camera
        at: JsonPath = ("nodes", len(out))
        written: JsonPath = ("nodes", index)
        self.origins[at] = written
        self.origins[(*at, "id")] = (CAMERAS_KEY, entry_index, "id")
        generated = {key: value for key, value in node.items() if key != EACH_CAMERA_KEY}
        generated["id"] = f"{camera_id}.{node['id']}"
        own = node.get("config", {})
        if node.get("kind") != "source" or not isinstance(own, dict):
            self.origins[(*at, "config")] = (*written, "config")
            generated["config"] = _with_camera(own, camera_id)
            out.append(generated)
            return
        config = dict(own)
        for key in own:
            self.origins[(*at, "config", key)] = (*written, "config", key)
        if self.name_sources and "source_id" not in own:
            config["source_id"] = camera_id
            self.origins[(*at, "config", "source_id")] = (CAMERAS_KEY, entry_index, "id")
        for key, value in entry.items():
            if key != "id":
                config[key] = value
                self.origins[(*at, "config", key)] = (CAMERAS_KEY, entry_index, key)
        # A problem with the config as a whole (no URL at all) is this camera's problem.
        self.origins[(*at, "config")] = (CAMERAS_KEY, entry_index)
        generated["config"] = _with_camera(config, camera_id)
        out.append(generated)

    def _edges(self) -> Any:
        raw = self.data.get("edges", [])
        if not isinstance(raw, list):
            return raw
        out: list[Any] = []
        for index, edge in enumerate(raw):
            for expanded in self._edge(edge):
                self.origins[("edges", len(out))] = ("edges", index)
                out.append(expanded)
        return out

    def _edge(self, edge: Any) -> list[Any]:
        if not isinstance(edge, dict):
            return [edge]
        ends = [key for key in ("from", "src", "to", "dst") if edge.get(key) in self.marked]
        if not ends:
            return [edge]
        return [
            {**edge, **{key: f"{camera_id}.{edge[key]}" for key in ends}} for _, camera_id, _ in self.cameras
        ]
