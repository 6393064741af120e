"""SqliteQueue on real files: enqueue, lease, ack, redelivery, idempotency, group commit, threads."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from schnitzel_stream.errors import QueueError
from schnitzel_stream.packet import Packet
from schnitzel_stream.state.sqlite_queue import QueueOptions, SqliteQueue


def event(index: int, *, key: str | None = None) -> Packet:
    """A small event packet (~300 bytes of JSON), keyed ``k-<index>`` unless told otherwise."""
    return Packet.new(
        "event",
        "cam-1",
        {"event": "motion", "index": index, "score": 0.5, "box": [10, 20, 30, 40], "zone": "gate-ä"},
        meta={"idempotency_key": key or f"k-{index}"},
    )


def committed_rows(path: Path) -> int:
    """Rows another connection sees: only what was committed."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM queue").fetchone()[0])


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_enqueue_lease_ack_round_trip(tmp_path: Path) -> None:
    sent = [event(i) for i in range(3)]
    with SqliteQueue(tmp_path / "q.db") as queue:
        seqs = [queue.enqueue(packet) for packet in sent]
        assert all(seq is not None for seq in seqs)
        assert seqs == sorted(seq for seq in seqs if seq is not None)
        rows = queue.lease(10, lease_sec=30)
        assert [row.seq for row in rows] == seqs
        assert [row.packet.to_dict() for row in rows] == [packet.to_dict() for packet in sent]
        assert [row.key for row in rows] == ["k-0", "k-1", "k-2"]
        assert all(row.attempts == 1 for row in rows)
        assert queue.ack_many(row.seq for row in rows) == 3
        assert queue.lease(10, lease_sec=30) == []
        stats = queue.stats()
        assert (stats.depth, stats.bytes, stats.in_flight, stats.enqueued, stats.acked) == (0, 0, 0, 3, 3)


