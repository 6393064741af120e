"""http_sink against a real local backend (ops/ci/test_backend.py) on 127.0.0.1.

Backoff values are tiny so that the whole file stays fast; the waits that are measured
(Retry-After, the retry budget) are behaviour under test, not performance.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from ops.ci.test_backend import LocalBackend

from schnitzel_stream.errors import DeliveryError
from schnitzel_stream.nodes.http import HttpJsonSink
from schnitzel_stream.nodes.http import _sink as http_module
from schnitzel_stream.nodes.http._wire import batch_key
from schnitzel_stream.packet import Packet
from tests.support.net import free_port

if TYPE_CHECKING:
    from tests.support.http_backend import BackendProcess

# Loaded as a plugin, not imported above: pytest must import it first to rewrite its asserts.
pytest_plugins = ["tests.support.http_backend"]

FAST = {"retry_backoff_sec": 0.01, "retry_backoff_max_sec": 0.05, "timeout_sec": 2.0}


def event(i: int, prefix: str = "k", *, seq: int | None = None) -> Packet:
    meta: dict[str, Any] = {"idempotency_key": f"{prefix}-{i}"}
    if seq is not None:
        meta["durable"] = {"seq": seq}
    return Packet.new("event", "cam", {"i": i, "label": "motion"}, meta=meta)


@contextlib.contextmanager
def http_sink(url: str, **config: Any) -> Iterator[HttpJsonSink]:
    sink = HttpJsonSink(node_id="out", config={"url": url, **FAST, **config})
    try:
        yield sink
    finally:
        sink.close()


def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


# -- success path ----------------------------------------------------------------------------


def test_delivers_each_packet_over_one_keepalive_connection(http_backend: LocalBackend) -> None:
    with http_sink(http_backend.url) as sink:
        for i in range(30):
            assert list(sink.process(event(i))) == []
        metrics = sink.metrics()
    stats = http_backend.stats()
    assert stats["connections"] == 1
    assert http_backend.accepted_keys() == [f"k-{i}" for i in range(30)]
    assert [r.body for r in http_backend.records()] == [{"i": i, "label": "motion"} for i in range(30)]
    assert (metrics["requests"], metrics["sent"], metrics["status_2xx"], metrics["retries"]) == (
        30,
        30,
        30,
        0,
    )


def test_sends_configured_headers_and_secret_headers_from_env(
    http_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_SINK_TEST_AUTH", "Bearer tok-from-env-123")
    with http_sink(
        http_backend.url,
        method="PUT",
        headers={"X-Site": "north-gate"},
        headers_from_env={"Authorization": "HTTP_SINK_TEST_AUTH"},
        idempotency_header="X-Dedup",
    ) as sink:
        sink.process(event(1))
    (record,) = http_backend.records()
    assert record.method == "PUT"
    assert record.headers is not None
    headers = {k.lower(): v for k, v in record.headers.items()}
    assert headers["x-site"] == "north-gate"
    assert headers["authorization"] == "Bearer tok-from-env-123"
    assert headers["x-dedup"] == "k-1"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("body", "expected_keys"),
    [
        pytest.param("payload", {"i", "label"}, id="payload"),
        pytest.param("packet", {"packet_id", "ts", "kind", "source_id", "payload", "meta"}, id="packet"),
    ],
)
def test_body_is_payload_or_whole_packet(
    http_backend: LocalBackend, body: str, expected_keys: set[str]
) -> None:
    packet = event(7)
    with http_sink(http_backend.url, body=body) as sink:
        sink.process(packet)
    (record,) = http_backend.records()
    assert set(record.body) == expected_keys
    if body == "packet":
        assert record.body["packet_id"] == packet.packet_id
        assert record.body["meta"]["idempotency_key"] == "k-7"


def test_forward_passes_packets_on_only_after_success(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["400"]})
    with http_sink(http_backend.url, forward=True) as sink:
        assert list(sink.process(event(1))) == []
        (out,) = sink.process(event(2))
    assert out.idempotency_key == "k-2"
    assert out.meta["http"] == {"node_id": "out", "status": 200, "attempts": 1}


class FakeClock:
    """A clock the test moves by hand: batch lingering without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_batch_mode_sends_batches_with_every_key_in_the_body(http_backend: LocalBackend) -> None:
    with http_sink(http_backend.url, batch_max=10, batch_linger_ms=50, forward=True) as sink:
        clock = sink.clock = FakeClock()
        forwarded = [p for i in range(25) for p in sink.process(event(i))]
        assert len(forwarded) == 20  # two full batches went out synchronously
        assert list(sink.tick()) == []  # the last 5 have not lingered long enough yet
        clock.now += 0.051
        forwarded += list(sink.tick())
        metrics = sink.metrics()
    records = http_backend.records()
    assert [r.count for r in records] == [10, 10, 5]
    for record in records:
        assert record.headers is not None
        body = record.body
        assert [item["payload"]["i"] for item in body["items"]] == [int(k.split("-")[1]) for k in record.keys]
        # One short key for the batch in the header, derived from the items' keys, repeated in the body.
        assert record.headers["Idempotency-Key"] == body["idempotency_key"] == batch_key(list(record.keys))
    assert [p.idempotency_key for p in forwarded] == [f"k-{i}" for i in range(25)]
    assert (metrics["requests"], metrics["batches"], metrics["buffered"]) == (3, 3, 0)


