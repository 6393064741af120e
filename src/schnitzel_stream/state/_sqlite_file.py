"""Opening a queue file: pragmas, the schema, the health check at open, and quarantine.

A queue file is one SQLite database in WAL mode with one table, ``queue``, and a one-row
table ``queue_totals`` that triggers keep equal to the row count and byte sum of ``queue``
(so bounds checks and ``stats`` cost O(1) instead of a table scan).

A file that is not a database, or fails ``PRAGMA quick_check``, is moved aside to
``<path>.corrupt-<UTC timestamp>`` (with its ``-wal``/``-shm``) and a fresh queue is created:
a service that crash-loops on a damaged file loses everything that arrives meanwhile, while
the operator can still inspect the kept file.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Literal

from schnitzel_stream._filecheck import input_file_problem, output_file_problem
from schnitzel_stream.errors import Problem, QueueError, QueueFullError

log = logging.getLogger("schnitzel_stream.queue")

Synchronous = Literal["full", "normal"]

#: ``PRAGMA user_version`` of the layout below; a newer file is refused, never rewritten.
SCHEMA_VERSION = 1
_SIDE_FILES = ("-wal", "-shm")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    packet TEXT NOT NULL,
    size INTEGER NOT NULL,
    enqueued_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS queue_key ON queue (key);
CREATE INDEX IF NOT EXISTS queue_in_flight ON queue (lease_until) WHERE lease_until > 0;
CREATE TABLE IF NOT EXISTS queue_totals (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    rows INTEGER NOT NULL,
    bytes INTEGER NOT NULL
);
INSERT OR IGNORE INTO queue_totals (id, rows, bytes) VALUES (0, 0, 0);
CREATE TRIGGER IF NOT EXISTS queue_totals_insert AFTER INSERT ON queue BEGIN
    UPDATE queue_totals SET rows = rows + 1, bytes = bytes + NEW.size WHERE id = 0;
END;
CREATE TRIGGER IF NOT EXISTS queue_totals_delete AFTER DELETE ON queue BEGIN
    UPDATE queue_totals SET rows = rows - 1, bytes = bytes - OLD.size WHERE id = 0;
END;
"""
#: The dead letters: rows a receiver rejected for good, kept for the operator.
DEAD_TABLE = """
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    packet TEXT NOT NULL,
    size INTEGER NOT NULL,
    enqueued_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    failed_at REAL NOT NULL
);
"""
_TABLES = frozenset({"queue", "queue_totals", "sqlite_sequence", "dead"})
_COLUMNS = ("seq", "key", "packet", "size", "enqueued_at", "lease_until", "attempts")


def error_code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (extended codes folded), or 0."""
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_disk_full(exc: sqlite3.Error) -> bool:
    return error_code(exc) == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)


def is_corrupt(exc: sqlite3.Error) -> bool:
    return error_code(exc) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class _CorruptFile(Exception):
    """The file at hand is damaged; ``detail`` says how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _connect(target: str, *, busy_timeout_ms: int, uri: bool = False) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN IMMEDIATE/COMMIT ourselves, because group commit
    # keeps a transaction open across calls and the implicit mode would commit behind our back.
    # check_same_thread=False: nodes are built on one thread and run on another; callers lock.
    return sqlite3.connect(
        target,
        timeout=busy_timeout_ms / 1000,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )


def quick_check(conn: sqlite3.Connection) -> None:
    """Raise :class:`_CorruptFile` unless ``PRAGMA quick_check`` says ``ok``."""
    try:
        found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        if is_corrupt(exc):
            raise _CorruptFile(str(exc)) from None
        raise
    if found != ["ok"]:
        raise _CorruptFile("; ".join(found))


