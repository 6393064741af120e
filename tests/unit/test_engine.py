"""The in-process engine: ordering, fan-out/fan-in, backpressure policies, stop and failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from schnitzel_stream.graph.model import Edge, Graph, NodeDecl, Overflow, RuntimeOptions
from schnitzel_stream.nodes.base import Role
from schnitzel_stream.runtime.inproc import Engine, EngineOptions, RunResult
from schnitzel_stream.runtime.sdnotify import Notifier
from tests.support import nodes

NodeRow = tuple[str, Role, str, dict[str, Any]]


def make_graph(rows: Sequence[NodeRow], edges: Sequence[tuple[str, str]], **runtime: RuntimeOptions) -> Graph:
    decls = []
    for index, (node_id, kind, cls_name, config) in enumerate(rows):
        cls = getattr(nodes, cls_name)
        decls.append(
            NodeDecl(
                id=node_id,
                kind=kind,
                plugin=cls.SPEC.target,
                spec=cls.SPEC,
                config=config,
                runtime=runtime.get(node_id, RuntimeOptions()),
                index=index,
            )
        )
    return Graph(nodes=tuple(decls), edges=tuple(Edge(s, d, i) for i, (s, d) in enumerate(edges)))


def run(graph: Graph, stop_after: float | None = None, **options: Any) -> tuple[RunResult, float]:
    engine = Engine(graph, EngineOptions(**options), notifier=Notifier(None))
    if stop_after is not None:
        threading.Timer(stop_after, lambda: setattr(engine, "stop_requested", "SIGTERM")).start()
    started = time.monotonic()
    result = engine.run()
    return result, time.monotonic() - started


def values(node_id: str) -> list[int]:
    return [p.payload["n"] for p in nodes.COLLECTED[node_id]]


def test_linear_chain_delivers_everything_in_order_and_closes_every_node() -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 500}),
            ("mid", "node", "Collect", {}),
            ("out", "sink", "Collect", {}),
        ],
        [("src", "mid"), ("mid", "out")],
    )
    nodes.CLOSED.clear()
    result, _ = run(graph)
    assert result.reason == "completed"
    assert result.exit_code == 0
    assert values("out") == list(range(500))
    assert sorted(nodes.CLOSED) == ["mid", "out", "src"]
    report = result.report["nodes"]
    assert report["src"]["out"] == 500
    assert report["mid"]["in"] == 500 and report["mid"]["out"] == 500
    assert report["out"]["in"] == 500


def test_fan_out_copies_to_every_branch_and_fan_in_merges_all_sources() -> None:
    graph = make_graph(
        [
            ("a", "source", "Counter", {"count": 100}),
            ("b", "source", "Counter", {"count": 50}),
            ("left", "sink", "Collect", {}),
            ("right", "sink", "Collect", {}),
        ],
        [("a", "left"), ("a", "right"), ("b", "right")],
    )
    result, _ = run(graph)
    assert result.reason == "completed"
    assert values("left") == list(range(100))
    merged = nodes.COLLECTED["right"]
    assert len(merged) == 150
    assert sorted(p.payload["n"] for p in merged if p.source_id == "b") == list(range(50))


def test_block_policy_applies_backpressure_without_loss() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 200}), ("slow", "sink", "Collect", {"delay": 0.0005})],
        [("src", "slow")],
        slow=RuntimeOptions(inbox_max=4, inbox_overflow="block"),
    )
    result, _ = run(graph)
    assert values("slow") == list(range(200))
    assert result.report["nodes"]["slow"]["dropped"] == 0


@pytest.mark.parametrize(
    ("policy", "keeps_first"),
    [pytest.param("drop_oldest", False, id="drop-oldest"), pytest.param("drop_new", True, id="drop-new")],
)
def test_drop_policies_count_what_they_drop(policy: Overflow, keeps_first: bool) -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 300}), ("slow", "sink", "Collect", {"delay": 0.002})],
        [("src", "slow")],
        slow=RuntimeOptions(inbox_max=5, inbox_overflow=policy),
    )
    result, _ = run(graph)
    got = values("slow")
    dropped = result.report["nodes"]["slow"]["dropped"]
    assert dropped > 0
    assert len(got) + dropped == 300
    assert got == sorted(got)
    # drop_new keeps the head of the stream; drop_oldest always keeps the newest packet.
    assert (got[-1] != 299) is keeps_first


def test_live_sources_default_to_drop_oldest_downstream() -> None:
    graph = make_graph(
        [("cam", "source", "LiveCounter", {"count": 300}), ("slow", "sink", "Collect", {"delay": 0.002})],
        [("cam", "slow")],
        slow=RuntimeOptions(inbox_max=5),
    )
    result, _ = run(graph)
    assert result.report["nodes"]["slow"]["dropped"] > 0
    assert values("slow")[-1] == 299


def test_error_policy_stops_the_graph_naming_the_node() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 1000}), ("slow", "sink", "Collect", {"delay": 0.01})],
        [("src", "slow")],
        slow=RuntimeOptions(inbox_max=2, inbox_overflow="error"),
    )
    result, _ = run(graph, drain_timeout=0.5)
    assert result.reason == "failed"
    assert result.exit_code == 1
    assert result.error is not None
    assert "'slow'" in str(result.error) and "full" in str(result.error)


def test_graceful_stop_drains_and_closes_quickly() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.001}), ("out", "sink", "Collect", {})],
        [("src", "out")],
    )
    nodes.CLOSED.clear()
    result, elapsed = run(graph, stop_after=0.3)
    assert result.reason == "stopped"
    assert result.exit_code == 0
    assert elapsed < 2.0
    produced = result.report["nodes"]["src"]["out"]
    assert produced > 0
    assert len(values("out")) == produced  # drained: nothing in flight was lost
    assert sorted(nodes.CLOSED) == ["out", "src"]


def test_a_node_that_ignores_the_drain_is_interrupted_at_the_deadline() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("stuck", "sink", "Hang", {})],
        [("src", "stuck")],
    )
    result, elapsed = run(graph, stop_after=0.2, drain_timeout=0.5, stop_grace=0.5)
    assert result.reason == "stopped"
    assert elapsed < 2.0


def test_a_failing_node_fails_the_run_with_its_name() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 100}), ("bad", "sink", "Fail", {"at": 5})],
        [("src", "bad")],
    )
    result, _ = run(graph)
    assert result.reason == "failed"
    assert result.exit_code == 1
    assert "'bad'" in str(result.error) and "boom at packet 5" in str(result.error)
    assert result.report["nodes"]["bad"]["errors"] == 1
    assert result.report["error"][0]["code"] == "runtime.node-failed"


def test_max_events_stops_after_the_sinks_received_that_many() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0}), ("out", "sink", "Collect", {})], [("src", "out")]
    )
    result, _ = run(graph, max_events=1000)
    assert result.reason == "max_events"
    assert result.exit_code == 0
    assert len(values("out")) >= 1000


def test_duration_limit_stops_gracefully() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("out", "sink", "Collect", {})],
        [("src", "out")],
    )
    result, elapsed = run(graph, duration=0.4)
    assert result.reason == "duration"
    assert 0.4 <= elapsed < 2.0