def test_flush_sends_the_last_partial_batch_and_passes_it_on(http_backend: LocalBackend) -> None:
    with http_sink(http_backend.url, batch_max=100, batch_linger_ms=60_000, forward=True) as sink:
        assert [p for i in range(7) for p in sink.process(event(i))] == []
        flushed = list(sink.flush())
        assert list(sink.flush()) == []
    assert [p.idempotency_key for p in flushed] == [f"k-{i}" for i in range(7)]
    assert http_backend.accepted_keys() == [f"k-{i}" for i in range(7)]


def test_close_sends_what_is_still_buffered(http_backend: LocalBackend) -> None:
    with http_sink(http_backend.url, batch_max=100, batch_linger_ms=60_000) as sink:
        for i in range(3):
            sink.process(event(i))
        assert http_backend.stats()["requests"] == 0
    assert http_backend.accepted_keys() == ["k-0", "k-1", "k-2"]


def test_failure_of_a_lingering_batch_is_raised_by_tick(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["400"]})
    with http_sink(http_backend.url, batch_max=50, batch_linger_ms=20, on_failure="error") as sink:
        clock = sink.clock = FakeClock()
        sink.process(event(1))
        clock.now += 1.0
        with pytest.raises(DeliveryError, match="HTTP 400"):
            sink.tick()
        assert list(sink.tick()) == []  # raised once
        assert sink.metrics()["failures"] == 1


def test_close_gives_up_on_a_dead_backend_after_its_grace(
    http_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_module, "CLOSE_GRACE_SEC", 0.3)
    http_backend.control({"weights": {"500": 1}})
    sink = HttpJsonSink(
        node_id="out",
        config={
            "url": http_backend.url,
            **FAST,
            "retry_max_attempts": 0,
            "batch_max": 10,
            "batch_linger_ms": 10,
        },
    )
    sink.process(event(1, seq=1))
    started = time.monotonic()
    sink.close()
    # The grace is 0.3 s; the bound is generous so that a busy machine cannot fail it.
    assert time.monotonic() - started < 10.0
    assert http_backend.stats()["requests"] >= 1
    assert (sink.metrics()["kept"], sink.metrics()["interrupted"]) == (1, 1)


# -- retries ---------------------------------------------------------------------------------


