"""Looking into a queue file from outside the graph: stats, peek and purge (the ``queue`` CLI).

``inspect_queue`` and ``peek_queue`` open the file read-only: they never lease, quarantine or
otherwise change it, so they are safe to run next to a live service.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from schnitzel_stream.errors import Problem, QueueError
from schnitzel_stream.state import _sqlite_file
from schnitzel_stream.state._sqlite_records import QueuedRow, row_from_record


@dataclass(frozen=True, slots=True)
class QueueFileStats:
    """A queue file as seen from outside: rows, payload bytes, leases and file sizes."""

    path: str
    depth: int
    bytes: int
    in_flight: int
    oldest_age_sec: float | None
    file_bytes: int
    wal_bytes: int
    #: Dead letters: rows a receiver rejected for good (see ``SqliteQueue.dead_letter``).
    dead: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read(path: str | os.PathLike[str], what: str, query: Any) -> Any:
    file = Path(path)
    conn = _sqlite_file.open_read_only(file)
    try:
        return query(conn)
    except sqlite3.Error as exc:
        raise QueueError(Problem(code="queue.io", message=f"cannot {what} queue {file}: {exc}")) from None
    finally:
        conn.close()


def inspect_queue(path: str | os.PathLike[str]) -> QueueFileStats:
    """Depth, bytes, rows in flight, oldest age, and the sizes of the file and its WAL."""
    file = Path(path)

    def query(conn: sqlite3.Connection) -> QueueFileStats:
        now = time.time()
        # Count directly rather than trusting queue_totals: this is the operator's ground truth.
        depth, nbytes = conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM queue").fetchone()
        in_flight = conn.execute(
            "SELECT count(*) FROM queue WHERE lease_until > 0 AND lease_until > ?", (now,)
        ).fetchone()[0]
        oldest = conn.execute("SELECT enqueued_at FROM queue ORDER BY seq LIMIT 1").fetchone()
        dead = conn.execute("SELECT count(*) FROM dead").fetchone()[0] if _has_dead(conn) else 0
        return QueueFileStats(
            path=str(file),
            depth=int(depth),
            bytes=int(nbytes),
            in_flight=int(in_flight),
            oldest_age_sec=max(0.0, now - float(oldest[0])) if oldest else None,
            file_bytes=_size(file),
            wal_bytes=_size(Path(f"{file}-wal")),
            dead=int(dead),
        )

    result: QueueFileStats = _read(path, "read", query)
    return result


def _has_dead(conn: sqlite3.Connection) -> bool:
    # Files written before dead letters existed have no such table (read-only: cannot add it).
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dead'").fetchone()
        is not None
    )


@dataclass(frozen=True, slots=True)
class DeadFilter:
    """Which dead letters an operator means; every one when nothing is set.

    ``seqs``: inclusive ``(first, last)`` ranges of sequence numbers; ``reason``: text the
    reason contains (case-sensitive); ``older_than_sec``: moved aside at least this long ago.
    """

    seqs: tuple[tuple[int, int], ...] = ()
    reason: str | None = None
    older_than_sec: float | None = None

    @property
    def everything(self) -> bool:
        return not self.seqs and self.reason is None and self.older_than_sec is None

    def sql(self, now: float) -> tuple[str, list[Any]]:
        """A ``WHERE`` clause (or ``""``) and its parameters; values are always bound, never inlined."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.seqs:
            clauses.append("(" + " OR ".join("seq BETWEEN ? AND ?" for _ in self.seqs) + ")")
            params.extend(bound for pair in self.seqs for bound in pair)
        if self.reason is not None:
            clauses.append("instr(reason, ?) > 0")
            params.append(self.reason)
        if self.older_than_sec is not None:
            clauses.append("failed_at <= ?")
            params.append(now - self.older_than_sec)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A dead letter: the row, why it was moved aside, and when (Unix time)."""

    row: QueuedRow
    reason: str
    failed_at: float


def peek_dead(path: str | os.PathLike[str], limit: int, only: DeadFilter | None = None) -> list[DeadLetter]:
    """The oldest ``limit`` dead letters that ``only`` selects, with their reason and time."""
    selected = only or DeadFilter()

    def query(conn: sqlite3.Connection) -> list[DeadLetter]:
        if not _has_dead(conn):
            return []
        where, params = selected.sql(time.time())
        records = conn.execute(
            "SELECT seq, key, packet, size, enqueued_at, attempts, 0, reason, failed_at FROM dead"
            f"{where} ORDER BY seq LIMIT ?",
            (*params, max(0, limit)),
        ).fetchall()
        found = [(row_from_record(record[:7]), record[7], record[8]) for record in records]
        return [
            DeadLetter(row, str(reason), float(failed)) for row, reason, failed in found if row is not None
        ]

    result: list[DeadLetter] = _read(path, "read", query)
    return result


def peek_queue(path: str | os.PathLike[str], limit: int, *, dead: bool = False) -> list[QueuedRow]:
    """The oldest ``limit`` rows (of the dead letters with ``dead``), without leasing them."""

    def query(conn: sqlite3.Connection) -> list[QueuedRow]:
        if dead and not _has_dead(conn):
            return []
        sql = (
            "SELECT seq, key, packet, size, enqueued_at, attempts, 0 FROM dead ORDER BY seq LIMIT ?"
            if dead
            else "SELECT seq, key, packet, size, enqueued_at, attempts, lease_until FROM queue ORDER BY seq LIMIT ?"
        )
        records = conn.execute(sql, (max(0, limit),)).fetchall()
        rows = [row_from_record(record) for record in records]
        return [row for row in rows if row is not None]

    result: list[QueuedRow] = _read(path, "read", query)
    return result


def purge_queue(path: str | os.PathLike[str], *, dead: bool = False, only: DeadFilter | None = None) -> int:
    """Delete every row (leased or not), or with ``dead`` the dead letters ``only`` selects
    (all by default); returns how many. Refuses a missing or corrupt file.
    """
    if not dead:
        return _write(path, "purge", lambda conn: conn.execute("DELETE FROM queue").rowcount)
    where, params = (only or DeadFilter()).sql(time.time())
    return _write(path, "purge", lambda conn: conn.execute(f"DELETE FROM dead{where}", params).rowcount)


def requeue_dead(path: str | os.PathLike[str], only: DeadFilter | None = None) -> int:
    """Move the dead letters ``only`` selects (all by default) back into the queue, after the
    operator fixed the cause; returns how many were queued again.

    A dead letter whose key is queued again meanwhile is dropped rather than duplicated.
    """
    where, params = (only or DeadFilter()).sql(time.time())

    def move(conn: sqlite3.Connection) -> int:
        moved = conn.execute(
            "INSERT OR IGNORE INTO queue (key, packet, size, enqueued_at) "
            f"SELECT key, packet, size, enqueued_at FROM dead{where} ORDER BY seq",
            params,
        ).rowcount
        conn.execute(f"DELETE FROM dead{where}", params)
        return int(moved)

    return _write(path, "requeue the dead letters of", move)


def _write(path: str | os.PathLike[str], what: str, change: Any) -> int:
    file = Path(path)
    # Check health read-only first: this must not create a file or touch a corrupt one.
    _sqlite_file.open_read_only(file).close()
    conn = sqlite3.connect(file.resolve().as_uri() + "?mode=rw", uri=True, timeout=10, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        if not _has_dead(conn):
            conn.execute(_sqlite_file.DEAD_TABLE)
        count = int(change(conn))
        conn.execute("COMMIT")
        return count
    except sqlite3.Error as exc:
        raise QueueError(Problem(code="queue.io", message=f"cannot {what} queue {file}: {exc}")) from None
    finally:
        conn.close()
