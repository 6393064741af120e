"""Semantic checks on topology and payload kinds, with the real built-in specs."""

from __future__ import annotations

import pytest

from schnitzel_stream.graph.checks import EdgeRef, NodeRef, check_graph
from schnitzel_stream.graph.findings import Finding
from schnitzel_stream.nodes.base import Role
from schnitzel_stream.nodes.registry import builtin_specs

SPECS = builtin_specs()


def n(node_id: str, kind: Role | None, plugin: str | None, index: int) -> NodeRef:
    return NodeRef(node_id, kind, index, SPECS[plugin] if plugin else None)


def e(src: str, dst: str, index: int) -> EdgeRef:
    return EdgeRef(src, dst, index)


def codes(findings: list[Finding]) -> list[tuple[str, tuple[str | int, ...]]]:
    return [(f.code, f.path) for f in findings]


CAM = n("cam", "source", "synthetic_camera", 0)
MOTION = n("motion", "node", "motion_detector", 1)
OUT = n("out", "sink", "jsonl_sink", 2)


def test_reference_topology_is_clean() -> None:
    assert check_graph([CAM, MOTION, OUT], [e("cam", "motion", 0), e("motion", "out", 1)]) == []


def test_duplicate_ids() -> None:
    found = check_graph([CAM, MOTION, n("cam", "node", "identity", 2)], [e("cam", "motion", 0)])
    assert ("graph.duplicate-id", ("nodes", 2, "id")) in codes(found)
    assert "first used by nodes[0]" in found[0].message


def test_unknown_endpoints_get_hints_and_skip_reachability() -> None:
    found = check_graph([CAM, MOTION, OUT], [e("cam", "moton", 0), EdgeRef("motoin", "out", 1, "src", "dst")])
    assert codes(found) == [
        ("graph.unknown-node", ("edges", 0, "to")),
        ("graph.unknown-node", ("edges", 1, "src")),
    ]
    assert [f.hint for f in found] == ["did you mean 'motion'?", "did you mean 'motion'?"]


def test_unknown_endpoint_without_a_close_name_lists_the_ids() -> None:
    (finding,) = check_graph([CAM, MOTION, OUT], [e("cam", "motion", 0), e("motion", "xyzzy", 1)])
    assert finding.hint == "node ids: cam, motion, out"


def test_cycle_is_printed_once_at_the_closing_edge() -> None:
    nodes = [
        n("src", "source", "static_source", 0),
        n("a", "node", "identity", 1),
        n("b", "node", "identity", 2),
    ]
    nodes.append(n("c", "node", "identity", 3))
    nodes.append(n("out", "sink", "print_sink", 4))
    edges = [e("src", "a", 0), e("a", "b", 1), e("b", "c", 2), e("c", "a", 3), e("c", "out", 4)]
    found = check_graph(nodes, edges)
    assert codes(found) == [("graph.cycle", ("edges", 3))]
    assert found[0].message == "edges form a cycle: a -> b -> c -> a"


def test_two_separate_cycles_are_both_reported() -> None:
    nodes = [n("src", "source", "static_source", 0)]
    nodes += [n(name, "node", "identity", i) for i, name in enumerate("abcd", start=1)]
    edges = [
        e("src", "a", 0),
        e("a", "b", 1),
        e("b", "a", 2),
        e("src", "c", 3),
        e("c", "d", 4),
        e("d", "c", 5),
    ]
    found = [f.message for f in check_graph(nodes, edges) if f.code == "graph.cycle"]
    assert found == ["edges form a cycle: a -> b -> a", "edges form a cycle: c -> d -> c"]


def test_self_loop() -> None:
    nodes = [n("src", "source", "static_source", 0), n("a", "node", "identity", 1)]
    found = check_graph(nodes, [e("src", "a", 0), e("a", "a", 1)])
    assert [f.message for f in found if f.code == "graph.cycle"] == ["edges form a cycle: a -> a"]


def test_edges_into_sources_and_out_of_sinks() -> None:
    edges = [e("cam", "motion", 0), e("motion", "out", 1), e("out", "cam", 2)]
    found = check_graph([CAM, MOTION, OUT], edges)
    assert sorted(codes(found)) == [
        ("graph.from-sink", ("edges", 2, "from")),
        ("graph.into-source", ("edges", 2, "to")),
    ]


def test_unreachable_nodes_and_dead_ends() -> None:
    spare = n("spare", "node", "identity", 3)
    found = check_graph([CAM, MOTION, OUT, spare], [e("cam", "motion", 0), e("motion", "out", 1)])
    assert codes(found) == [("graph.unreachable", ("nodes", 3, "id")), ("graph.dead-end", ("nodes", 3, "id"))]
    assert [f.severity for f in found] == ["error", "warning"]