def test_a_lease_hides_rows_from_the_next_lease(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        for i in range(3):
            queue.enqueue(event(i))
        first = queue.lease(2, lease_sec=30)
        second = queue.lease(10, lease_sec=30)
        assert [row.key for row in first] == ["k-0", "k-1"]
        assert [row.key for row in second] == ["k-2"]
        assert queue.count_in_flight() == 3
        assert queue.ack(first[0].seq) is True
        assert queue.ack(first[0].seq) is False
        assert queue.count_in_flight() == 2


def test_an_expired_lease_is_delivered_again(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        seq = queue.enqueue(event(1))
        assert [row.seq for row in queue.lease(5, lease_sec=0.5)] == [seq]
        assert queue.lease(5, lease_sec=30) == []
        time.sleep(0.55)
        again = queue.lease(5, lease_sec=30)
        assert [(row.seq, row.attempts) for row in again] == [(seq, 2)]
        assert queue.stats().redelivered == 1


def test_release_ends_a_lease_early(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        seq = queue.enqueue(event(1))
        assert seq is not None
        queue.lease(5, lease_sec=30)
        queue.release(seq)
        assert [row.seq for row in queue.lease(5, lease_sec=30)] == [seq]


def test_a_consumer_that_opens_the_file_gets_every_unacked_row_again(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path) as first:
        for i in range(4):
            first.enqueue(event(i))
        leased = first.lease(3, lease_sec=3600)
        first.ack(leased[0].seq)
    # A plain (producer) open keeps leases: only the consumer takes over from a dead one.
    with SqliteQueue(path) as producer:
        assert producer.count_in_flight() == 2
    with SqliteQueue(path, consumer=True) as consumer:
        rows = consumer.lease(10, lease_sec=30)
        assert [row.key for row in rows] == ["k-1", "k-2", "k-3"]
        assert [row.attempts for row in rows] == [2, 2, 1]
        assert consumer.stats().redelivered == 2


def test_enqueueing_the_same_key_again_is_a_no_op(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        first = queue.enqueue(event(1))
        again = queue.enqueue(event(99, key="k-1"))
        assert again == first
        stats = queue.stats()
        assert (stats.depth, stats.enqueued, stats.duplicates) == (1, 1, 1)
        assert [row.packet.payload["index"] for row in queue.lease(5, lease_sec=30)] == [1]
        # De-duplication covers rows still queued: once acked, the key may come again.
        assert first is not None
        queue.ack(first)
        assert queue.enqueue(event(1)) not in (None, first)


def test_a_packet_without_a_key_is_keyed_by_its_packet_id(tmp_path: Path) -> None:
    packet = Packet.new("event", "cam", {"n": 1})
    with SqliteQueue(tmp_path / "q.db") as queue:
        queue.enqueue(packet)
        assert queue.enqueue(packet) is not None
        assert [row.key for row in queue.lease(5, lease_sec=30)] == [packet.packet_id]
        assert queue.stats().duplicates == 1


def test_a_payload_that_is_not_json_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        with pytest.raises(QueueError, match="not JSON-portable"):
            queue.enqueue(Packet.new("frame", "cam", object()))
        with pytest.raises(QueueError, match="not JSON-portable"):
            queue.enqueue(Packet.new("event", "cam", {"score": float("nan")}))
        with pytest.raises(QueueError, match="not JSON-portable"):
            # Text from a non-UTF-8 source (a lone surrogate) cannot be stored as UTF-8 either.
            queue.enqueue(Packet.new("event", "cam", {"label": "caf\udce9"}))
        assert queue.stats().depth == 0


def test_every_durable_enqueue_is_committed_before_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path) as queue:
        for i in range(3):
            queue.enqueue(event(i))
            assert committed_rows(path) == i + 1


def test_group_commit_commits_when_n_rows_are_pending(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path, QueueOptions(commit_every=5, commit_interval_ms=60_000)) as queue:
        for i in range(4):
            queue.enqueue(event(i))
        assert committed_rows(path) == 0
        queue.enqueue(event(4))
        assert committed_rows(path) == 5


def test_group_commit_flushes_an_idle_group_after_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path, QueueOptions(commit_every=1000, commit_interval_ms=500)) as queue:
        queue.enqueue(event(1))
        assert committed_rows(path) == 0
        # No further call: the background flusher must commit the lone packet.
        assert wait_until(lambda: committed_rows(path) == 1)


def test_flush_and_close_commit_the_pending_group(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    queue = SqliteQueue(path, QueueOptions(commit_every=1000, commit_interval_ms=60_000))
    queue.enqueue_many([event(i) for i in range(3)])
    assert committed_rows(path) == 0
    queue.flush()
    assert committed_rows(path) == 3
    queue.enqueue(event(3))
    queue.close()
    assert committed_rows(path) == 4


def test_acks_are_group_committed_too(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path) as producer:
        producer.enqueue_many([event(i) for i in range(4)])
    with SqliteQueue(path, QueueOptions(commit_every=3, commit_interval_ms=60_000), consumer=True) as queue:
        rows = queue.lease(4, lease_sec=30)
        queue.flush()
        queue.ack(rows[0].seq)
        queue.ack(rows[1].seq)
        assert committed_rows(path) == 4
        queue.ack(rows[2].seq)
        assert committed_rows(path) == 1


def test_commit_max_batch_splits_large_calls(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(
        path, QueueOptions(commit_every=50, commit_max_batch=10, commit_interval_ms=60_000)
    ) as queue:
        seqs = queue.enqueue_many([event(i) for i in range(25)])
        assert len(set(seqs)) == 25
        # commit_every is capped at commit_max_batch: two full groups of 10 are committed.
        assert committed_rows(path) == 20
        assert queue.ack_many(seq for seq in seqs if seq is not None) == 25
    assert committed_rows(path) == 0


def test_stats_report_depth_bytes_and_oldest_age(tmp_path: Path) -> None:
    with SqliteQueue(tmp_path / "q.db") as queue:
        assert queue.stats().oldest_age_sec is None
        sizes = [len(event(i).to_json().encode()) for i in range(2)]
        queue.enqueue(event(0))
        queue.enqueue(event(1))
        time.sleep(0.02)
        stats = queue.stats()
        assert stats.depth == 2
        assert stats.bytes == sum(sizes)
        assert stats.oldest_age_sec is not None and stats.oldest_age_sec >= 0.02
        metrics = queue.metrics()
        assert metrics["depth"] == 2 and metrics["oldest_age_ms"] >= 20
        assert all(isinstance(value, int) for value in metrics.values())


def test_a_closed_queue_refuses_work_and_still_reports_counters(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "q.db")
    queue.enqueue(event(1))
    queue.close()
    queue.close()
    with pytest.raises(QueueError, match="closed"):
        queue.enqueue(event(2))
    assert queue.metrics()["enqueued"] == 1
    assert queue.metrics()["depth"] == 1  # as it was at closing time


def test_a_queue_built_on_one_thread_works_on_another(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "q.db", QueueOptions(commit_every=10, commit_interval_ms=20))
    errors: list[BaseException] = []

    def use() -> None:
        try:
            queue.enqueue(event(1))
            queue.lease(1, lease_sec=30)
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            errors.append(exc)

    worker = threading.Thread(target=use)
    worker.start()
    worker.join(5)
    assert errors == []
    queue.close()
    assert committed_rows(tmp_path / "q.db") == 1


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(QueueOptions(), id="durable"),
        pytest.param(QueueOptions(commit_every=64, commit_interval_ms=20), id="group-commit"),
    ],
)
def test_a_producer_and_a_consumer_thread_share_one_file(tmp_path: Path, options: QueueOptions) -> None:
    path = tmp_path / "q.db"
    total = 400
    producer = SqliteQueue(path, options)
    consumer = SqliteQueue(path, options, consumer=True)
    received: list[str] = []
    failures: list[BaseException] = []

    def produce() -> None:
        try:
            for i in range(total):
                producer.enqueue(event(i))
            producer.flush()
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            failures.append(exc)

    def consume() -> None:
        deadline = time.monotonic() + 20
        try:
            while len(received) < total and time.monotonic() < deadline:
                rows = consumer.lease(50, lease_sec=60)
                received.extend(row.key for row in rows)
                consumer.ack_many(row.seq for row in rows)
                if not rows:
                    time.sleep(0.005)
            consumer.flush()
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            failures.append(exc)

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    producer.close()
    consumer.close()
    assert failures == []
    assert received == [f"k-{i}" for i in range(total)]
    assert committed_rows(path) == 0
