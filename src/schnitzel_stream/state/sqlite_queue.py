"""The durable queue: packets in an SQLite file that survive ``kill -9``, restarts and power loss.

A packet that :meth:`SqliteQueue.enqueue` accepted is delivered at least once: consumers
:meth:`~SqliteQueue.lease` rows, and a row goes away only when it is acknowledged
(:meth:`~SqliteQueue.ack`). A lease that expires, and every lease left behind by a process
that died, makes the row available again. One queue file has **one consumer process**: a
consumer that opens the file (``consumer=True``) resets all leases, because it takes over
from whichever consumer came before it.

Durability (``docs/queue.md`` says exactly what a crash can lose in each mode):

- ``commit_every=1`` (default): every call commits before it returns, with
  ``synchronous=FULL``, so an accepted packet survives power loss.
- ``commit_every=N>1``: group commit (see ``_sqlite_tx``): accepted packets and acks are
  buffered and written together, trading a bounded window of accepted-but-unwritten
  packets for throughput; :meth:`SqliteQueue.flush` closes the window.

Bounds and a full disk follow ``on_full`` (see ``_sqlite_space``); a corrupt file is moved
aside at open (see ``_sqlite_file``); accepting packets is ``_sqlite_enqueue``'s. This module
knows nothing of graphs or nodes.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from typing import Self

from schnitzel_stream.errors import Problem, QueueError
from schnitzel_stream.state._sqlite_enqueue import QueueProducer
from schnitzel_stream.state._sqlite_file import Synchronous, log
from schnitzel_stream.state._sqlite_inspect import (
    DeadFilter,
    DeadLetter,
    QueueFileStats,
    inspect_queue,
    peek_dead,
    peek_queue,
    purge_queue,
    requeue_dead,
)
from schnitzel_stream.state._sqlite_records import (
    OnFull,
    QueuedRow,
    QueueOptions,
    QueueStats,
    row_from_record,
)

__all__ = [
    "DeadFilter",
    "DeadLetter",
    "OnFull",
    "QueueFileStats",
    "QueueOptions",
    "QueueStats",
    "QueuedRow",
    "SqliteQueue",
    "Synchronous",
    "inspect_queue",
    "peek_dead",
    "peek_queue",
    "purge_queue",
    "requeue_dead",
]

_DELETE = "DELETE FROM queue WHERE seq = ?"
_SELECT_ROWS = "SELECT seq, key, packet, size, enqueued_at, attempts, lease_until FROM queue"


class SqliteQueue(QueueProducer):
    """A durable FIFO of packets in one SQLite file; safe to share between threads.

    Several ``SqliteQueue`` objects may open the same file (a producer and an acknowledging
    node, in one process or several); each has its own connection and lock. ``consumer=True``
    resets every lease at open: use it for the one consuming object of a queue.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        options: QueueOptions | None = None,
        *,
        consumer: bool = False,
    ) -> None:
        self._final: QueueStats | None = None
        super().__init__(path, options)
        if consumer:
            self._reset_leases()

    # -- consuming ------------------------------------------------------------------------

    def lease(
        self, limit: int, lease_sec: float, *, after_seq: int = 0, stop: threading.Event | None = None
    ) -> list[QueuedRow]:
        """Mark up to ``limit`` available rows in flight for ``lease_sec``; oldest first.

        Available means never leased, released, or with an expired lease. ``after_seq``
        skips rows up to that seq (a one-pass drain uses it as a cursor). Leases are
        committed at once, also under group commit: the consumer needs them now. ``stop``
        ends a wait for disk space (``on_full: block``) with :class:`QueueFullError`.
        """
        if limit <= 0:
            return []
        work = functools.partial(
            self._transaction, functools.partial(self._lease, limit, lease_sec, after_seq)
        )
        rows = self._space.run(work, stop=stop)
        self._counts["redelivered"] += sum(1 for row in rows if row.attempts > 1)
        return rows

    def _lease(self, limit: int, lease_sec: float, after_seq: int) -> list[QueuedRow]:
        now = time.time()
        records = self._conn.execute(
            f"{_SELECT_ROWS} WHERE lease_until <= ? AND seq > ? ORDER BY seq LIMIT ?", (now, after_seq, limit)
        ).fetchall()
        until = now + lease_sec
        self._conn.executemany(
            "UPDATE queue SET lease_until = ?, attempts = attempts + 1 WHERE seq = ?",
            [(until, record[0]) for record in records],
        )
        rows: list[QueuedRow] = []
        broken: list[int] = []
        for record in records:
            row = row_from_record(record, attempts_delta=1, lease_until=until)
            if row is None:
                broken.append(int(record[0]))
            else:
                rows.append(row)
        if broken:
            # Rows we wrote ourselves always decode; one that does not can never be delivered,
            # and keeping it would stall the consumer on it forever.
            log.error("queue %s: dropped %d undecodable rows (seq %s)", self.path, len(broken), broken[:10])
            self._conn.executemany("DELETE FROM queue WHERE seq = ?", [(seq,) for seq in broken])
        return rows

    def ack(self, seq: int, *, stop: threading.Event | None = None) -> bool:
        """Remove a delivered row; False when it was gone already (acked, dropped or purged)."""
        return self.ack_many((seq,), stop=stop) == 1

    def ack_many(self, seqs: Iterable[int], *, stop: threading.Event | None = None) -> int:
        """Remove delivered rows; returns how many were still there.

        Under group commit the acknowledgements are buffered like enqueued rows; one lost in
        a crash means the row is delivered again, never that it is lost.
        """
        wanted = [int(seq) for seq in seqs]
        if self.group_commit:
            removed = self._space.run(functools.partial(self._buffer_acks, wanted), stop=stop)
            self._flush_if_due(stop, None)
            return removed
        removed = 0
        step = self.options.commit_max_batch
        for start in range(0, len(wanted), step):
            chunk = [(seq,) for seq in wanted[start : start + step]]
            work = functools.partial(
                self._transaction, functools.partial(self._conn.executemany, _DELETE, chunk)
            )
            removed += self._space.run(work, stop=stop).rowcount
        self._counts["acked"] += removed
        return removed

    def _buffer_acks(self, seqs: list[int]) -> int:
        removed = 0
        buffered: set[int] | None = None
        for seq in seqs:
            if seq in self._pending_acks:
                continue
            if not self._conn.execute("SELECT 1 FROM queue WHERE seq = ?", (seq,)).fetchone():
                buffered = {row.seq for row in self._pending} if buffered is None else buffered
                if seq not in buffered:
                    continue
            self._pending_acks.add(seq)
            removed += 1
        if removed:
            self._counts["acked"] += removed
            self._note_buffered()
        return removed

    def dead_letter(self, seq: int, reason: str, *, stop: threading.Event | None = None) -> bool:
        """Move a row that its receiver rejected for good to the dead-letter table.

        Retrying such a row (a 4xx answer, a packet the sink cannot encode) can never
        succeed, and keeping it would deliver it forever; deleting it would lose it. The
        dead-letter table keeps it for the operator (``queue peek --dead``, ``queue
        requeue-dead``). False when the row was gone already.
        """
        if self.group_commit:
            self.flush()  # the row may still sit in the group-commit buffer
        work = functools.partial(self._transaction, functools.partial(self._move_to_dead, seq, reason))
        moved: bool = self._space.run(work, stop=stop)
        if moved:
            self._counts["dead_lettered"] += 1
            log.error("queue %s: moved row %d to the dead letters: %s", self.path, seq, reason)
        return moved

    def _move_to_dead(self, seq: int, reason: str) -> bool:
        moved = self._conn.execute(
            "INSERT OR REPLACE INTO dead (seq, key, packet, size, enqueued_at, attempts, reason, failed_at) "
            "SELECT seq, key, packet, size, enqueued_at, attempts, ?, ? FROM queue WHERE seq = ?",
            (reason[:2000], time.time(), seq),
        ).rowcount
        if moved != 1:
            return False
        self._conn.execute(_DELETE, (seq,))
        return True

    def release(self, seq: int) -> None:
        """End a lease early, so the row is delivered again at once."""
        update = functools.partial(
            self._conn.execute, "UPDATE queue SET lease_until = 0 WHERE seq = ?", (seq,)
        )
        self._space.run(functools.partial(self._transaction, update))

    def count_in_flight(self) -> int:
        """Rows leased and not yet acknowledged, released or expired."""
        with self._lock:
            self._ensure_open()
            try:
                found = self._conn.execute(
                    "SELECT count(*) FROM queue WHERE lease_until > 0 AND lease_until > ?", (time.time(),)
                ).fetchone()
            except sqlite3.Error as exc:
                raise QueueError(Problem(code="queue.io", message=f"queue {self.path}: {exc}")) from None
            return int(found[0])

    def _reset_leases(self) -> None:
        reset = functools.partial(
            self._conn.execute, "UPDATE queue SET lease_until = 0 WHERE lease_until > 0"
        )
        try:
            self._space.run(functools.partial(self._transaction, reset), deadline=time.monotonic())
        except QueueError as exc:
            # Not fatal: the old leases expire by themselves, and then the rows come again.
            log.warning("queue %s: could not reset the leases of the previous consumer: %s", self.path, exc)

    # -- state ----------------------------------------------------------------------------

    def set_max_page_count(self, pages: int) -> int:
        """Cap the file at ``pages`` database pages, for this connection only; returns the cap.

        Writes past the cap fail exactly like a full disk, so this is how tests (and operators
        who want a hard file-size cap) reach ``on_full`` for a full disk. SQLite never sets the
        cap below the file's current size.
        """
        with self._lock:
            self._ensure_open()
            return int(self._conn.execute(f"PRAGMA max_page_count = {int(pages)}").fetchone()[0])

    def stats(self) -> QueueStats:
        """Depth, bytes, rows in flight, age of the oldest row, and this object's counters."""
        with self._lock:
            self._ensure_open()
            try:
                conn = self._conn
                rows, nbytes = conn.execute("SELECT rows, bytes FROM queue_totals WHERE id = 0").fetchone()
                oldest = conn.execute("SELECT enqueued_at FROM queue ORDER BY seq LIMIT 1").fetchone()
                in_flight = self.count_in_flight()
                pending = len(self._pending) + len(self._pending_acks)
                dead = int(conn.execute("SELECT count(*) FROM dead").fetchone()[0])
            except sqlite3.Error as exc:
                raise QueueError(Problem(code="queue.io", message=f"queue {self.path}: {exc}")) from None
        return QueueStats(
            depth=int(rows),
            bytes=int(nbytes),
            in_flight=in_flight,
            pending=pending,
            oldest_age_sec=max(0.0, time.time() - float(oldest[0])) if oldest else None,
            dead=dead,
            disk_full_now=int(self._space.disk_full_now),
            **self._counts,
        )

    def metrics(self) -> dict[str, int]:
        """Integer counters for the status line; never raises.

        After ``close()`` they are the figures at closing time, so a run report written after
        the nodes closed still shows the depth the next run starts with.
        """
        if self._closed and self._final is not None:
            return self._final.as_metrics()
        try:
            return self.stats().as_metrics()
        except QueueError:
            return dict(self._counts)

    def _before_close(self) -> None:
        try:
            self._final = self.stats()
        except QueueError:
            self._final = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
