"""Accepting packets into a queue file: encode, skip duplicates, make room, write or buffer.

:meth:`QueueProducer.enqueue` is where a packet becomes the queue's responsibility. Under
``commit_every: 1`` (see ``_sqlite_tx``) the rows are inserted and committed before the call
returns; under group commit they join the connection's buffer with a reserved ``seq``. A
packet whose ``idempotency_key`` is already queued (on disk or in the buffer) is not added
again. Bounds and a full disk follow ``on_full`` (``_sqlite_space``); a packet the caller is
told was not accepted does not stay in the buffer.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterable, Sequence

from schnitzel_stream.errors import Problem, QueueError
from schnitzel_stream.packet import Packet
from schnitzel_stream.state._sqlite_tx import INSERT, PendingRow, QueueConnection


class QueueProducer(QueueConnection):
    """The producing side of a queue connection: :meth:`enqueue` and :meth:`enqueue_many`."""

    def enqueue(
        self, packet: Packet, *, stop: threading.Event | None = None, timeout: float | None = None
    ) -> int | None:
        """Add a packet; returns its ``seq``, or the existing row's seq for a duplicate key.

        A packet whose ``idempotency_key`` is already queued is not added again (counted as
        ``duplicates``). With ``on_full: block`` a full queue makes this wait until there is
        room, ``stop`` is set or ``timeout`` seconds passed; then it raises
        :class:`~schnitzel_stream.errors.QueueFullError` and the packet was not accepted.
        """
        return self.enqueue_many((packet,), stop=stop, timeout=timeout)[0]

    def enqueue_many(
        self, packets: Iterable[Packet], *, stop: threading.Event | None = None, timeout: float | None = None
    ) -> list[int | None]:
        """Add several packets, in order; at most ``commit_max_batch`` per transaction."""
        encoded = [_encode(packet) for packet in packets]
        deadline = None if timeout is None else time.monotonic() + timeout
        seqs: list[int | None] = []
        if self.group_commit:
            for row in encoded:
                seq = self._space.run(functools.partial(self._buffer_row, row), stop=stop, deadline=deadline)
                try:
                    self._flush_if_due(stop, deadline)
                except QueueError:
                    # The group cannot be written (a full disk) and the caller gave up waiting:
                    # it is told this packet was not accepted, so it must not stay buffered.
                    if self._unbuffer(seq):
                        raise
                seqs.append(seq)
            return seqs
        # A chunk larger than max_rows could never fit, whatever the policy frees.
        step = min(self.options.commit_max_batch, self.options.max_rows or self.options.commit_max_batch)
        for start in range(0, len(encoded), step):
            chunk = encoded[start : start + step]
            seqs.extend(
                self._space.run(functools.partial(self._insert_now, chunk), stop=stop, deadline=deadline)
            )
        return seqs

    def _insert_now(self, rows: Sequence[tuple[str, str, int]]) -> list[int | None]:
        """Insert and commit ``rows`` (``commit_every: 1``); the counters move only after the commit."""
        seqs, added, duplicates = self._transaction(functools.partial(self._insert, rows))
        self._counts["enqueued"] += added
        self._counts["duplicates"] += duplicates
        return seqs

    def _insert(self, rows: Sequence[tuple[str, str, int]]) -> tuple[list[int | None], int, int]:
        conn = self._conn
        if self.options.max_rows or self.options.max_bytes:
            new = [
                row
                for row in rows
                if not conn.execute("SELECT 1 FROM queue WHERE key = ?", (row[0],)).fetchone()
            ]
            if new:
                self._space.make_room(len(new), sum(row[2] for row in new), max(row[2] for row in new))
        now = time.time()
        seqs: list[int | None] = []
        added = duplicates = 0
        for key, data, size in rows:
            cursor = conn.execute(INSERT, (key, data, size, now))
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                seqs.append(cursor.lastrowid)
                added += 1
                continue
            found = conn.execute("SELECT seq FROM queue WHERE key = ?", (key,)).fetchone()
            seqs.append(int(found[0]) if found else None)
            duplicates += 1
        return seqs, added, duplicates

    def _buffer_row(self, row: tuple[str, str, int]) -> int:
        """Accept one row into the group-commit buffer (lock held); returns its seq."""
        key, data, size = row
        existing = self._pending_keys.get(key)
        if existing is None:
            found = self._conn.execute("SELECT seq FROM queue WHERE key = ?", (key,)).fetchone()
            existing = int(found[0]) if found else None
        if existing is not None:
            self._counts["duplicates"] += 1
            return existing
        if self.options.max_rows or self.options.max_bytes:
            self._space.make_room(1, size, size)
        seq = self._take_seq()
        # Appended last: everything above may fail (a full disk) and be retried from scratch.
        self._pending.append(PendingRow(seq, key, data, size, time.time()))
        self._pending_keys[key] = seq
        self._counts["enqueued"] += 1
        self._note_buffered()
        return seq

    def _unbuffer(self, seq: int) -> bool:
        """Take a row back out of the buffer; False if it was written meanwhile."""
        with self._lock:
            for index in range(len(self._pending) - 1, -1, -1):
                row = self._pending[index]
                if row.seq == seq:
                    del self._pending[index]
                    self._pending_keys.pop(row.key, None)
                    self._counts["enqueued"] -= 1
                    return True
        return False


def _encode(packet: Packet) -> tuple[str, str, int]:
    try:
        data = packet.to_json()
        size = len(data.encode("utf-8"))  # a lone surrogate fails here: not storable either
    except (TypeError, ValueError) as exc:
        raise QueueError(
            Problem(
                code="queue.not-portable",
                message=f"packet {packet.packet_id} of kind {packet.kind!r} cannot be queued: its payload "
                f"or meta is not JSON-portable ({exc})",
                hint="only JSON values (no frames, NaN or binary data) can go into the durable queue",
            )
        ) from None
    return packet.idempotency_key, data, size
