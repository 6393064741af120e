"""Camera lists: expansion by the loader, stable ids, and problems located at the camera entry."""

from __future__ import annotations

import textwrap

import jsonschema
import pytest

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.schema import document_schema
from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text, validate_text
from schnitzel_stream.paths import resolve_paths

OPTIONS = ValidateOptions(environ={"YARD_URL": "rtsp://10.0.0.8/s1"}, paths=resolve_paths(environ={}))

GRAPH = """\
version: 2
cameras:
  - {id: front-door, url: "rtsp://10.0.0.7/stream1"}
  - {id: yard, url_from_env: YARD_URL, transport: udp}
nodes:
  - id: cam
    kind: source
    plugin: rtsp_camera
    each_camera: true
    config: {read_timeout_sec: 4, transport: tcp}
  - {id: motion, kind: node, plugin: motion_detector, each_camera: true, config: {threshold: 30}}
  - {id: queue, kind: sink, plugin: sqlite_queue_sink, config: {path: /tmp/events.db}}
edges:
  - {from: cam, to: motion}
  - {from: motion, to: queue}
"""


def problems(text: str) -> list[Problem]:
    _, report = validate_text(textwrap.dedent(text), "g.yaml", OPTIONS)
    return list(report.problems)


def test_each_marked_node_is_built_once_per_camera_with_stable_ids() -> None:
    graph = load_graph_text(GRAPH, "g.yaml", OPTIONS)
    assert [node.id for node in graph.nodes] == [
        "front-door.cam",
        "yard.cam",
        "front-door.motion",
        "yard.motion",
        "queue",
    ]
    edges = {(edge.src, edge.dst) for edge in graph.edges}
    assert edges == {
        ("front-door.cam", "front-door.motion"),
        ("yard.cam", "yard.motion"),
        ("front-door.motion", "queue"),  # fan-in to the one queue
        ("yard.motion", "queue"),
    }
    yard = graph.node("yard.cam").config
    # The entry's keys on top of the marked node's own; source_id is the camera id.
    assert yard == {
        "read_timeout_sec": 4,
        "transport": "udp",
        "url_from_env": "YARD_URL",
        "source_id": "yard",
    }
    assert graph.node("front-door.cam").config["transport"] == "tcp"
    assert graph.node("yard.motion").config == {"threshold": 30}


def test_ids_do_not_depend_on_the_order_of_the_list() -> None:
    swapped = GRAPH.replace(
        '  - {id: front-door, url: "rtsp://10.0.0.7/stream1"}\n  - {id: yard, url_from_env: YARD_URL, transport: udp}\n',
        '  - {id: yard, url_from_env: YARD_URL, transport: udp}\n  - {id: front-door, url: "rtsp://10.0.0.7/stream1"}\n',
    )
    assert swapped != GRAPH
    one = load_graph_text(GRAPH, "g.yaml", OPTIONS)
    two = load_graph_text(swapped, "g.yaml", OPTIONS)
    assert {n.id: dict(n.config) for n in one.nodes} == {n.id: dict(n.config) for n in two.nodes}


def test_an_entry_may_set_its_own_source_id() -> None:
    text = GRAPH.replace("{id: front-door, url:", "{id: front-door, source_id: door-1, url:")
    graph = load_graph_text(text, "g.yaml", OPTIONS)
    assert graph.node("front-door.cam").config["source_id"] == "door-1"
    assert graph.node("yard.cam").config["source_id"] == "yard"


def test_a_camera_problem_is_reported_at_its_entry_and_a_shared_one_once() -> None:
    text = """\
    version: 2
    cameras:
      - {id: ok, url: "rtsp://10.0.0.7/s"}
      - {id: typo, url: "rtsp//10.0.0.8/s"}
      - {id: nourl, transport: tcp}
      - {id: ok, url: "rtsp://10.0.0.9/s"}
    nodes:
      - {id: cam, kind: source, plugin: rtsp_camera, each_camera: true, config: {read_timeout_sec: -1}}
      - {id: motion, kind: node, plugin: motion_detector, each_camera: true}
      - {id: queue, kind: sink, plugin: sqlite_queue_sink, config: {path: /tmp/q.db}}
    edges:
      - {from: cam, to: motion}
      - {from: motion, to: queue}
    """
    found = [(p.line, p.path, p.code) for p in problems(text)]
    assert found == [
        (4, "cameras[1].url", "schema.pattern"),
        (5, "cameras[2]", "schema.required"),
        (6, "cameras[3].id", "graph.duplicate-camera"),
        (8, "nodes[0].config.read_timeout_sec", "schema.exclusiveMinimum"),  # once, not per camera
    ]


