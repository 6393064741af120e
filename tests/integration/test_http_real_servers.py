"""http_sink behind the durable queue against servers nobody here wrote: nginx and uvicorn.

- **nginx** (Debian's nginx-light, default limits) as a reverse proxy in front of the test
  backend (``ops/ci/test_backend.py`` in its own process), and **uvicorn** serving a tiny
  ASGI app (``tests/support/asgi_backend.py``).
- For ``batch_max`` 1, 10 and 500: every queued event arrives (0 lost), the queue ends
  empty (0 left), and with no faults no event arrives twice. 500 events of 2.5 KB are more
  than nginx's 1 MiB body limit: its 413 page splits the batch, it never dead-letters it.
- Every way a graph ends or idles acknowledges exactly what was delivered: end of input,
  ``--max-events``, ``--duration``, SIGTERM, and idle follow mode. The invariant is checked
  as sets: the keys the backend accepted and the keys left in the queue are disjoint and
  together are every key enqueued.
- A proxy's own error page (nginx's 400 for headers that are too large) never
  dead-letters valid events; the application's 422 for one bad event in a batch
  dead-letters that event alone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from schnitzel_stream.graph.validate import load_graph_text
from schnitzel_stream.packet import Packet
from schnitzel_stream.runtime.inproc import Engine, EngineOptions, RunResult
from schnitzel_stream.runtime.sdnotify import Notifier
from schnitzel_stream.state.sqlite_queue import SqliteQueue, peek_queue
from tests.support.asgi_backend import Uvicorn, running_uvicorn
from tests.support.nginx import Nginx, running_nginx
from tests.support.proc import CliProcess, cli_command

if TYPE_CHECKING:
    from tests.support.http_backend import BackendProcess

EVENTS = 1440  # not a multiple of 500: the last batch is partial
BIG = "x" * 2500  # 500 of these make a body larger than nginx's 1 MiB client_max_body_size


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[BackendProcess]:
    # Imported here, not at the top: pytest must load it as a plugin (test_http_sink.py) first.
    from tests.support.http_backend import backend_process

    with backend_process("--keep-bodies") as server:
        yield server


@pytest.fixture
def nginx(tmp_path: Path, backend: BackendProcess) -> Iterator[Nginx]:
    with running_nginx(tmp_path, backend.port) as server:
        yield server


@pytest.fixture
def uvicorn(tmp_path: Path) -> Iterator[Uvicorn]:
    with running_uvicorn(tmp_path / "uvicorn.log") as server:
        yield server


def fill_queue(db: Path, count: int, payload: str = "") -> set[str]:
    keys = [f"q-{i}" for i in range(count)]
    with SqliteQueue(db) as queue:
        queue.enqueue_many(
            Packet.new("event", "cam", {"i": i, "pad": payload}, meta={"idempotency_key": key})
            for i, key in enumerate(keys)
        )
    return set(keys)


def queue_keys(db: Path, *, dead: bool = False) -> list[str]:
    return [row.packet.idempotency_key for row in peek_queue(db, 100_000, dead=dead)]


def graph_text(db: Path, url: str, *, batch_max: int, follow: bool, **sink: Any) -> str:
    config = {
        "url": url,
        "forward": True,
        "batch_max": batch_max,
        "batch_linger_ms": 100,
        "retry_backoff_sec": 0.05,
        "retry_backoff_max_sec": 0.2,
        **sink,
    }
    return f"""
version: 2
nodes:
  - {{id: q, kind: source, plugin: sqlite_queue_source,
     config: {{path: "{db.as_posix()}", follow: {str(follow).lower()}, limit: 1000, poll_interval_ms: 20}}}}
  - {{id: out, kind: node, plugin: http_sink, config: {json.dumps(config)}}}
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{db.as_posix()}", commit_every: 50}}}}
edges:
  - {{from: q, to: out}}
  - {{from: out, to: ack}}