def test_retries_server_errors_until_success(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["500", "502", "504"]})
    with http_sink(http_backend.url, retry_max_attempts=5, forward=True) as sink:
        (out,) = sink.process(event(1))
        metrics = sink.metrics()
    assert out.meta["http"]["attempts"] == 4
    assert [r.keys for r in http_backend.records()] == [("k-1",)] * 4
    assert (metrics["retries"], metrics["status_5xx"], metrics["sent"], metrics["failures"]) == (3, 3, 1, 0)


@pytest.mark.parametrize(
    ("status", "as_date", "header_seconds", "at_least"),
    [
        pytest.param("429", False, 1, 1.0, id="429-seconds"),
        pytest.param("503", False, 1, 1.0, id="503-seconds"),
        # An HTTP date has whole-second resolution, so "2 s from now" may be just over 1 s.
        pytest.param("503", True, 2, 0.9, id="503-http-date"),
    ],
)
def test_retry_after_is_honoured(
    http_backend: LocalBackend, status: str, as_date: bool, header_seconds: int, at_least: float
) -> None:
    http_backend.control({"script": [status], "retry_after": header_seconds, "retry_after_date": as_date})
    with http_sink(http_backend.url, retry_backoff_max_sec=5.0) as sink:
        sink.process(event(1))
        assert sink.metrics()["sent"] == 1
    first, second = http_backend.records()
    gap = second.t - first.t
    assert at_least <= gap <= header_seconds + 1.0


def test_retry_after_is_capped_by_backoff_max(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["429"], "retry_after": 120})
    with http_sink(http_backend.url, retry_backoff_max_sec=0.2) as sink:
        sink.process(event(1))
        assert sink.metrics()["sent"] == 1
    first, second = http_backend.records()
    assert second.t - first.t < 2.0


def test_slow_response_past_read_timeout_is_retried(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["slow"], "slow_sec": 1.0})
    with http_sink(http_backend.url, timeout_sec=0.3, connect_timeout_sec=1.0) as sink:
        sink.process(event(1))
        metrics = sink.metrics()
    assert metrics["timeouts"] == 1 and metrics["sent"] == 1
    # The slow request was committed by the backend too: the key is what lets it de-duplicate.
    wait_until(lambda: http_backend.stats()["accepted"] == 2)
    assert http_backend.stats()["unique_keys"] == 1


def test_connection_refused_is_retried_until_the_backend_starts() -> None:
    port = free_port()
    started: list[LocalBackend] = []
    threading.Timer(0.5, lambda: started.append(LocalBackend(port).start())).start()
    try:
        with http_sink(
            f"http://127.0.0.1:{port}/ingest", retry_max_attempts=0, retry_backoff_max_sec=0.1
        ) as sink:
            sink.process(event(1))
            metrics = sink.metrics()
        assert metrics["conn_errors"] >= 1 and metrics["sent"] == 1
        wait_until(lambda: bool(started))
        assert started[0].accepted_keys() == ["k-1"]
    finally:
        wait_until(lambda: bool(started))
        started[0].stop()


def test_outage_with_refused_connections_loses_nothing(http_backend: LocalBackend) -> None:
    with http_sink(http_backend.url, retry_max_attempts=0, retry_backoff_max_sec=0.2) as sink:
        for i in range(5):
            sink.process(event(i))
        http_backend.outage(1.0, "refuse")
        for i in range(5, 20):
            sink.process(event(i))
        metrics = sink.metrics()
    assert set(http_backend.accepted_keys()) == {f"k-{i}" for i in range(20)}
    assert metrics["failures"] == 0 and metrics["conn_errors"] >= 1


