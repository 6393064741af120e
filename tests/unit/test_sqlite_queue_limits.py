"""SqliteQueue at its limits: bounds with both policies, a full disk, and damaged files."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from schnitzel_stream.errors import QueueError, QueueFullError
from schnitzel_stream.packet import Packet
from schnitzel_stream.state.sqlite_queue import QueueOptions, SqliteQueue

LOGGER = "schnitzel_stream.queue"


def event(index: int, *, pad: int = 200) -> Packet:
    return Packet.new(
        "event", "cam-1", {"index": index, "pad": "x" * pad}, meta={"idempotency_key": f"k-{index}"}
    )


#: The JSON size of one ``event()``: within a byte or two for every index below 10.
EVENT_BYTES = len(event(0).to_json().encode())


def keys(queue: SqliteQueue) -> list[str]:
    rows = queue.lease(100_000, lease_sec=30)
    for row in rows:
        queue.release(row.seq)
    return [row.key for row in rows]


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def run_in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Start ``work()`` on a thread; the list gets its result or the exception it raised."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def fill_until_disk_full(queue: SqliteQueue, start: int) -> tuple[int, QueueFullError]:
    """Enqueue until the capped file is full; returns the next index and the error."""
    for index in range(start, start + 2000):
        try:
            queue.enqueue(event(index), timeout=0.05)
        except QueueFullError as error:
            return index, error
    raise AssertionError("the capped file never filled up")


# -- bounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "survivors"),
    [
        pytest.param(QueueOptions(max_rows=5, on_full="drop_oldest"), 5, id="max-rows"),
        pytest.param(
            QueueOptions(max_rows=5, on_full="drop_oldest", commit_every=3, commit_interval_ms=60_000),
            5,
            id="max-rows-group-commit",
        ),
        pytest.param(
            QueueOptions(max_bytes=3 * EVENT_BYTES + EVENT_BYTES // 2, on_full="drop_oldest"),
            3,
            id="max-bytes",
        ),
    ],
)
def test_drop_oldest_keeps_the_newest_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, options: QueueOptions, survivors: int
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with SqliteQueue(tmp_path / "q.db", options) as queue:
        for i in range(8):
            queue.enqueue(event(i))
        queue.flush()
        assert keys(queue) == [f"k-{i}" for i in range(8 - survivors, 8)]
        stats = queue.stats()
        assert stats.dropped_oldest == 8 - survivors
        assert stats.depth == survivors
        assert not options.max_bytes or stats.bytes <= options.max_bytes
    assert any(
        "dropped" in record.getMessage() and "oldest" in record.getMessage() for record in caplog.records
    )


def test_block_waits_until_the_consumer_acks(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = tmp_path / "q.db"
    producer = SqliteQueue(path, QueueOptions(max_rows=2, on_full="block"))
    consumer = SqliteQueue(path, consumer=True)
    try:
        producer.enqueue(event(0))
        producer.enqueue(event(1))
        with pytest.raises(QueueFullError, match="is full"):
            producer.enqueue(event(2), timeout=0.1)
        thread, outcome = run_in_thread(lambda: producer.enqueue(event(2)))
        time.sleep(0.1)
        assert thread.is_alive(), "the producer must wait while the queue is full"
        consumer.ack(consumer.lease(1, lease_sec=30)[0].seq)
        thread.join(5)
        assert not thread.is_alive()
        assert isinstance(outcome[0], int)
        assert keys(consumer) == ["k-1", "k-2"]
        assert producer.stats().dropped_oldest == 0
    finally:
        producer.close()
        consumer.close()
    assert any("waits for room" in record.getMessage() for record in caplog.records)


def test_a_blocked_producer_gives_up_when_told_to_stop(tmp_path: Path) -> None:
    stop = threading.Event()
    with SqliteQueue(tmp_path / "q.db", QueueOptions(max_rows=1)) as queue:
        queue.enqueue(event(0))
        thread, outcome = run_in_thread(lambda: queue.enqueue(event(1), stop=stop))
        time.sleep(0.1)
        assert thread.is_alive()
        stop.set()
        thread.join(2)
        assert not thread.is_alive()
        assert isinstance(outcome[0], QueueFullError)
        assert "stopping" in str(outcome[0])
        assert queue.stats().depth == 1


def test_a_duplicate_on_a_full_queue_does_not_wait(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db", QueueOptions(max_rows=1)) as queue:
        seq = queue.enqueue(event(0))
        assert queue.enqueue(event(0), timeout=0.01) == seq


def test_a_packet_larger_than_max_bytes_is_refused_at_once(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db", QueueOptions(max_bytes=400, on_full="drop_oldest")) as queue:
        queue.enqueue(event(0, pad=1))
        with pytest.raises(QueueFullError, match="larger than max_bytes"):
            queue.enqueue(event(1, pad=600))
        assert keys(queue) == ["k-0"]


# -- full disk ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "commit_every",
    [pytest.param(1, id="durable"), pytest.param(5, id="group-commit")],
)
def test_a_full_disk_blocks_then_recovers_when_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, commit_every: int
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    path = tmp_path / "q.db"
    options = QueueOptions(on_full="block", commit_every=commit_every, commit_interval_ms=60_000)
    with SqliteQueue(path, options) as queue:
        for i in range(5):
            queue.enqueue(event(i))
        queue.flush()
        queue.set_max_page_count(1)  # capped at the current size
        index, error = fill_until_disk_full(queue, 5)
        assert "disk is full" in str(error)
        assert queue.metrics()["disk_full"] == 1
        assert integrity(path) == "ok"
        # The packet that raised was not accepted; everything before it was.
        assert queue.stats().enqueued == index

        def enqueue_and_flush() -> int | None:
            seq = queue.enqueue(event(index))
            queue.flush()
            return seq

        thread, outcome = run_in_thread(enqueue_and_flush)
        time.sleep(0.15)
        assert thread.is_alive(), "block must wait for space"
        queue.set_max_page_count(1_000_000)
        thread.join(5)
        assert isinstance(outcome[0], int)
        stats = queue.stats()
        assert (stats.depth, stats.enqueued, stats.pending, stats.dropped_oldest) == (
            index + 1,
            index + 1,
            0,
            0,
        )
        assert keys(queue) == [f"k-{i}" for i in range(index + 1)]
    assert integrity(path) == "ok"
    assert any("disk is full" in record.getMessage() for record in caplog.records)


def test_a_full_disk_recovers_when_the_consumer_frees_rows(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    producer = SqliteQueue(path, QueueOptions(on_full="block"))
    consumer = SqliteQueue(path, consumer=True)
    try:
        for i in range(30):
            producer.enqueue(event(i))
        producer.set_max_page_count(1)
        index, _ = fill_until_disk_full(producer, 30)
        thread, outcome = run_in_thread(lambda: producer.enqueue(event(index)))
        time.sleep(0.1)
        assert thread.is_alive()
        consumer.ack_many(row.seq for row in consumer.lease(10_000, lease_sec=30))
        thread.join(5)
        assert isinstance(outcome[0], int)
        assert [row.key for row in consumer.lease(10, lease_sec=30)] == [f"k-{index}"]
    finally:
        producer.close()
        consumer.close()
    assert integrity(path) == "ok"


@pytest.mark.parametrize(
    "commit_every",
    [pytest.param(1, id="durable"), pytest.param(25, id="group-commit")],
)
def test_a_full_disk_with_drop_oldest_keeps_accepting(tmp_path: Path, commit_every: int) -> None:
    path = tmp_path / "q.db"
    options = QueueOptions(on_full="drop_oldest", commit_every=commit_every, commit_interval_ms=60_000)
    with SqliteQueue(path, options) as queue:
        for i in range(20):
            queue.enqueue(event(i))
        queue.flush()
        queue.set_max_page_count(1)
        for i in range(20, 400):
            queue.enqueue(event(i))  # never raises: the oldest rows make room
        queue.flush()
        stats = queue.stats()
        assert stats.disk_full == 1
        assert stats.dropped_oldest > 0
        # Every accepted packet is either stored or counted as dropped: none vanished.
        assert stats.depth == stats.enqueued - stats.dropped_oldest
        present = keys(queue)
        assert present[-1] == "k-399"
        assert present == sorted(present, key=lambda key: int(key[2:]))

        queue.set_max_page_count(1_000_000)
        queue.enqueue(event(400))
        queue.flush()
        assert queue.stats().dropped_oldest == stats.dropped_oldest
    assert integrity(path) == "ok"


# -- damaged files ------------------------------------------------------------------------


def _quarantined(tmp_path: Path) -> list[Path]:
    return sorted(p for p in tmp_path.iterdir() if ".corrupt-" in p.name)


def test_a_file_that_is_not_a_database_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger=LOGGER)
    path = tmp_path / "q.db"
    garbage = bytes(range(256)) * 16
    path.write_bytes(garbage)
    Path(f"{path}-wal").write_bytes(b"not a wal either")
    with SqliteQueue(path) as queue:
        assert queue.quarantined_to is not None
        assert queue.metrics()["quarantined"] == 1
        queue.enqueue(event(1))
        assert keys(queue) == ["k-1"]
    moved = queue.quarantined_to
    assert moved.read_bytes() == garbage
    assert Path(f"{moved}-wal").read_bytes() == b"not a wal either"
    assert moved.name.startswith("q.db.corrupt-") and moved.name.endswith("Z")
    # SQLite may have created a -shm while it looked at the file; it moves along too.
    assert {moved, Path(f"{moved}-wal")} <= set(_quarantined(tmp_path))
    assert {p.name for p in _quarantined(tmp_path)} <= {moved.name, f"{moved.name}-wal", f"{moved.name}-shm"}
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert any(str(moved) in message and "corrupt" in message for message in messages)


def test_a_truncated_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path) as queue:
        queue.enqueue_many([event(i, pad=400) for i in range(300)])
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    with SqliteQueue(path, consumer=True) as queue:
        assert queue.quarantined_to is not None
        assert queue.stats().depth == 0
    assert queue.quarantined_to.stat().st_size == size // 2
    assert integrity(path) == "ok"


def test_a_healthy_file_is_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path) as queue:
        queue.enqueue(event(1))
    with SqliteQueue(path) as queue:
        assert queue.quarantined_to is None
        assert queue.stats().depth == 1
    assert _quarantined(tmp_path) == []


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("PRAGMA user_version = 99", "layout version 99", id="newer-layout"),
        pytest.param(
            "CREATE TABLE queue (id INTEGER, body TEXT)", "not a schnitzel-stream queue", id="foreign-queue"
        ),
        pytest.param("CREATE TABLE settings (k TEXT, v TEXT)", "has the tables settings", id="other-app"),
    ],
)
def test_a_database_that_is_not_our_queue_is_refused_not_moved(
    tmp_path: Path, setup: str, message: str
) -> None:
    path = tmp_path / "q.db"
    with sqlite3.connect(path) as conn:
        conn.execute(setup)
    conn.close()
    with pytest.raises(QueueError, match=message):
        SqliteQueue(path)
    assert _quarantined(tmp_path) == []
    with sqlite3.connect(path) as conn:
        assert "queue_totals" not in {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
