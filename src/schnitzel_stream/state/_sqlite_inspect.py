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


def purge_queue(path: str | os.PathLike[str], *, dead: bool = False) -> int:
    """Delete every row (leased or not), or with ``dead`` every dead letter; returns how many.

    Refuses a missing or corrupt file.
    """
    table = "dead" if dead else "queue"
    return _write(path, "purge", lambda conn: conn.execute(f"DELETE FROM {table}").rowcount)


def requeue_dead(path: str | os.PathLike[str]) -> int:
    """Move every dead letter back into the queue (after the operator fixed the cause).

    A dead letter whose key is queued again meanwhile is dropped rather than duplicated.
    """

    def move(conn: sqlite3.Connection) -> int:
        moved = conn.execute(
            "INSERT OR IGNORE INTO queue (key, packet, size, enqueued_at) "
            "SELECT key, packet, size, enqueued_at FROM dead ORDER BY seq"
        ).rowcount
        conn.execute("DELETE FROM dead")
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