@pytest.mark.parametrize("fault", [pytest.param("drop", id="reset"), pytest.param("refuse", id="refused")])
def test_connection_resets_and_refusals_are_retried(http_backend: LocalBackend, fault: str) -> None:
    http_backend.control({"weights": {"200": 2, fault: 1}, "seed": 3, "refuse_sec": 0.1})
    with http_sink(http_backend.url, retry_max_attempts=0, retry_budget_per_sec=0) as sink:
        for i in range(12):
            sink.process(event(i))
        metrics = sink.metrics()
    stats = http_backend.stats()
    assert set(http_backend.accepted_keys()) == {f"k-{i}" for i in range(12)}
    assert stats["status"][fault] > 0
    # Each fault costs the sink at least one connection error (a refusal usually several).
    assert metrics["conn_errors"] >= stats["status"][fault]
    assert stats["outages"] == (stats["status"][fault] if fault == "refuse" else 0)


@pytest.mark.parametrize(
    ("status", "counter"),
    [
        pytest.param("422", "status_4xx", id="422"),
        pytest.param("401", "status_4xx", id="401"),
        # Following a 301/302 would re-send the POST as a GET without the data.
        pytest.param("301", "status_other", id="redirect"),
    ],
)
def test_other_statuses_fail_at_once(http_backend: LocalBackend, status: str, counter: str) -> None:
    http_backend.control({"script": [status]})
    with http_sink(http_backend.url, retry_max_attempts=0) as sink:
        assert list(sink.process(event(1))) == []
        metrics = sink.metrics()
    assert http_backend.stats()["requests"] == 1
    assert (metrics["requests"], metrics["failures"], metrics["dropped"]) == (1, 1, 1)
    assert metrics[counter] == 1


# -- on_failure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "from_queue", "outcome"),
    [
        pytest.param("drop", True, "dropped", id="drop"),
        pytest.param("keep", False, "kept", id="keep"),
        pytest.param("auto", True, "kept", id="auto-from-queue"),
        pytest.param("auto", False, "dropped", id="auto-not-from-queue"),
    ],
)
def test_on_failure_policy(
    http_backend: LocalBackend, caplog: pytest.LogCaptureFixture, policy: str, from_queue: bool, outcome: str
) -> None:
    http_backend.control({"weights": {"500": 1}})
    packet = event(1, seq=41 if from_queue else None)
    with (
        caplog.at_level(logging.WARNING, "schnitzel_stream.nodes.http"),
        http_sink(http_backend.url, retry_max_attempts=2, on_failure=policy, forward=True) as sink,
    ):
        assert list(sink.process(packet)) == []
        metrics = sink.metrics()
    assert metrics[outcome] == 1 and metrics["failures"] == 1 and metrics["requests"] == 2
    assert any("gave up on 1 packet" in r.getMessage() for r in caplog.records)


def test_on_failure_error_raises_delivery_error(http_backend: LocalBackend) -> None:
    http_backend.control({"weights": {"503": 1}, "retry_after": 0})
    with http_sink(http_backend.url, retry_max_attempts=2, on_failure="error") as sink:
        with pytest.raises(DeliveryError) as caught:
            sink.process(event(1))
        assert sink.metrics()["failures"] == 1
    assert "nodes.out" in str(caught.value) and "HTTP 503" in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [object(), float("nan"), float("inf"), "lone surrogate \udce9"],
    ids=["object", "nan", "infinity", "surrogate"],
)
def test_payload_that_is_not_json_is_a_final_failure(http_backend: LocalBackend, value: Any) -> None:
    # Never sent as bare NaN/Infinity (not JSON) nor as text that is not UTF-8.
    with (
        http_sink(http_backend.url, on_failure="error") as sink,
        pytest.raises(DeliveryError, match="not JSON-portable"),
    ):
        sink.process(Packet.new("event", "cam", {"value": value}))
    assert http_backend.stats()["requests"] == 0


