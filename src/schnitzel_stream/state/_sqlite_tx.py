"""Transactions and group commit for one connection to a queue file.

``commit_every=1`` runs every call in a short transaction of its own that commits before the
call returns. With ``commit_every=N>1`` enqueued rows and acknowledgements are **buffered in
memory** and written in one short transaction when ``N`` are pending or
``commit_interval_ms`` passed since the first; a flusher thread writes a buffer that no later
call flushes, so a lone packet never waits for a successor.

Buffering in memory, rather than keeping an SQLite transaction open across calls, matters
because SQLite has one writer at a time: an open transaction would hold the file's write
lock almost permanently under a steady trickle of packets, and the other side of the queue
(the consumer's leases, the ack node) would starve. Buffered rows get their ``seq`` at once
from a block reserved in ``sqlite_sequence``, so ``enqueue()`` can still return it.

A failed write (a full disk) rolls back, and the buffer is still there for the next attempt.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from schnitzel_stream.errors import Problem, QueueError
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.state import _sqlite_file
from schnitzel_stream.state._sqlite_file import log
from schnitzel_stream.state._sqlite_records import QueueOptions
from schnitzel_stream.state._sqlite_space import SpaceKeeper

_T = TypeVar("_T")
INSERT = "INSERT INTO queue (key, packet, size, enqueued_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
_INSERT_AT = (
    "INSERT INTO queue (seq, key, packet, size, enqueued_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
_COUNTERS = (
    "enqueued",
    "duplicates",
    "acked",
    "redelivered",
    "dropped_oldest",
    "disk_full",
    "quarantined",
    "dead_lettered",
)


@dataclass(slots=True)
class PendingRow:
    """A row accepted into the group-commit buffer and not yet written."""

    seq: int
    key: str
    data: str
    size: int
    enqueued_at: float


class QueueConnection:
    """One connection to a queue file, its lock, and the group it has not written yet."""

    def __init__(self, path: str | os.PathLike[str], options: QueueOptions | None) -> None:
        self.path = Path(path)
        self.options = options or QueueOptions()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._counts: dict[str, int] = dict.fromkeys(_COUNTERS, 0)
        #: Time of each COMMIT (where the WAL is synced): the queue's ``commit`` histogram.
        self.commit_latency = LatencyHistogram()
        self._commit_every = min(self.options.commit_every, self.options.commit_max_batch)
        self._interval = self.options.commit_interval_ms / 1000
        self._pending: list[PendingRow] = []
        self._pending_keys: dict[str, int] = {}
        self._pending_acks: set[int] = set()
        #: When the oldest buffered change arrived; None while the buffer is empty.
        self._dirty_since: float | None = None
        self._next_seq = 0
        self._seq_end = -1  # the reserved block is next_seq..seq_end
        self._conn, self.quarantined_to = _sqlite_file.open_queue_file(
            self.path, synchronous=self.options.synchronous, busy_timeout_ms=self.options.busy_timeout_ms
        )
        self._counts["quarantined"] = 1 if self.quarantined_to else 0
        self._space = SpaceKeeper(self)
        self._flusher: threading.Thread | None = None
        if self.group_commit:
            self._flusher = threading.Thread(
                target=self._flush_loop, name=f"queue-flush:{self.path.name}", daemon=True
            )
            self._flusher.start()

    @property
    def group_commit(self) -> bool:
        return self._commit_every > 1

    def _ensure_open(self) -> None:
        if self._closed:
            raise QueueError(Problem(code="queue.closed", message=f"queue {self.path} is closed"))

    def _transaction(self, work: Callable[[], _T]) -> _T:
        """Run ``work`` in one short write transaction; roll back if anything fails."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
            started = time.perf_counter_ns()
            conn.execute("COMMIT")
            self.commit_latency.observe_ns(time.perf_counter_ns() - started)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    # -- the group-commit buffer ----------------------------------------------------------

    def _take_seq(self) -> int:
        """The next seq of the reserved block, reserving a new block when it is used up."""
        if self._next_seq > self._seq_end:
            self._reserve_seqs()
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _reserve_seqs(self) -> None:
        count = self.options.commit_max_batch

        def reserve() -> int:
            conn = self._conn
            found = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'queue'").fetchone()
            top = int(conn.execute("SELECT coalesce(max(seq), 0) FROM queue").fetchone()[0])
            top = max(top, int(found[0]) if found else 0)
            # AUTOINCREMENT never hands out a seq at or below sqlite_sequence, so the block is ours.
            if found:
                conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'queue'", (top + count,))
            else:
                conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('queue', ?)", (top + count,))
            return top

        top = self._transaction(reserve)
        self._next_seq, self._seq_end = top + 1, top + count

    def _note_buffered(self) -> None:
        """Start the interval when the first change joins an empty buffer (lock held)."""
        if self._dirty_since is None:
            self._dirty_since = time.monotonic()
            self._wake.notify_all()

    def _flush_if_due(self, stop: threading.Event | None, deadline: float | None) -> None:
        """Write the buffer if ``commit_every`` changes wait in it (call without the lock)."""
        # Read without the lock: a stale answer only means _flush_now finds less to write.
        if len(self._pending) + len(self._pending_acks) >= self._commit_every:
            self._space.run(self._flush_now, stop=stop, deadline=deadline)

    def _flush_now(self) -> None:
        """Write the buffer in one transaction. On failure it stays buffered, for a retry."""
        if self._pending or self._pending_acks:
            self._transaction(self._write_buffer)
        self._pending.clear()
        self._pending_keys.clear()
        self._pending_acks.clear()
        self._dirty_since = None

    def _write_buffer(self) -> None:
        conn = self._conn
        rows = self._pending
        written = conn.executemany(
            _INSERT_AT, [(row.seq, row.key, row.data, row.size, row.enqueued_at) for row in rows]
        ).rowcount
        if written != len(rows):
            self._write_stragglers()
        conn.executemany("DELETE FROM queue WHERE seq = ?", [(seq,) for seq in self._pending_acks])

    def _write_stragglers(self) -> None:
        # Some rows were not inserted: their key arrived meanwhile from another producer (then
        # it is queued, fine), or, if someone edited the file, their seq is taken.
        conn = self._conn
        for row in self._pending:
            if conn.execute("SELECT 1 FROM queue WHERE key = ?", (row.key,)).fetchone():
                continue
            cursor = conn.execute(INSERT, (row.key, row.data, row.size, row.enqueued_at))
            row.seq = int(cursor.lastrowid or row.seq)

    def flush(self, *, stop: threading.Event | None = None, timeout: float | None = None) -> None:
        """Write the buffered group now; when it returns, every accepted packet is on disk."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._space.run(self._flush_now, stop=stop, deadline=deadline)

    def _flush_loop(self) -> None:
        with self._wake:
            while not self._closed:
                since = self._dirty_since
                if since is None:
                    self._wake.wait()
                    continue
                remaining = since + self._interval - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
                try:
                    self._space.run(self._flush_now, deadline=time.monotonic())
                except QueueError as exc:
                    # The producer's next call applies on_full; try again one interval later.
                    log.debug("queue %s: background commit failed: %s", self.path, exc)
                    self._dirty_since = time.monotonic()

    def _before_close(self) -> None:
        """Called with the lock held, after the last write and before the connection closes."""

    def close(self) -> None:
        """Write the buffered group, stop the flusher and close the connection; idempotent."""
        with self._lock:
            if self._closed:
                return
            try:
                self._space.run(self._flush_now, deadline=time.monotonic())
            except QueueError as exc:
                log.error(
                    "queue %s: %d accepted packets of the unwritten group are lost: %s",
                    self.path,
                    len(self._pending),
                    exc,
                )
            finally:
                self._before_close()
                self._closed = True
                self._wake.notify_all()
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                # Windows cannot move or delete an SQLite file while any connection is open.
                self._conn.close()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)
