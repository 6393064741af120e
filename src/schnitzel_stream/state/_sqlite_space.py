"""The ``on_full`` policy of a queue: bounds (``max_rows``/``max_bytes``) and a full disk.

Every write of a queue connection (``_sqlite_tx``) runs through
:meth:`SpaceKeeper.run`. A full disk (``SQLITE_FULL``, also what ``PRAGMA max_page_count``
produces) rolls the transaction back, so the file is never left half-written; a group-commit
buffer is still in memory and is written by the next attempt, so nothing the queue accepted
is lost. Then:

- ``drop_oldest`` deletes the oldest rows (more each time it is not enough) and retries; when
  nothing can be deleted (an empty queue, or a disk too full even for the DELETE), it waits
  like ``block``;
- ``block`` waits, outside the lock, and retries until space returns, the caller's stop
  event is set, or its deadline passes (then :class:`QueueFullError`: not accepted).
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from schnitzel_stream.errors import Problem, QueueError, QueueFullError
from schnitzel_stream.state._sqlite_file import is_disk_full, log

if TYPE_CHECKING:
    from schnitzel_stream.state._sqlite_tx import QueueConnection

_T = TypeVar("_T")
#: How often a blocked producer looks again; short, because a consumer may ack any moment.
POLL_SEC = 0.05
#: Rows dropped at the first full-disk retry under drop_oldest; doubles while not enough.
_FIRST_DROP = 16
#: At most one drop warning per this many seconds; the counter keeps the exact number.
_WARN_EVERY_SEC = 10.0
#: Full-disk errors less than this apart belong to one episode (one count, one error log).
_EPISODE_SEC = 10.0


class _NoRoom(Exception):
    """The bounds leave no room and the policy is ``block``."""

    def __init__(self, error: QueueFullError) -> None:
        super().__init__(str(error))
        self.error = error


class SpaceKeeper:
    """Applies ``on_full`` for one queue; works on the queue's state under the queue's lock."""

    def __init__(self, queue: QueueConnection) -> None:
        self._queue = queue
        self._waiting = False
        #: When the disk was last found full; hits closer together than _EPISODE_SEC are one episode.
        self._last_full: float | None = None
        #: True from a write that found the disk full until the next write that succeeds.
        self.disk_full_now = False
        self._warned_at: float | None = None
        self._unreported_drops = 0

    def run(
        self,
        work: Callable[[], _T],
        *,
        stop: threading.Event | None = None,
        deadline: float | None = None,
    ) -> _T:
        """Run ``work`` (which writes) under the lock, applying the policy when space runs out."""
        queue = self._queue
        drop = _FIRST_DROP
        while True:
            with queue._lock:
                queue._ensure_open()
                try:
                    result = work()
                except _NoRoom as no_room:
                    error = no_room.error
                    # Write the buffer before waiting: the consumer can only ack what it can see.
                    self._commit_quietly()
                except sqlite3.Error as exc:
                    self._rollback()
                    if not is_disk_full(exc):
                        raise QueueError(
                            Problem(code="queue.io", message=f"queue {queue.path}: {exc}")
                        ) from None
                    error = self._note_disk_full(exc)
                    if queue.options.on_full == "drop_oldest" and self._drop_for_disk(drop):
                        drop *= 2
                        continue
                    # Nothing could be dropped: the queue is empty, or the disk is so full that
                    # SQLite cannot even write the DELETE (it goes to the WAL first). Failing the
                    # node here would crash-loop the service until the disk has room (and trip
                    # the service manager's start limit), so wait for space as `block` does.
                    drop = _FIRST_DROP
                except BaseException:
                    # Never leave the write lock held: the other side of the queue waits on it.
                    self._rollback()
                    raise
                else:
                    self.disk_full_now = False
                    self._recovered()
                    return result
            self._wait(error, stop, deadline)

    # -- bounds ---------------------------------------------------------------------------

    def make_room(self, count: int, nbytes: int, largest: int) -> None:
        """Make ``count`` new rows of ``nbytes`` fit the bounds (the buffer counts), or raise ``_NoRoom``.

        Called with the lock held, inside the insert transaction (``commit_every: 1``) or
        outside any (group commit; then dropping runs a short transaction of its own).
        """
        queue = self._queue
        options = queue.options
        if options.max_bytes and largest > options.max_bytes:
            raise QueueFullError(
                Problem(
                    code="queue.too-large",
                    message=f"queue {queue.path}: a packet of {largest} bytes is larger than "
                    f"max_bytes={options.max_bytes}",
                )
            )
        stored_rows, stored_bytes = queue._conn.execute(
            "SELECT rows, bytes FROM queue_totals WHERE id = 0"
        ).fetchone()
        total_rows = int(stored_rows) + len(queue._pending)
        total_bytes = int(stored_bytes) + sum(row.size for row in queue._pending)
        excess_rows = total_rows + count - options.max_rows if options.max_rows else 0
        excess_bytes = total_bytes + nbytes - options.max_bytes if options.max_bytes else 0
        if excess_rows <= 0 and excess_bytes <= 0:
            return
        if options.on_full == "block":
            raise _NoRoom(
                QueueFullError(
                    Problem(
                        code="queue.full",
                        message=f"queue {queue.path} is full ({total_rows} rows, {total_bytes} bytes; "
                        f"max_rows={options.max_rows}, max_bytes={options.max_bytes})",
                    )
                )
            )
        drop = functools.partial(
            self._drop_oldest, max(excess_rows, 0), max(excess_bytes, 0), "the queue is full"
        )
        if queue._conn.in_transaction:
            drop()
        else:
            queue._transaction(drop)

    def _drop_oldest(self, rows: int, nbytes: int, reason: str, *, record: bool = True) -> int:
        """Delete the oldest rows until ``rows`` rows and ``nbytes`` bytes are freed (in a transaction).

        Rows in the file go first; then, if that is not enough, the oldest of the buffer.
        """
        queue = self._queue
        conn = queue._conn
        freed_rows = freed_bytes = 0
        last: int | None = None
        cursor = conn.execute("SELECT seq, size FROM queue ORDER BY seq")
        try:
            while freed_rows < rows or freed_bytes < nbytes:
                found = cursor.fetchone()
                if found is None:
                    break
                last = int(found[0])
                freed_rows += 1
                freed_bytes += int(found[1])
        finally:
            cursor.close()
        if last is not None:
            conn.execute("DELETE FROM queue WHERE seq <= ?", (last,))
        while queue._pending and (freed_rows < rows or freed_bytes < nbytes):
            row = queue._pending.pop(0)
            queue._pending_keys.pop(row.key, None)
            freed_rows += 1
            freed_bytes += row.size
        if freed_rows and record:
            self._count_drops(freed_rows, reason)
        return freed_rows

    # -- full disk ------------------------------------------------------------------------

    def _note_disk_full(self, exc: sqlite3.Error) -> QueueFullError:
        queue = self._queue
        error = QueueFullError(
            Problem(
                code="queue.disk-full",
                message=f"queue {queue.path}: the disk is full ({exc}); on_full={queue.options.on_full}",
                hint="free disk space; the queue resumes by itself",
            )
        )
        self.disk_full_now = True
        now = time.monotonic()
        # Under drop_oldest a full disk stays full while the queue runs at capacity: count and
        # log it once per episode, not once per freed batch.
        if self._last_full is None or now - self._last_full >= _EPISODE_SEC:
            queue._counts["disk_full"] += 1
            log.error("%s", error)
        self._last_full = now
        return error

    def _drop_for_disk(self, count: int) -> bool:
        """Free space on a full disk by deleting the ``count`` oldest rows; False if none are left."""
        queue = self._queue
        reason = "the disk is full"
        try:
            # Counted after the commit: on a full disk the DELETE itself may fail and roll back.
            dropped = queue._transaction(functools.partial(self._drop_oldest, count, 0, reason, record=False))
        except sqlite3.Error as exc:
            # Once per episode: a waiting producer tries again every POLL_SEC.
            (log.debug if self._waiting else log.error)(
                "queue %s: cannot delete rows to free space: %s", queue.path, exc
            )
            return False
        if dropped:
            self._count_drops(dropped, reason)
        return dropped > 0

    # -- helpers --------------------------------------------------------------------------

    def _count_drops(self, count: int, reason: str) -> None:
        queue = self._queue
        queue._counts["dropped_oldest"] += count
        self._unreported_drops += count
        now = time.monotonic()
        if self._warned_at is None or now - self._warned_at >= _WARN_EVERY_SEC:
            log.warning(
                "queue %s: dropped the %d oldest packets because %s (on_full: drop_oldest; %d dropped so far)",
                queue.path,
                self._unreported_drops,
                reason,
                queue._counts["dropped_oldest"],
            )
            self._warned_at = now
            self._unreported_drops = 0

    def _rollback(self) -> None:
        conn = self._queue._conn
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error as exc:  # SQLite may have rolled back already
                log.debug("queue %s: rollback: %s", self._queue.path, exc)

    def _commit_quietly(self) -> None:
        try:
            self._queue._flush_now()
        except sqlite3.Error as exc:
            self._rollback()
            log.debug("queue %s: commit before waiting failed: %s", self._queue.path, exc)

    def _recovered(self) -> None:
        if self._waiting:
            log.warning("queue %s has room again; the producer continues", self._queue.path)
            self._waiting = False

    def _wait(self, error: QueueFullError, stop: threading.Event | None, deadline: float | None) -> None:
        queue = self._queue
        pause = POLL_SEC
        if deadline is not None:
            pause = min(pause, deadline - time.monotonic())
            if pause <= 0:
                raise error
        if not self._waiting:
            self._waiting = True
            log.warning("%s; the producer waits for room", error)
        if stop is not None:
            if stop.wait(pause):
                raise QueueFullError(
                    Problem(
                        code="queue.full",
                        message=f"{error.problems[0].message}; gave up waiting because the producer is stopping",
                    )
                ) from None
        else:
            time.sleep(pause)
        if queue._closed:
            raise error