"""


def run_in_process(text: str, timeout: float = 120.0) -> RunResult:
    engine = Engine(
        load_graph_text(text, "real-servers.yaml"), EngineOptions(status_interval=0), Notifier(None)
    )
    results: list[RunResult] = []
    runner = threading.Thread(target=lambda: results.append(engine.run()))
    runner.start()
    runner.join(timeout)
    if runner.is_alive():
        engine.stop_requested = "test"
        runner.join(30)
        raise AssertionError(f"the graph did not end by itself within {timeout}s")
    (result,) = results
    assert result.error is None, result.error
    return result


def accepted_backend(backend: BackendProcess) -> tuple[list[str], int]:
    stats = backend.stats()
    keys = [key for record in backend.records() if record["accepted"] for key in record["keys"]]
    return keys, int(stats["duplicates"])


# -- 0 lost, 0 left, for batch_max 1, 10 and 500 ----------------------------------------------


@pytest.mark.parametrize("batch_max", [1, 10, 500])
def test_nginx_in_front_of_the_backend_loses_nothing_and_leaves_nothing(
    tmp_path: Path, nginx: Nginx, backend: BackendProcess, batch_max: int
) -> None:
    db = tmp_path / "q.sqlite3"
    expected = fill_queue(db, EVENTS, BIG)
    result = run_in_process(graph_text(db, nginx.url(), batch_max=batch_max, follow=False))
    keys, duplicates = accepted_backend(backend)
    assert set(keys) == expected  # 0 lost
    assert len(keys) == len(expected) and duplicates == 0  # no faults, so no duplicates
    assert queue_keys(db) == [] and queue_keys(db, dead=True) == []  # 0 left, nothing dead-lettered
    metrics = result.report["nodes"]["out"]["metrics"]
    assert metrics["sent"] == EVENTS and metrics["failures"] == 0
    assert result.report["nodes"]["ack"]["in"] == EVENTS
    if batch_max == 500:
        # nginx answered 413 (its HTML page, client_max_body_size 1m) and the batches were split.
        assert metrics["status_4xx"] >= 1 and metrics["splits"] >= 1


@pytest.mark.parametrize("batch_max", [1, 10, 500])
def test_uvicorn_loses_nothing_and_leaves_nothing(tmp_path: Path, uvicorn: Uvicorn, batch_max: int) -> None:
    db = tmp_path / "q.sqlite3"
    expected = fill_queue(db, EVENTS, BIG)
    result = run_in_process(graph_text(db, uvicorn.url(), batch_max=batch_max, follow=False))
    state = uvicorn.state()
    assert set(state["keys"]) == expected
    assert len(state["keys"]) == EVENTS and state["duplicates"] == 0
    assert queue_keys(db) == [] and queue_keys(db, dead=True) == []
    assert result.report["nodes"]["ack"]["in"] == EVENTS
    # One keep-alive connection carried every request.
    assert result.report["nodes"]["out"]["metrics"]["connections"] == 1


def test_uvicorn_failing_now_and_then_still_gets_every_event(tmp_path: Path, uvicorn: Uvicorn) -> None:
    uvicorn.control(fail_every=7)
    db = tmp_path / "q.sqlite3"
    expected = fill_queue(db, 300)
    result = run_in_process(graph_text(db, uvicorn.url(), batch_max=10, follow=False, retry_max_attempts=0))
    state = uvicorn.state()
    assert state["failed"] > 0
    assert set(state["keys"]) == expected and queue_keys(db) == []
    # A 503 is answered before the app accepts anything, so even the retries add no duplicate.
    assert state["duplicates"] == 0
    assert result.report["nodes"]["out"]["metrics"]["retries"] >= state["failed"]


# -- every way a graph ends or idles ----------------------------------------------------------


def run_cli(tmp_path: Path, text: str, *args: str) -> CliProcess:
    graph = tmp_path / "graph.yaml"
    graph.write_text(text)
    return CliProcess(
        cli_command("run", str(graph), "--status-interval", "0", *args), log_dir=tmp_path / "logs"
    )


def assert_acknowledged_exactly_what_was_delivered(
    backend: BackendProcess, db: Path, expected: set[str]
) -> None:
    keys, duplicates = accepted_backend(backend)
    left = queue_keys(db)
    assert set(keys).isdisjoint(left), "delivered but not acknowledged"
    assert set(keys) | set(left) == expected, "lost"
    assert duplicates == 0 and len(keys) == len(set(keys))
    assert queue_keys(db, dead=True) == []


@pytest.mark.parametrize("batch_max", [10, 500])
@pytest.mark.parametrize("ending", ["end-of-input", "max-events", "duration", "sigterm", "idle-follow"])
def test_every_ending_acknowledges_exactly_what_was_delivered(
    tmp_path: Path, nginx: Nginx, backend: BackendProcess, ending: str, batch_max: int
) -> None:
    db = tmp_path / "q.sqlite3"
    count = 1234  # a partial last batch for both sizes
    expected = fill_queue(db, count)
    follow = ending in ("duration", "sigterm", "idle-follow")
    args = {"max-events": ("--max-events", "25"), "duration": ("--duration", "3")}.get(ending, ())
    with run_cli(tmp_path, graph_text(db, nginx.url(), batch_max=batch_max, follow=follow), *args) as child:
        if ending in ("end-of-input", "max-events", "duration"):
            finished = child.wait(timeout=120)
        else:
            if ending == "idle-follow":
                # The source idles with the last partial batch still buffered: tick() must send
                # it and the ack must follow while the graph keeps running.
                child.wait_until(lambda: queue_keys(db) == [], timeout=60, what="an empty queue")
            else:
                child.wait_until(lambda: len(queue_keys(db)) < count, timeout=60, what="the first acks")
            finished = child.stop()
    assert finished.returncode == 0, finished.describe()
    assert_acknowledged_exactly_what_was_delivered(backend, db, expected)
    if ending in ("end-of-input", "idle-follow"):
        assert queue_keys(db) == []


# -- answers that are not the application's ---------------------------------------------------


def test_nginx_header_error_page_never_dead_letters_valid_events(
    tmp_path: Path, nginx: Nginx, backend: BackendProcess
) -> None:
    db = tmp_path / "q.sqlite3"
    expected = fill_queue(db, 20)
    # A header nginx refuses with its own HTML 400 (Request Header Or Cookie Too Large).
    text = graph_text(
        db, nginx.url(), batch_max=10, follow=False, retry_max_attempts=1, headers={"X-Site": "n" * 9000}
    )
    result = run_in_process(text)
    metrics = result.report["nodes"]["out"]["metrics"]
    assert metrics["status_4xx"] >= 2 and metrics["dead_lettered"] == 0 and metrics["kept"] == 20
    assert backend.stats()["requests"] == 0  # nginx answered itself
    assert set(queue_keys(db)) == expected and queue_keys(db, dead=True) == []


def test_application_rejection_in_a_batch_dead_letters_only_the_bad_event(
    tmp_path: Path, nginx: Nginx, backend: BackendProcess
) -> None:
    backend.control(reject_keys=["q-13"])
    db = tmp_path / "q.sqlite3"
    expected = fill_queue(db, 40)
    result = run_in_process(graph_text(db, nginx.url(), batch_max=10, follow=False))
    keys, _ = accepted_backend(backend)
    assert set(keys) == expected - {"q-13"}
    assert queue_keys(db) == [] and queue_keys(db, dead=True) == ["q-13"]
    metrics = result.report["nodes"]["out"]["metrics"]
    assert metrics["dead_lettered"] == 1 and metrics["splits"] >= 3  # 10 -> 5 -> 2/3 -> 1


def test_wire_format_reaches_the_backend_through_nginx(
    tmp_path: Path, nginx: Nginx, backend: BackendProcess
) -> None:
    db = tmp_path / "q.sqlite3"
    fill_queue(db, 500)
    run_in_process(graph_text(db, nginx.url(), batch_max=500, follow=False))
    headers = [record["headers"] for record in backend.records()]
    assert headers
    # One short key per request, whatever the batch size: far below nginx's 8 KiB buffers.
    assert all(len(h["Idempotency-Key"]) == len("batch-") + 64 for h in headers)


def test_backend_stop_during_a_run_keeps_every_undelivered_event(
    tmp_path: Path, backend: BackendProcess
) -> None:
    with running_nginx(tmp_path, backend.port) as proxy:
        db = tmp_path / "q.sqlite3"
        expected = fill_queue(db, 200)
        backend.control(outage={"seconds": 60, "mode": "503"})
        text = graph_text(db, proxy.url(), batch_max=10, follow=True, retry_max_attempts=2)
        with run_cli(tmp_path, text) as child:
            child.wait_until(lambda: backend.stats()["requests"] >= 4, timeout=30, what="failing requests")
            finished = child.stop()
    assert finished.returncode == 0, finished.describe()
    assert set(queue_keys(db)) == expected and queue_keys(db, dead=True) == []