def test_retry_budget_bounds_the_request_rate_during_an_outage(http_backend: LocalBackend) -> None:
    rate = 4.0
    outage = 2.0
    http_backend.outage(outage, "500")
    started = time.monotonic()
    with http_sink(
        http_backend.url,
        retry_max_attempts=3,
        retry_backoff_sec=0.001,
        retry_backoff_max_sec=0.001,
        retry_budget_per_sec=rate,
    ) as sink:
        i = 0
        while time.monotonic() - started < outage + 0.3:
            sink.process(event(i))
            i += 1
        metrics = sink.metrics()
    failing = [r for r in http_backend.records() if r.action == "500"]
    # A token bucket with burst == rate allows at most burst + rate * T requests in T seconds;
    # the first, free attempt is the one that discovered the outage.
    assert len(failing) <= rate + rate * outage + 1
    assert metrics["budget_waits"] > 0
    per_second = Counter(int(r.wall) for r in failing)
    assert max(per_second.values()) <= 2 * rate + 1
    # After the outage, packets flow again.
    assert http_backend.stats()["accepted"] >= 1


def test_interrupt_ends_a_long_backoff_promptly(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["503"], "retry_after": 30})
    done = threading.Event()
    with http_sink(http_backend.url, retry_max_attempts=0, retry_backoff_max_sec=60) as sink:

        def deliver() -> None:
            sink.process(event(1, seq=1))
            done.set()

        worker = threading.Thread(target=deliver)
        worker.start()
        wait_until(lambda: http_backend.stats()["requests"] == 1)
        interrupted_at = time.monotonic()
        sink.interrupt()
        assert done.wait(20.0)
        elapsed = time.monotonic() - interrupted_at
        worker.join()
        metrics = sink.metrics()
    # The backoff was 30 s (Retry-After); a generous bound that a busy machine cannot break.
    assert elapsed < 10.0
    assert (metrics["interrupted"], metrics["kept"], metrics["sent"]) == (1, 1, 0)


def test_oversize_response_is_not_read_into_memory(http_backend: LocalBackend) -> None:
    http_backend.control({"script": ["oversize"], "oversize_bytes": 32 * 1024 * 1024})
    with http_sink(http_backend.url, max_response_bytes=4096) as sink:
        tracemalloc.start()
        try:
            sink.process(event(1))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        sink.process(event(2))
        assert sink.metrics()["sent"] == 2
    assert peak < 4 * 1024 * 1024
    assert http_backend.accepted_keys() == ["k-1", "k-2"]


# -- credentials -----------------------------------------------------------------------------


