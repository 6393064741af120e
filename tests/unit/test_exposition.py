"""The Prometheus exposition and the engine's health judgement.

The exposition is written from snapshots, so these tests hand it snapshots and read the text
back with prometheus_client's own parser; the engine's health runs a real engine and injects
the time it is judged at. A real scraper and promtool check the same output in
tests/integration/test_prometheus.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.runtime._exposition import exposition
from schnitzel_stream.runtime.inproc import Engine, EngineOptions
from schnitzel_stream.runtime.sdnotify import Notifier
from schnitzel_stream.runtime.snapshot import Health, NodeSnapshot
from tests.unit.test_engine import make_graph

HOSTILE = 'cam"} evil{x="1\nnext\\'


class Fixed:
    """An engine view with fixed snapshots."""

    def __init__(self, nodes: list[NodeSnapshot], health: Health | None = None) -> None:
        self.nodes = nodes
        self._health = health or Health(True, "running")

    def snapshots(self) -> list[NodeSnapshot]:
        return self.nodes

    def health(self, now: float | None = None) -> Health:
        return self._health

    @property
    def uptime(self) -> float:
        return 42.0


def _snapshot(node_id: str, plugin: str, kind: str, **fields: Any) -> NodeSnapshot:
    base: dict[str, Any] = {
        "n_in": 0,
        "n_out": 0,
        "dropped": 0,
        "errors": 0,
        "proc_ns": 0,
        "inbox_depth": 0,
        "extra": {},
    }
    base.update(fields)
    return NodeSnapshot(node_id=node_id, plugin=plugin, kind=kind, **base)


def _scrape(view: Fixed) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = exposition(view, graph="g.yaml").decode()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _one(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str, **labels: str) -> float:
    found = [v for k, v in samples[name].items() if all(dict(k).get(a) == b for a, b in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


def test_node_queue_http_and_camera_figures_under_their_prometheus_names() -> None:
    processing = LatencyHistogram()
    for ns in (2_000, 3_000, 5_000_000):
        processing.observe_ns(ns)
    request = LatencyHistogram()
    request.observe_sec(0.02)
    nodes = [
        _snapshot(
            "cam",
            "rtsp_camera",
            "source",
            n_out=90,
            live=True,
            extra={
                "frames": 90,
                "reconnects": 2,
                "stalls": 1,
                "connected": 1,
                "frame_age_ms": 250,
                "live_edge_lag_ms": 1500,
            },
        ),
        _snapshot(
            "enqueue",
            "sqlite_queue_sink",
            "sink",
            n_in=7,
            inbox_depth=3,
            inbox_capacity=1024,
            target="/var/lib/q.sqlite3",
            extra={"depth": 12, "oldest_age_ms": 61_000, "dead": 2, "disk_full_now": 1, "enqueued": 7},
        ),
        _snapshot(
            "backend",
            "http_sink",
            "node",
            n_in=10,
            n_out=6,
            proc_ns=processing.sum_ns,
            processing=processing.snapshot(),
            histograms={"request": request.snapshot()},
            extra={
                "sent": 6,
                "dropped": 4,
                "status_2xx": 6,
                "status_5xx": 9,
                "retries": 9,
                "budget_waits": 3,
                "timeouts": 1,
            },
        ),
    ]
    samples = _scrape(Fixed(nodes))
    p = "schnitzel_stream_"
    assert _one(samples, p + "node_packets_out_total", node="cam") == 90
    assert _one(samples, p + "node_inbox_depth", node="enqueue") == 3
    assert _one(samples, p + "camera_frame_age_seconds", node="cam") == 0.25
    assert _one(samples, p + "camera_live_edge_lag_seconds", node="cam") == 1.5
    assert _one(samples, p + "camera_reconnects_total", node="cam") == 2
    assert _one(samples, p + "queue_depth", node="enqueue", queue="/var/lib/q.sqlite3") == 12
    assert _one(samples, p + "queue_oldest_age_seconds", node="enqueue") == 61.0
    assert _one(samples, p + "queue_dead_letters", node="enqueue") == 2
    assert _one(samples, p + "queue_disk_full", node="enqueue") == 1
    assert _one(samples, p + "http_requests_total", node="backend", **{"class": "5xx"}) == 9
    assert _one(samples, p + "http_request_errors_total", node="backend", error="timeout") == 1
    assert _one(samples, p + "http_retry_budget_exhausted_total", node="backend") == 3
    assert _one(samples, p + "sink_packets_total", node="backend", outcome="dropped") == 4
    assert _one(samples, p + "sink_packets_total", node="enqueue", outcome="delivered") == 7
    # The processing histogram: cumulative buckets, count and sum in seconds.
    assert _one(samples, p + "node_processing_seconds_bucket", node="backend", le="8.192e-06") == 2
    assert _one(samples, p + "node_processing_seconds_bucket", node="backend", le="+Inf") == 3
    assert _one(samples, p + "node_processing_seconds_count", node="backend") == 3
    assert abs(_one(samples, p + "node_processing_seconds_sum", node="backend") - 0.005005) < 1e-9
    assert _one(samples, p + "http_request_duration_seconds_count", node="backend") == 1
    assert _one(samples, p + "uptime_seconds") == 42.0
    assert _one(samples, p + "alive") == 1 and _one(samples, p + "ready") == 1
    build = _one(samples, p + "build_info", graph="g.yaml")
    assert build == 1
    assert "process_cpu_seconds_total" in samples


def test_hostile_node_ids_stay_inside_their_label_value() -> None:
    samples = _scrape(Fixed([_snapshot(HOSTILE, "identity", "sink", n_in=5)]))
    assert _one(samples, "schnitzel_stream_node_packets_in_total", node=HOSTILE) == 5
    assert all(dict(k).keys() == {"node"} for k in samples["schnitzel_stream_node_packets_in_total"])
    assert _one(samples, "schnitzel_stream_node_info", node=HOSTILE, plugin="identity", kind="sink") == 1


def test_not_alive_and_not_ready_show_as_zero() -> None:
    waiting = _snapshot("cam", "rtsp_camera", "source", live=True)
    samples = _scrape(Fixed([waiting], Health(False, "running", "node 'x' hangs")))
    assert _one(samples, "schnitzel_stream_alive") == 0
    assert _one(samples, "schnitzel_stream_ready") == 0


def _start(engine: Engine) -> threading.Thread:
    thread = threading.Thread(target=engine.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while engine.health().phase != "running":
        assert time.monotonic() < deadline, "the engine never started"
        time.sleep(0.01)
    return thread


def test_health_is_the_watchdogs_judgement_of_a_node_stuck_in_process() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("stuck", "sink", "Hang", {})],
        [("src", "stuck")],
    )
    engine = Engine(
        graph, EngineOptions(hang_timeout=30.0, drain_timeout=0.2, stop_grace=0.2), notifier=Notifier(None)
    )
    assert engine.health() == Health(True, "starting", "building the nodes")
    thread = _start(engine)
    try:
        deadline = time.monotonic() + 30
        while engine._hung_node(time.monotonic() + 31.0) is None:  # wait until the node is inside process()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        now = time.monotonic()
        assert engine.health(now).alive
        later = engine.health(now + 31.0)
        assert not later.alive
        assert "node 'stuck' has been inside process()" in later.reason
    finally:
        engine.stop_requested = "test"
        thread.join(10)
    assert engine.health() == Health(False, "stopped", "the graph is stopped")


def test_health_fails_when_the_supervising_loop_stops_running() -> None:
    graph = make_graph(
        [("src", "source", "Counter", {"count": 0, "interval": 0.01}), ("out", "sink", "Collect", {})],
        [("src", "out")],
    )
    engine = Engine(graph, EngineOptions(hang_timeout=5.0), notifier=Notifier(None))
    thread = _start(engine)
    try:
        health = engine.health(time.monotonic() + 60.0)
        assert not health.alive and "supervising loop has not run" in health.reason
        snapshots = engine.snapshots()
        assert [s.node_id for s in snapshots] == ["src", "out"]
    finally:
        engine.stop_requested = "test"
        thread.join(10)


def test_the_server_answers_and_leaves_the_switch_interval_as_it_was() -> None:
    import sys
    import urllib.error
    import urllib.request

    from schnitzel_stream.runtime.metrics import MetricsServer

    before = sys.getswitchinterval()
    view = Fixed(
        [_snapshot("cam", "rtsp_camera", "source", live=True)], Health(False, "running", "node 'x' hangs")
    )
    server = MetricsServer(view, ("127.0.0.1", 0))
    server.start()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{server.url}/metrics", timeout=10) as answer:
            assert answer.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert b"schnitzel_stream_alive 0" in answer.read()
        for path, reason in (("/healthz", "node 'x' hangs"), ("/readyz", "node 'x' hangs")):
            try:
                opener.open(f"{server.url}{path}", timeout=10)
            except urllib.error.HTTPError as error:
                assert error.code == 503
                assert reason in error.read().decode()
            else:
                raise AssertionError(f"{path} answered 200 for a hung engine")
    finally:
        server.close()
    assert sys.getswitchinterval() == before