def test_a_missing_variable_in_an_entry_is_reported_there() -> None:
    text = GRAPH.replace("url_from_env: YARD_URL", 'url: "${NOT_SET_ANYWHERE}"')
    assert [(p.line, p.path, p.code) for p in problems(text)] == [(4, "cameras[1].url", "interp.missing-env")]


@pytest.mark.parametrize(
    ("cameras", "problem"),
    [
        pytest.param("", None, id="no-list"),
        pytest.param("cameras: []\n", (2, "cameras", "schema.minItems"), id="empty-list"),
        pytest.param("cameras: {front: rtsp://x/y}\n", (2, "cameras", "schema.type"), id="not-a-list"),
        pytest.param(
            "cameras:\n  - {id: 'bad id!', url: 'rtsp://x/y'}\n",
            (3, "cameras[0].id", "schema.pattern"),
            id="bad-id",
        ),
        pytest.param("cameras:\n  - {url: 'rtsp://x/y'}\n", (3, "cameras[0]", "schema.required"), id="no-id"),
    ],
)
def test_without_a_valid_camera_the_marked_nodes_are_left_out_and_the_list_s_problem_shown(
    cameras: str, problem: tuple[int, str, str] | None
) -> None:
    text = f"version: 2\n{cameras}nodes:" + GRAPH.split("nodes:", 1)[1]
    found = [(p.line, p.path, p.code) for p in problems(text)]
    marked_at = 2 + cameras.count("\n") + 4  # the 'each_camera: true' line of the first marked node
    assert (marked_at, "nodes[0].each_camera", "graph.no-cameras") in found
    # Besides: no-source (every source was marked), and the camera list's own problem.
    assert len(found) == (2 if problem is None else 3)
    if problem is not None:
        assert problem in found


def test_a_camera_list_that_no_node_uses_is_a_warning() -> None:
    text = """\
    version: 2
    cameras: [{id: a}]
    nodes:
      - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {}}]}}
      - {id: out, kind: sink, plugin: print_sink}
    edges: [{from: src, to: out}]
    """
    found = problems(text)
    assert [(p.code, p.severity, p.line) for p in found] == [("graph.cameras-unused", "warning", 2)]


def test_a_camera_list_that_would_make_too_many_nodes_is_refused_without_expanding() -> None:
    cameras = ", ".join(f"{{id: c{i}}}" for i in range(2000))
    marked = "\n".join(
        f"      - {{id: n{i}, kind: node, plugin: identity, each_camera: true}}" for i in range(100)
    )
    text = f"""\
    version: 2
    cameras: [{cameras}]
    nodes:
      - {{id: src, kind: source, plugin: static_source, config: {{packets: []}}}}
{marked}
    edges: []
    """
    found = [p for p in problems(text) if p.code == "graph.too-many-nodes"]
    assert [(p.line, p.path) for p in found] == [(2, "cameras")]
    assert "200001 nodes (2000 cameras x 100 marked nodes, plus 1)" in found[0].message


def test_an_edge_may_name_one_camera_s_node() -> None:
    text = GRAPH + "  - {from: yard.motion, to: yard-only}\n"
    text = text.replace(
        "  - {id: queue,", "  - {id: yard-only, kind: sink, plugin: print_sink}\n  - {id: queue,"
    )
    graph = load_graph_text(text, "g.yaml", OPTIONS)
    assert graph.upstream("yard-only") == ("yard.motion",)


def test_the_published_schema_describes_the_camera_list() -> None:
    import yaml

    schema = document_schema()
    jsonschema.validate(yaml.safe_load(GRAPH), schema)
    bad = yaml.safe_load(GRAPH.replace("id: yard,", "id: 'yard camera',"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            yaml.safe_load(GRAPH.replace("each_camera: true", "each_camera: yes please")), schema
        )


def test_camera_in_a_marked_node_s_config_is_the_camera_id() -> None:
    text = """\
version: 2
cameras: [{id: gate}, {id: yard}]
nodes:
  - {id: cam, kind: source, plugin: synthetic_camera, each_camera: true, config: {frames: 3, realtime: false}}
  - {id: motion, kind: node, plugin: motion_detector, each_camera: true}
  - id: file
    kind: sink
    plugin: jsonl_sink
    each_camera: true
    config: {path: "/tmp/${camera}/events.jsonl", fsync: false}
edges:
  - {from: cam, to: motion}
  - {from: motion, to: file}
"""
    graph = load_graph_text(text.replace("events.jsonl", "$${camera}.jsonl"), "g.yaml", OPTIONS)
    assert graph.node("gate.file").config["path"] == "/tmp/gate/${camera}.jsonl"  # $${ stays literal
    graph = load_graph_text(text, "g.yaml", OPTIONS)
    assert graph.node("yard.file").config["path"] == "/tmp/yard/events.jsonl"
    assert graph.node("gate.cam").config["source_id"] == "gate"
