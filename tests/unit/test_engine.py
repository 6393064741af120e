"""The in-process engine: ordering, fan-out/fan-in, backpressure policies, stop and failure,
and operator chaining (which nodes share a thread).

No test here bounds wall time: overflow is forced by making a sink wait until its source
has emitted everything (``after``), limits run on an injected clock, and a stop that hangs
would hang the test rather than make a timing assertion fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
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
                position=index,
            )
        )
    return Graph(nodes=tuple(decls), edges=tuple(Edge(s, d, i) for i, (s, d) in enumerate(edges)))


def run(graph: Graph, **options: Any) -> RunResult:
    return Engine(graph, EngineOptions(**options), notifier=Notifier(None)).run()


def run_until(graph: Graph, ready: Callable[[], bool], **options: Any) -> RunResult:
    """Run, and ask for a graceful stop (as SIGTERM does) once ``ready()`` holds."""
    engine = Engine(graph, EngineOptions(**options), notifier=Notifier(None))

    def stop_when_ready() -> None:
        while not ready():
            time.sleep(0.01)
        engine.stop_requested = "SIGTERM"

    threading.Thread(target=stop_when_ready, daemon=True).start()
    return engine.run()


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
    result = run(graph)
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
    result = run(graph)
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
    result = run(graph)
    assert values("slow") == list(range(200))
    assert result.report["nodes"]["slow"]["dropped"] == 0


@pytest.mark.parametrize(
    ("policy", "keeps_first"),
    [pytest.param("drop_oldest", False, id="drop-oldest"), pytest.param("drop_new", True, id="drop-new")],
)
def test_drop_policies_count_what_they_drop(policy: Overflow, keeps_first: bool) -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 300}), ("slow", "sink", "Collect", {"after": "src"})],
        [("src", "slow")],
        slow=RuntimeOptions(inbox_max=5, inbox_overflow=policy),
    )
    result = run(graph)
    got = values("slow")
    dropped = result.report["nodes"]["slow"]["dropped"]
    assert dropped > 0
    assert len(got) + dropped == 300
    assert got == sorted(got)
    # drop_new keeps the head of the stream; drop_oldest always keeps the newest packet.
    assert (got[-1] != 299) is keeps_first


def test_live_sources_default_to_drop_oldest_downstream() -> None:
    graph = make_graph(
        [("cam", "source", "LiveCounter", {"count": 300}), ("slow", "sink", "Collect", {"after": "cam"})],
        [("cam", "slow")],
        slow=RuntimeOptions(inbox_max=5),
    )
    result = run(graph)
    assert result.report["nodes"]["slow"]["dropped"] > 0
    assert values("slow")[-1] == 299


def test_error_policy_stops_the_graph_naming_the_node() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 1000}), ("slow", "sink", "Collect", {"after": "src"})],
        [("src", "slow")],
        slow=RuntimeOptions(inbox_max=2, inbox_overflow="error"),
    )
    result = run(graph, drain_timeout=0.5)
    assert result.reason == "failed"
    assert result.exit_code == 1
    assert result.error is not None
    assert "'slow'" in str(result.error) and "full" in str(result.error)


def test_graceful_stop_drains_and_closes_every_node() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.001}), ("out", "sink", "Collect", {})],
        [("src", "out")],
    )
    nodes.CLOSED.clear()
    result = run_until(graph, lambda: len(nodes.COLLECTED.get("out", ())) >= 20)
    assert result.reason == "stopped"
    assert result.exit_code == 0
    produced = result.report["nodes"]["src"]["out"]
    assert produced >= 20
    assert len(values("out")) == produced  # drained: nothing in flight was lost
    assert sorted(nodes.CLOSED) == ["out", "src"]


@pytest.mark.parametrize(
    "hang", [pytest.param("Hang", id="own-thread"), pytest.param("InlineHang", id="fused")]
)
def test_a_node_that_ignores_the_drain_is_interrupted_at_the_deadline(hang: str) -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("stuck", "sink", hang, {})],
        [("src", "stuck")],
    )
    nodes.ENTERED.pop("stuck", None)
    engine = Engine(graph, EngineOptions(drain_timeout=0.2, stop_grace=0.2), notifier=Notifier(None))

    def stop_when_stuck() -> None:
        nodes.ENTERED.setdefault("stuck", threading.Event()).wait()
        engine.stop_requested = "SIGTERM"

    threading.Thread(target=stop_when_stuck, daemon=True).start()
    result = engine.run()
    assert result.reason == "stopped"
    stuck = next(r.node for r in engine._runners if r.decl.id == "stuck")
    assert stuck.interrupted.is_set()  # the drain ran out and the engine interrupted it


def test_a_failing_node_fails_the_run_with_its_name() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 100}), ("bad", "sink", "Fail", {"at": 5})],
        [("src", "bad")],
    )
    result = run(graph)
    assert result.reason == "failed"
    assert result.exit_code == 1
    assert "'bad'" in str(result.error) and "boom at packet 5" in str(result.error)
    assert result.report["nodes"]["bad"]["errors"] == 1
    assert result.report["error"][0]["code"] == "runtime.node-failed"


def test_max_events_stops_after_the_sinks_received_that_many() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0}), ("out", "sink", "Collect", {})], [("src", "out")]
    )
    result = run(graph, max_events=1000)
    assert result.reason == "max_events"
    assert result.exit_code == 0
    assert len(values("out")) >= 1000


def test_duration_limit_stops_gracefully_on_the_engine_clock() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("out", "sink", "Collect", {})],
        [("src", "out")],
    )
    ticks = iter(range(1_000_000))

    def clock() -> float:  # one second per reading: the 3 s limit passes after a few ticks
        return float(next(ticks))

    engine = Engine(graph, EngineOptions(duration=3.0), notifier=Notifier(None), clock=clock)
    result = engine.run()
    assert result.reason == "duration"
    assert result.report["duration_sec"] >= 3.0
    assert len(values("out")) == result.report["nodes"]["src"]["out"]


# -- operator chaining -------------------------------------------------------------------


def test_nodes_that_do_not_block_run_on_their_upstream_thread_with_their_own_counters() -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 300}),
            ("a", "node", "Inline", {}),
            ("b", "node", "Inline", {}),
            ("out", "sink", "Collect", {}),  # blocks: a thread of its own behind an inbox
        ],
        [("src", "a"), ("a", "b"), ("b", "out")],
    )
    engine = Engine(graph, EngineOptions(), notifier=Notifier(None))
    result = engine.run()
    assert result.reason == "completed"
    assert nodes.THREADS["a"] == nodes.THREADS["b"] == {"ss-src"}
    assert nodes.THREADS["out"] == {"ss-out"}
    assert [chain.name for chain in engine._chains] == ["src -> a -> b", "out"]
    assert values("out") == list(range(300))
    report = result.report["nodes"]
    for node_id in ("a", "b"):
        assert report[node_id]["in"] == report[node_id]["out"] == 300
        assert report[node_id]["processing_ms"] > 0
        assert report[node_id]["inbox_depth"] == 0
    assert report["out"]["in"] == 300
    # Snapshots (/metrics, the status line) and the per-packet histograms: one entry per
    # packet for every node, fused or not; health judges the fused nodes too.
    snapshots = {snap.node_id: snap for snap in engine.snapshots()}
    for node_id in ("a", "b", "out"):
        assert sum(snapshots[node_id].processing.counts) == snapshots[node_id].n_in == 300
        assert snapshots[node_id].processing.sum_ns == snapshots[node_id].proc_ns > 0
    assert engine.health().phase == "stopped"


def test_fan_out_fan_in_and_requested_inboxes_keep_their_hand_offs() -> None:
    graph = make_graph(
        [
            ("a", "source", "Counter", {"count": 50}),
            ("b", "source", "Counter", {"count": 50}),
            ("left", "node", "Inline", {}),  # a fans out: own thread
            ("right", "node", "Inline", {}),
            ("merge", "node", "Inline", {}),  # fan-in from left and b: own thread
            ("tail", "node", "Inline", {}),  # after merge, nothing special: fused into merge
            ("asked", "sink", "Inline", {}),  # the graph asked for an inbox: own thread
        ],
        [
            ("a", "left"),
            ("a", "right"),
            ("left", "merge"),
            ("b", "merge"),
            ("merge", "tail"),
            ("tail", "asked"),
        ],
        asked=RuntimeOptions(inbox_max=16),
    )
    engine = Engine(graph, EngineOptions(), notifier=Notifier(None))
    result = engine.run()
    assert result.reason == "completed"
    assert nodes.THREADS["left"] == {"ss-left"} and nodes.THREADS["right"] == {"ss-right"}
    assert nodes.THREADS["merge"] == nodes.THREADS["tail"] == {"ss-merge"}
    assert nodes.THREADS["asked"] == {"ss-asked"}
    assert len(values("asked")) == 100


def test_a_fused_node_that_fails_is_named_and_counted() -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 100}),
            ("ok", "node", "Inline", {}),
            ("bad", "sink", "InlineFail", {"at": 5}),
        ],
        [("src", "ok"), ("ok", "bad")],
    )
    result = run(graph)
    assert result.reason == "failed"
    assert "'bad'" in str(result.error) and "boom at packet 5" in str(result.error)
    report = result.report["nodes"]
    assert report["bad"]["errors"] == 1
    assert report["ok"]["errors"] == report["src"]["errors"] == 0
    assert report["bad"]["in"] == 4  # the fifth raised


def test_the_watchdog_names_a_fused_node_that_hangs() -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 0, "interval": 0.01}),
            ("ok", "node", "Inline", {}),
            ("stuck", "sink", "InlineHang", {}),
        ],
        [("src", "ok"), ("ok", "stuck")],
    )
    nodes.ENTERED.pop("stuck", None)
    engine = Engine(graph, EngineOptions(drain_timeout=0.1, stop_grace=0.1), notifier=Notifier(None))
    seen: list[list[tuple[str, float]]] = []

    def inspect_then_stop() -> None:
        nodes.ENTERED.setdefault("stuck", threading.Event()).wait()
        seen.append(engine.hung_nodes(0.0))
        seen.append(engine.hung_nodes(3600.0))
        engine.stop_requested = "SIGTERM"

    threading.Thread(target=inspect_then_stop, daemon=True).start()
    assert engine.run().reason == "stopped"
    hung, within_limit = seen
    assert [node_id for node_id, _ in hung] == ["stuck"]
    assert within_limit == []


def test_max_events_counts_a_fused_sink() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0}), ("out", "sink", "Inline", {})], [("src", "out")]
    )
    result = run(graph, max_events=100)
    assert result.reason == "max_events"
    assert len(values("out")) >= 100


def test_a_fused_node_s_time_excludes_the_nodes_after_it() -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 20}),
            ("quick", "node", "Inline", {}),
            ("slow", "sink", "Inline", {"delay": 0.01}),
        ],
        [("src", "quick"), ("quick", "slow")],
    )
    report = run(graph).report["nodes"]
    assert report["slow"]["processing_ms"] >= 20 * 10  # a sleep never ends early
    # quick's own work is a list append; were slow's time counted in it, it would be as large.
    assert report["quick"]["processing_ms"] < report["slow"]["processing_ms"] / 2


@pytest.mark.parametrize(
    "stop", [pytest.param(False, id="end-of-input"), pytest.param(True, id="stop-request")]
)
def test_fused_nodes_are_flushed_in_order_before_the_nodes_after_them_stop(stop: bool) -> None:
    graph = make_graph(
        [
            ("src", "source", "Counter", {"count": 0 if stop else 40, "interval": 0.001 if stop else 0}),
            ("first", "node", "InlineHolder", {}),
            ("second", "node", "InlineHolder", {}),
            ("out", "sink", "Collect", {}),
        ],
        [("src", "first"), ("first", "second"), ("second", "out")],
    )
    engine = Engine(graph, EngineOptions(), notifier=Notifier(None))
    if stop:

        def stop_after_20() -> None:
            while not engine._runners or engine._runners[0].n_out < 20:
                time.sleep(0.01)
            engine.stop_requested = "SIGTERM"

        threading.Thread(target=stop_after_20, daemon=True).start()
    result = engine.run()
    report = result.report["nodes"]
    emitted = report["src"]["out"]
    assert emitted >= 20
    # first's flush went through second (which held it too) and second's flush reached out.
    assert report["first"]["out"] == report["second"]["in"] == emitted
    assert values("out") == list(range(emitted))
