"""What became of the packets: per-sink delivery accounting, readiness, and the run summary.

The snapshot records are the ones the engine builds; these tests fill them by hand to pin
the judgements down (the e2e and integration tests run them against real sinks).
"""

from __future__ import annotations

from typing import Any

import pytest

from schnitzel_stream.runtime import report
from schnitzel_stream.runtime.snapshot import DELIVERY_COUNTERS, Health, NodeSnapshot, not_ready, readiness

RUNNING = Health(True, "running")


def node(node_id: str, plugin: str, kind: str, *, n_in: int = 0, n_out: int = 0, live: bool = False,
         **extra: int) -> NodeSnapshot:  # fmt: skip
    return NodeSnapshot(
        node_id=node_id, plugin=plugin, kind=kind, n_in=n_in, n_out=n_out, dropped=0, errors=0,
        proc_ns=0, inbox_depth=0, extra=dict(extra), live=live,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("snapshot", "expected"),
    [
        pytest.param(
            node("h", "http_sink", "node", n_in=10, sent=6, dropped=1, kept=2, dead_lettered=1),
            {"delivered": 6, "dropped": 1, "kept": 2, "dead_lettered": 1, "pending": 0},
            id="http",
        ),
        pytest.param(
            node("m", "mqtt_sink", "sink", n_in=5, published=3, dropped=2),
            {"delivered": 3, "dropped": 2, "kept": 0, "dead_lettered": 0, "pending": 0},
            id="mqtt",
        ),
        pytest.param(
            node("j", "jsonl_sink", "sink", n_in=4, lines=3), {"delivered": 3, "pending": 1}, id="jsonl"
        ),
        pytest.param(
            node("q", "sqlite_queue_sink", "sink", n_in=9, enqueued=7, duplicates=1, not_accepted=1),
            {"delivered": 8, "dropped": 1, "pending": 0},
            id="queue-duplicates-count-as-accepted",
        ),
        pytest.param(
            node("a", "sqlite_queue_ack", "sink", n_in=6, acked=4, ack_already_gone=1, dead_lettered=1),
            {"delivered": 5, "dead_lettered": 1, "pending": 0},
            id="ack",
        ),
        pytest.param(
            node("x", "my.module:Sink", "sink", n_in=3, delivered=2, kept=1),
            {"delivered": 2, "kept": 1, "pending": 0},
            id="third-party-standard-names",
        ),
    ],
)
def test_delivery_counts_come_from_each_sinks_own_counters(
    snapshot: NodeSnapshot, expected: dict[str, int]
) -> None:
    delivery = snapshot.delivery
    assert delivery is not None
    found = delivery.as_dict()
    assert {key: found[key] for key in expected} == expected
    assert found["received"] == snapshot.n_in


def test_nodes_that_deliver_nowhere_have_no_delivery_record() -> None:
    assert node("i", "identity", "sink", n_in=3).delivery is None
    assert node("m", "motion_detector", "node", n_in=3, frames=3).delivery is None
    assert set(DELIVERY_COUNTERS) >= {"http_sink", "mqtt_sink", "jsonl_sink", "sqlite_queue_sink"}


def _report(*nodes: NodeSnapshot, reason: str = "completed") -> dict[str, Any]:
    return {
        "reason": reason,
        "duration_sec": 12.0,
        "nodes": {n.node_id: n.as_dict() for n in nodes},
    }


def test_the_summary_says_in_its_last_line_that_a_sink_dropped_everything() -> None:
    lines = report.summary(
        _report(
            node("cam", "static_source", "source", n_out=23),
            node("h", "http_sink", "sink", n_in=23, dropped=23),
        )
    )
    level, last = lines[-1]
    assert level == "warning"
    assert "h (http_sink) delivered none of its 23 packets (23 dropped)" in last
    assert ("warning", "h (http_sink) received 23 packets: 0 delivered, 23 dropped") in lines


def test_the_summary_names_partial_losses_and_praises_only_a_clean_run() -> None:
    partial = report.summary(_report(node("h", "http_sink", "sink", n_in=10, sent=8, kept=2)))
    assert partial[-1] == ("warning", "run ended (completed) after 12.0s: h (http_sink) 2 kept")
    clean = report.summary(_report(node("j", "jsonl_sink", "sink", n_in=4, lines=4)))
    assert clean[-1] == ("info", "run ended (completed) after 12.0s: every packet was delivered")
    assert clean[0] == ("info", "j (jsonl_sink) received 4 packets: 4 delivered")


def test_readiness_waits_for_live_sources_and_for_a_first_delivery() -> None:
    camera = node("cam", "rtsp_camera", "source", live=True)
    queue = node("dequeue", "sqlite_queue_source", "source")  # not live: opening it was the connection
    idle_sink = node("h", "http_sink", "node")
    assert not_ready([camera, queue, idle_sink]) == ["source cam has not produced or connected yet"]
    connected = node("cam", "rtsp_camera", "source", live=True, connected=1)
    assert not_ready([connected, queue, idle_sink]) == []
    failing = node("h", "http_sink", "node", n_in=3, kept=3)
    assert not_ready([connected, failing]) == ["h has 3 packets and has delivered none yet"]
    first_in_hand = NodeSnapshot(
        node_id="h", plugin="http_sink", kind="node", n_in=0, n_out=0, dropped=0, errors=0, proc_ns=0,
        inbox_depth=4, extra={}, busy=True,
    )  # fmt: skip
    assert not_ready([connected, first_in_hand]) == ["h has 5 packets and has delivered none yet"]
    recovered = node("h", "http_sink", "node", n_in=4, kept=3, sent=1)
    assert not_ready([connected, recovered]) == []


def test_readiness_needs_a_running_and_alive_graph() -> None:
    assert readiness(Health(True, "starting", "building the nodes"), []) == ["the graph is starting"]
    assert readiness(Health(False, "stopping"), []) == ["the graph is stopping"]
    assert readiness(Health(False, "running", "node 'x' has been inside process() for 90s"), []) == [
        "node 'x' has been inside process() for 90s"
    ]
    assert readiness(RUNNING, [node("j", "jsonl_sink", "sink")]) == []