def _check_layout(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that is not ours, or is from a newer version: never write into it."""
    tables = {str(row[0]) for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    foreign = sorted(tables - _TABLES)
    if foreign:
        raise QueueError(
            Problem(
                code="queue.foreign-file",
                message=f"{path} is an SQLite database but not a schnitzel-stream queue "
                f"(it has the tables {', '.join(foreign[:5])})",
            )
        )
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise QueueError(
            Problem(
                code="queue.newer-schema",
                message=f"queue file {path} has layout version {version}; this version reads up to "
                f"{SCHEMA_VERSION}",
                hint="upgrade schnitzel-stream, or point the queue at another file",
            )
        )
    columns = tuple(str(row[1]) for row in conn.execute("PRAGMA table_info(queue)"))
    if columns and columns != _COLUMNS:
        raise QueueError(
            Problem(
                code="queue.foreign-file",
                message=f"{path} is an SQLite database but not a schnitzel-stream queue "
                f"(its 'queue' table has columns {', '.join(columns)})",
            )
        )


def _prepare(conn: sqlite3.Connection, path: Path, synchronous: Synchronous) -> None:
    _check_layout(conn, path)
    mode = str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower()
    if mode != "wal":
        # Some network filesystems cannot share memory for WAL; the queue still works, slower.
        log.warning("queue %s: WAL is not available here (journal_mode=%s)", path, mode)
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    # executescript() would COMMIT first; run the DDL statement by statement in one transaction
    # so that two processes opening a new file at once cannot interleave.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _split_script(_SCHEMA + DEAD_TABLE):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        # The totals are derived data: recount them once per open, so that they can never drift.
        conn.execute(
            "UPDATE queue_totals SET rows = (SELECT count(*) FROM queue), "
            "bytes = (SELECT coalesce(sum(size), 0) FROM queue) WHERE id = 0"
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _split_script(script: str) -> list[str]:
    """Split the DDL into statements; trigger bodies hold ';' so split on ``sqlite3.complete_statement``."""
    statements: list[str] = []
    current = ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def quarantine_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    candidate = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
        number += 1
    return candidate


def _quarantine(path: Path, detail: str) -> Path:
    target = quarantine_name(path)
    try:
        path.replace(target)
        for suffix in _SIDE_FILES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                # Keep SQLite's naming, so that opening the kept file also reads its WAL.
                side.replace(Path(f"{target}{suffix}"))
    except OSError as exc:
        raise QueueError(
            Problem(
                code="queue.corrupt",
                message=f"queue file {path} is corrupt ({detail}) and could not be moved aside: {exc}",
                hint="stop every process using it and move or delete the file",
            )
        ) from None
    log.error(
        "queue file %s is corrupt (%s); moved it to %s and started a fresh queue; "
        "the packets in the moved file were not delivered",
        path,
        detail,
        target,
    )
    return target


def _open_once(path: Path, synchronous: Synchronous, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = _connect(str(path), busy_timeout_ms=busy_timeout_ms)
    try:
        _prepare(conn, path, synchronous)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_corrupt(exc):
            raise _CorruptFile(str(exc)) from None
        if is_disk_full(exc):
            raise QueueFullError(
                Problem(
                    code="queue.disk-full",
                    message=f"cannot open queue {path}: the disk is full ({exc})",
                )
            ) from None
        raise QueueError(Problem(code="queue.open", message=f"cannot open queue {path}: {exc}")) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _check_health(path: Path, busy_timeout_ms: int) -> None:
    """Raise :class:`_CorruptFile` when the existing file fails ``PRAGMA quick_check``.

    The check runs on a read-only connection: closing a read-write connection checkpoints
    the WAL into the main file and deletes it, and the operator should get both files back
    as they were.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    conn = _connect(path.resolve().as_uri() + "?mode=ro", busy_timeout_ms=busy_timeout_ms, uri=True)
    try:
        quick_check(conn)
    except sqlite3.DatabaseError as exc:
        raise QueueError(Problem(code="queue.open", message=f"cannot check queue {path}: {exc}")) from None
    finally:
        conn.close()


def open_queue_file(
    path: Path, *, synchronous: Synchronous, busy_timeout_ms: int
) -> tuple[sqlite3.Connection, Path | None]:
    """Open or create the queue at ``path``; a corrupt file is quarantined first.

    Returns the connection and, when the file was moved aside, where it went.
    """
    # Before SQLite touches it: a directory, FIFO or device would only say "disk I/O error",
    # and a device that reads as a damaged database must never be moved aside.
    wrong = output_file_problem(path, static=False, side_files=True)
    if wrong is not None:
        raise QueueError(Problem(code="queue.path", message=f"queue {path} {wrong}"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QueueError(
            Problem(code="queue.open", message=f"cannot create the directory of queue {path}: {exc}")
        ) from None
    try:
        _check_health(path, busy_timeout_ms)
        return _open_once(path, synchronous, busy_timeout_ms), None
    except _CorruptFile as corrupt:
        moved = _quarantine(path, corrupt.detail)
    try:
        return _open_once(path, synchronous, busy_timeout_ms), moved
    except _CorruptFile as again:
        raise QueueError(
            Problem(code="queue.corrupt", message=f"fresh queue file {path} is corrupt too: {again.detail}")
        ) from None


def open_read_only(path: Path, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """Open an existing queue without changing it (for ``schnitzel-stream queue stats|peek``).

    Without a ``-wal`` file no process has the queue open, so ``immutable=1`` reads it without
    creating ``-wal``/``-shm`` next to it (which also works in a directory we cannot write).
    """
    wrong = input_file_problem(path, static=True)
    if wrong is not None:
        raise QueueError(Problem(code="queue.path", message=f"{path} {wrong}"))
    if not path.is_file():
        raise QueueError(Problem(code="queue.missing", message=f"no queue file at {path}"))
    uri = path.resolve().as_uri() + "?mode=ro"
    quiescent = not Path(f"{path}-wal").exists()
    attempts = [uri + "&immutable=1", uri] if quiescent else [uri]
    last: sqlite3.DatabaseError | _CorruptFile | None = None
    for target in attempts:
        conn = _connect(target, busy_timeout_ms=busy_timeout_ms, uri=True)
        try:
            quick_check(conn)
            _check_layout(conn, path)
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'queue'").fetchone():
                raise QueueError(
                    Problem(
                        code="queue.foreign-file",
                        message=f"{path} is an SQLite database but not a schnitzel-stream queue",
                    )
                )
            return conn
        except (sqlite3.DatabaseError, _CorruptFile) as exc:
            conn.close()
            last = exc
            # Only a writer that started after the -wal check explains a failed immutable read;
            # without one the damage is real, and a second, non-immutable open would leave
            # -wal/-shm files next to the damaged file.
            if not Path(f"{path}-wal").exists():
                break
        except BaseException:
            conn.close()
            raise
    detail = last.detail if isinstance(last, _CorruptFile) else str(last)
    if isinstance(last, _CorruptFile) or (isinstance(last, sqlite3.DatabaseError) and is_corrupt(last)):
        raise QueueError(
            Problem(
                code="queue.corrupt",
                message=f"queue file {path} is corrupt ({detail})",
                hint="a queue node moves it aside to <path>.corrupt-<time> when it next opens it",
            )
        )
    raise QueueError(Problem(code="queue.open", message=f"cannot read queue {path}: {detail}"))