def test_source_without_edges_is_only_a_warning() -> None:
    found = check_graph([CAM], [])
    assert [(f.code, f.severity) for f in found] == [("graph.dead-end", "warning")]
    assert found[0].message == "source 'cam' has no outgoing edge; its packets go nowhere"


def test_no_source() -> None:
    found = check_graph(
        [n("a", "node", "identity", 0), n("out", "sink", "print_sink", 1)], [e("a", "out", 0)]
    )
    assert codes(found) == [("graph.no-source", ("nodes",))]


def test_incomplete_graph_skips_reachability() -> None:
    assert check_graph([CAM, MOTION, OUT], [e("cam", "motion", 0)], complete=False) == []


def test_a_node_of_unknown_kind_may_be_the_source() -> None:
    # kind was invalid (already reported by the schema): no cascade of unreachable errors
    cam = n("cam", None, "synthetic_camera", 0)
    assert check_graph([cam, MOTION, OUT], [e("cam", "motion", 0), e("motion", "out", 1)]) == []


def test_duplicate_edge_is_a_warning() -> None:
    edges = [e("cam", "motion", 0), e("motion", "out", 1), e("cam", "motion", 2)]
    found = check_graph([CAM, MOTION, OUT], edges)
    assert [(f.code, f.severity, f.path) for f in found] == [
        ("graph.duplicate-edge", "warning", ("edges", 2))
    ]


def _roles(length: int) -> list[Role]:
    middle: list[Role] = ["node"] * (length - 2)
    return ["source", *middle, "sink"]


@pytest.mark.parametrize(
    ("chain", "code", "message"),
    [
        pytest.param(
            ["synthetic_camera", "jsonl_sink"],
            "graph.non-portable",
            "frames cannot flow into jsonl_sink 'n1', which needs JSON-portable payloads",
            id="frames-into-jsonl",
        ),
        pytest.param(
            ["synthetic_camera", "identity", "identity", "http_sink"],
            "graph.non-portable",
            "frames cannot flow into http_sink 'n3', which needs JSON-portable payloads",
            id="frames-through-pass-through-nodes",
        ),
        pytest.param(
            ["synthetic_camera", "motion_detector", "motion_detector", "print_sink"],
            "graph.kind-mismatch",
            "motion_detector 'n2' takes frames, but 'n1' sends events",
            id="events-into-motion",
        ),
        pytest.param(
            ["synthetic_camera", "jsonl_sink", "motion_detector", "print_sink"],
            "graph.non-portable",
            "frames cannot flow into jsonl_sink 'n1', which needs JSON-portable payloads",
            id="forwarding-sink",
        ),
    ],
)
def test_payload_kinds_along_edges(chain: list[str], code: str, message: str) -> None:
    kinds = _roles(len(chain))
    nodes = [n(f"n{i}", kinds[i], plugin, i) for i, plugin in enumerate(chain)]
    edges = [e(f"n{i}", f"n{i + 1}", i) for i in range(len(chain) - 1)]
    found = [f for f in check_graph(nodes, edges) if f.severity == "error"]
    assert [(f.code, f.message) for f in found] == [(code, message)]


@pytest.mark.parametrize(
    "chain",
    [
        pytest.param(
            ["synthetic_camera", "motion_detector", "identity", "jsonl_sink"], id="events-through-identity"
        ),
        pytest.param(["synthetic_camera", "identity", "print_sink"], id="frames-into-print"),
        pytest.param(["static_source", "jsonl_sink"], id="unknown-kinds-pass"),
        pytest.param(["synthetic_camera", "motion_detector", "mqtt_sink"], id="events-into-mqtt"),
    ],
)
def test_compatible_chains_pass(chain: list[str]) -> None:
    kinds = _roles(len(chain))
    nodes = [n(f"n{i}", kinds[i], plugin, i) for i, plugin in enumerate(chain)]
    edges = [e(f"n{i}", f"n{i + 1}", i) for i in range(len(chain) - 1)]
    assert check_graph(nodes, edges) == []


def test_unresolved_plugin_is_treated_as_unknown_kinds() -> None:
    mystery = NodeRef("mystery", "node", 1, None)
    edges = [e("cam", "mystery", 0), e("mystery", "out", 1)]
    assert check_graph([CAM, mystery, OUT], edges) == []


def test_fan_in_of_frames_and_events() -> None:
    both = [CAM, MOTION, n("mix", "node", "identity", 2), n("out", "sink", "jsonl_sink", 3)]
    edges = [e("cam", "motion", 0), e("motion", "mix", 1), e("cam", "mix", 2), e("mix", "out", 3)]
    found = check_graph(both, edges)
    assert codes(found) == [("graph.non-portable", ("edges", 3, "to"))]
    assert found[0].hint is not None and "'mix' sends events and frames" in found[0].hint
