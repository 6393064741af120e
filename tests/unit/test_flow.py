"""The graph's order and packet flow: computed once in the graph layer, used by validate and the engine."""

from __future__ import annotations

from graphlib import CycleError
from pathlib import Path

import pytest

from schnitzel_stream.graph.flow import packet_flow, topological_order
from schnitzel_stream.graph.model import Graph
from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text
from schnitzel_stream.nodes.base import NodeSpec, Role
from schnitzel_stream.nodes.registry import builtin_spec
from schnitzel_stream.paths import resolve_paths


def test_every_node_comes_after_its_senders_and_ties_keep_declaration_order() -> None:
    order = topological_order(["out", "b", "a", "src"], [("src", "a"), ("a", "out"), ("b", "out")])
    assert order.index("src") < order.index("a") < order.index("out")
    assert order.index("b") < order.index("out")
    assert topological_order(["x", "y", "z"], []) == ("x", "y", "z")


def test_a_cycle_raises() -> None:
    with pytest.raises(CycleError):
        topological_order(["a", "b"], [("a", "b"), ("b", "a")])


Nodes = dict[str, tuple[Role | None, NodeSpec | None]]


def _spec(name: str) -> NodeSpec:
    spec = builtin_spec(name)
    assert spec is not None
    return spec


def test_frames_pass_through_pass_through_nodes_and_stop_at_the_detector() -> None:
    nodes: Nodes = {
        "cam": ("source", _spec("synthetic_camera")),
        "relay": ("node", _spec("identity")),
        "motion": ("node", _spec("motion_detector")),
        "out": ("sink", _spec("jsonl_sink")),
    }
    flow = packet_flow(nodes, [("cam", "relay"), ("relay", "motion"), ("motion", "out")])
    assert flow.order == ("cam", "relay", "motion", "out")
    assert flow.receives("relay") == {"frame"}
    assert flow.receives("motion") == {"frame"}
    assert flow.receives("out") == {"event"}
    assert flow.unknown == frozenset()


def test_what_a_static_source_sends_is_unknown_downstream() -> None:
    nodes: Nodes = {
        "src": ("source", _spec("static_source")),
        "relay": ("node", _spec("identity")),
        "x": ("sink", None),
    }
    flow = packet_flow(nodes, [("src", "relay"), ("relay", "x")])
    assert flow.unknown == {"src", "relay", "x"}
    assert flow.receives("relay") == frozenset()


CAMERA_CHAIN = (
    "version: 2\nnodes:\n"
    "  - {id: cam, kind: source, plugin: synthetic_camera, config: {frames: 1}}\n"
    "  - {id: fan, kind: node, plugin: identity}\n"
    "  - {id: motion, kind: node, plugin: motion_detector}\n"
    "  - {id: out, kind: sink, plugin: print_sink}\n"
    # declared out of order: the order comes from the edges
    "edges: [{from: motion, to: out}, {from: fan, to: motion}, {from: cam, to: fan}]\n"
)


def _camera_chain(tmp_path: Path) -> Graph:
    paths = resolve_paths(environ={}, scope="portable", root=str(tmp_path))
    return load_graph_text(CAMERA_CHAIN, "g.yaml", ValidateOptions(environ={}, paths=paths))


def test_the_engine_gets_the_flow_validate_computed(tmp_path: Path) -> None:
    graph = _camera_chain(tmp_path)
    assert graph.order == ("cam", "fan", "motion", "out")
    assert "frame" in graph.receives("fan") and "frame" not in graph.receives("out")


def test_the_engine_sizes_inboxes_from_the_flow(tmp_path: Path) -> None:
    from schnitzel_stream.runtime.inproc import FRAME_INBOX_MAX, Engine
    from schnitzel_stream.runtime.sdnotify import Notifier

    engine = Engine(_camera_chain(tmp_path), notifier=Notifier(None))
    engine._build()
    try:
        capacity = {r.decl.id: r.inbox.capacity for r in engine._runners if r.inbox is not None}
        assert [r.decl.id for r in engine._runners] == ["cam", "fan", "motion", "out"]
    finally:
        for runner in engine._runners:
            runner.node.close()
    assert capacity["fan"] == capacity["motion"] == FRAME_INBOX_MAX
    assert capacity["out"] > FRAME_INBOX_MAX
