"""Dead letters: a packet its receiver rejects for good is kept aside, never lost or looped.

Behind the durable queue, retrying a packet the backend refuses (HTTP 400/422...) can never
succeed. Keeping it would redeliver it forever; dropping it would lose it. With
``on_failure: auto`` the sink forwards it marked as rejected, ``sqlite_queue_ack`` moves it
to the queue's dead-letter table, and the operator can look at it and requeue it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ops.ci.test_backend import LocalBackend

from schnitzel_stream.graph.validate import load_graph_text
from schnitzel_stream.packet import Packet
from schnitzel_stream.runtime.inproc import Engine, EngineOptions, RunResult
from schnitzel_stream.runtime.sdnotify import Notifier
from schnitzel_stream.state.sqlite_queue import SqliteQueue, peek_queue, requeue_dead


def _event(i: int) -> Packet:
    return Packet.new("event", "cam", {"i": i}, meta={"idempotency_key": f"evt-{i}"})


def _graph(db: str, url: str) -> str:
    return f"""
version: 2
nodes:
  - {{id: q, kind: source, plugin: sqlite_queue_source,
     config: {{path: "{db}", follow: true, limit: 10, lease_sec: 0.5, poll_interval_ms: 20}}}}
  - {{id: out, kind: node, plugin: http_sink,
     config: {{url: "{url}", forward: true, retry_max_attempts: 3, retry_backoff_sec: 0.01,
              retry_backoff_max_sec: 0.05}}}}
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{db}"}}}}
edges:
  - {{from: q, to: out}}
  - {{from: out, to: ack}}
"""


def _run_until(graph_text: str, done: Any, timeout: float = 15.0) -> RunResult:
    engine = Engine(
        load_graph_text(graph_text, "dead-letters.yaml"), EngineOptions(status_interval=0), Notifier(None)
    )
    results: list[RunResult] = []
    runner = threading.Thread(target=lambda: results.append(engine.run()))
    runner.start()
    deadline = time.monotonic() + timeout
    try:
        while not done() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        engine.stop_requested = "test"
        runner.join(timeout=15.0)
    (result,) = results
    return result


def test_a_rejected_packet_goes_to_the_dead_letters_and_the_rest_flows(tmp_path: Path) -> None:
    db = (tmp_path / "q.sqlite3").as_posix()
    with SqliteQueue(db) as queue:
        queue.enqueue_many([_event(i) for i in range(10)])
    # The first request is refused for its content (422); every other one is accepted.
    with LocalBackend(script=["422"]) as backend:
        result = _run_until(_graph(db, backend.url), lambda: len(set(backend.accepted_keys())) >= 9)
        accepted = set(backend.accepted_keys())
        requests = backend.stats()["requests"]
    assert result.error is None
    assert accepted == {f"evt-{i}" for i in range(1, 10)}
    # Rejected once, then never sent again: no redelivery loop.
    assert requests == 10
    with SqliteQueue(db) as queue:
        stats = queue.stats()
    assert (stats.depth, stats.dead) == (0, 1)
    (dead,) = peek_queue(db, 10, dead=True)
    assert dead.key == "evt-0"
    assert result.report["nodes"]["out"]["metrics"]["dead_lettered"] == 1


def test_requeue_dead_delivers_them_once_the_cause_is_fixed(tmp_path: Path) -> None:
    db = (tmp_path / "q.sqlite3").as_posix()
    with SqliteQueue(db) as queue:
        queue.enqueue(_event(1))
        leased = queue.lease(1, 30)
        assert queue.dead_letter(leased[0].seq, "out: HTTP 422")
        assert queue.lease(1, 30) == []  # a dead letter is never delivered again by itself
    assert requeue_dead(db) == 1
    with SqliteQueue(db) as queue:
        (row,) = queue.lease(10, 30)
        assert row.key == "evt-1"
        assert queue.stats().dead == 0


def test_transient_failures_are_kept_not_dead_lettered(tmp_path: Path) -> None:
    db = (tmp_path / "q.sqlite3").as_posix()
    with SqliteQueue(db) as queue:
        queue.enqueue_many([_event(i) for i in range(3)])
    # 503 three times in a row exhausts the attempts of the first packet: kept, redelivered.
    with LocalBackend(script=["503", "503", "503"]) as backend:
        result = _run_until(_graph(db, backend.url), lambda: len(set(backend.accepted_keys())) >= 3)
        accepted = set(backend.accepted_keys())
    assert accepted == {"evt-0", "evt-1", "evt-2"}
    metrics = result.report["nodes"]["out"]["metrics"]
    assert metrics["kept"] >= 1 and metrics["dead_lettered"] == 0
    with SqliteQueue(db) as queue:
        assert queue.stats().dead == 0


def test_the_queue_cli_shows_and_requeues_dead_letters(tmp_path: Path) -> None:
    db = (tmp_path / "q.sqlite3").as_posix()
    with SqliteQueue(db) as queue:
        queue.enqueue(_event(7))
        (row,) = queue.lease(1, 30)
        queue.dead_letter(row.seq, "out: HTTP 400 bad request")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "schnitzel_stream", "queue", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            check=False,
        )

    stats = cli("stats", db, "--format", "json")
    assert json.loads(stats.stdout)["dead"] == 1
    assert "1 dead letters" in cli("stats", db).stdout
    peek = cli("peek", db, "--dead", "--format", "json")
    assert [item["key"] for item in json.loads(peek.stdout)] == ["evt-7"]
    refused = cli("requeue-dead", db)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    moved = cli("requeue-dead", db, "--yes")
    assert moved.returncode == 0 and "moved 1 dead letters" in moved.stdout
    assert json.loads(cli("stats", db, "--format", "json").stdout)["depth"] == 1