def test_credentials_are_masked_in_logs_and_errors(
    http_backend: LocalBackend, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_SINK_TEST_KEY", "key-4f9a7c21e0")
    # A backend that echoes the credential it rejects, as real ones sometimes do.
    http_backend.control({"weights": {"500": 1}, "error_body": "bad key key-4f9a7c21e0 for user"})
    url = http_backend.url.replace("http://", "http://camera:hunter2-secret@")
    with (
        caplog.at_level(logging.DEBUG, "schnitzel_stream.nodes.http"),
        http_sink(
            url,
            retry_max_attempts=2,
            on_failure="error",
            headers_from_env={"X-Api-Key": "HTTP_SINK_TEST_KEY"},
        ) as sink,
        pytest.raises(DeliveryError) as caught,
    ):
        sink.process(event(1))
    # The credentials did reach the backend (basic auth from the URL, the key header) ...
    record = http_backend.records()[0]
    assert record.headers is not None
    expected_auth = "Basic " + base64.b64encode(b"camera:hunter2-secret").decode()
    assert record.headers["Authorization"] == expected_auth
    # ... and never a log line or the error.
    texts = [str(caught.value)] + [r.getMessage() for r in caplog.records]
    assert len(texts) >= 3
    for text in texts:
        assert "hunter2-secret" not in text
        assert "key-4f9a7c21e0" not in text
    assert "camera:***@" in str(caught.value)


def test_url_from_env_is_shown_without_path(
    http_backend: LocalBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_SINK_TEST_URL", http_backend.url + "/T0KEN-in-path-77")
    http_backend.control({"script": ["400"]})
    sink = HttpJsonSink(
        node_id="hook", config={"url_from_env": "HTTP_SINK_TEST_URL", "on_failure": "error", **FAST}
    )
    try:
        with pytest.raises(DeliveryError) as caught:
            sink.process(event(1))
    finally:
        sink.close()
    assert "T0KEN-in-path-77" not in str(caught.value)
    assert f"http://127.0.0.1:{http_backend.port}/***" in str(caught.value)
    assert http_backend.records()[0].path == "/ingest/T0KEN-in-path-77"


# -- the backend as a subprocess (what CI and the benchmarks run) ------------------------------


def test_backend_subprocess_records_accepted_requests(
    http_backend_process: BackendProcess, tmp_path: Path
) -> None:
    http_backend_process.control(script=["503", "500"], retry_after=0)
    with http_sink(http_backend_process.url, batch_max=4, batch_linger_ms=10) as sink:
        for i in range(8):
            sink.process(event(i))
    stats = http_backend_process.stats()
    assert (stats["requests"], stats["accepted"], stats["payloads"], stats["unique_keys"]) == (4, 2, 8, 8)
    assert stats["status"] == {"503": 1, "500": 1, "200": 2}
    lines = (tmp_path / "backend.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert http_backend_process.stop() == 0


def test_running_backend_context_stops_listening() -> None:
    with LocalBackend() as backend:
        port = backend.port
        with http_sink(backend.url) as sink:
            sink.process(event(1))
    with http_sink(f"http://127.0.0.1:{port}/ingest", retry_max_attempts=1) as sink:
        sink.process(event(2))
        assert sink.metrics()["conn_errors"] == 1


# -- behind the durable queue, in the real engine ---------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "lease_sec"),
    [
        pytest.param(0, 60, id="retry-forever"),
        # Few attempts: on_failure auto = keep, the row stays unacknowledged, its lease expires
        # and the queue delivers it again.
        pytest.param(2, 0.5, id="keep-and-redeliver"),
    ],
)
def test_queue_to_http_to_ack_loses_nothing_through_an_outage(
    http_backend: LocalBackend, tmp_path: Path, attempts: int, lease_sec: float
) -> None:
    from schnitzel_stream.graph.validate import load_graph_text
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.state.sqlite_queue import SqliteQueue

    db = (tmp_path / "q.sqlite3").as_posix()
    queue = SqliteQueue(db)
    try:
        queue.enqueue_many([event(i, "q") for i in range(40)])
        graph = load_graph_text(
            f"""
version: 2
nodes:
  - {{id: q, kind: source, plugin: sqlite_queue_source,
     config: {{path: "{db}", follow: true, limit: 10, lease_sec: {lease_sec}, poll_interval_ms: 20}}}}
  - {{id: out, kind: node, plugin: http_sink,
     config: {{url: "{http_backend.url}", forward: true, retry_max_attempts: {attempts},
              retry_backoff_sec: 0.02, retry_backoff_max_sec: 0.1}}}}
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{db}"}}}}
edges:
  - {{from: q, to: out}}
  - {{from: out, to: ack}}
""",
            "queue-http-ack.yaml",
        )
        http_backend.outage(1.0, "refuse")
        engine = Engine(graph, EngineOptions(duration=20.0, status_interval=0))
        results: list[Any] = []
        runner = threading.Thread(target=lambda: results.append(engine.run()))
        runner.start()
        try:
            wait_until(lambda: queue.stats().depth == 0, timeout=15.0)
        finally:
            engine.stop_requested = "test"
            runner.join(timeout=15.0)
    finally:
        queue.close()
    assert set(http_backend.accepted_keys()) == {f"q-{i}" for i in range(40)}
    (result,) = results
    assert result.error is None
    metrics = result.report["nodes"]["out"]["metrics"]
    assert metrics["sent"] >= 40 and metrics["dropped"] == 0
    if attempts:
        assert metrics["kept"] > 0  # the outage outlasted the attempts: rows were redelivered
