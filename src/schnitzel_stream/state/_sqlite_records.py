"""The records of the durable queue: its options, a queued row, and its counters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from schnitzel_stream.packet import Packet
from schnitzel_stream.state._sqlite_file import Synchronous

OnFull = Literal["block", "drop_oldest"]
ON_FULL_POLICIES: tuple[OnFull, ...] = get_args(OnFull)
SYNCHRONOUS_MODES: tuple[Synchronous, ...] = get_args(Synchronous)


@dataclass(frozen=True, slots=True)
class QueueOptions:
    """How a :class:`~schnitzel_stream.state.sqlite_queue.SqliteQueue` commits and bounds itself.

    - ``commit_every``: 1 commits every call before it returns; N>1 group-commits once N
      changes (enqueued or acked rows) are pending or ``commit_interval_ms`` passed.
    - ``commit_max_batch``: the most changes one transaction holds; larger ``enqueue_many`` /
      ``ack_many`` calls are split, and ``commit_every`` is capped at it.
    - ``max_rows``/``max_bytes`` (payload JSON bytes; 0 = unbounded) with ``on_full``:
      ``block`` waits for a consumer to ack, ``drop_oldest`` deletes the oldest rows.
    - ``synchronous``: ``full`` syncs the WAL at every commit (survives power loss);
      ``normal`` leaves that to the OS (survives a process crash only).
    """

    commit_every: int = 1
    commit_interval_ms: int = 100
    commit_max_batch: int = 1000
    max_rows: int = 0
    max_bytes: int = 0
    on_full: OnFull = "block"
    synchronous: Synchronous = "full"
    busy_timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        positive = {
            "commit_every": self.commit_every,
            "commit_interval_ms": self.commit_interval_ms,
            "commit_max_batch": self.commit_max_batch,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        for name, value in {"max_rows": self.max_rows, "max_bytes": self.max_bytes}.items():
            if value < 0:
                raise ValueError(f"{name} must be 0 (unbounded) or more, not {value}")
        if self.on_full not in ON_FULL_POLICIES:
            raise ValueError(f"on_full must be one of {ON_FULL_POLICIES}, not {self.on_full!r}")
        if self.synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {self.synchronous!r}")

    @property
    def group_commit(self) -> bool:
        return min(self.commit_every, self.commit_max_batch) > 1


@dataclass(frozen=True, slots=True)
class QueuedRow:
    """One row of the queue: the packet plus its bookkeeping.

    ``attempts`` counts deliveries including this one; ``enqueued_at`` and ``lease_until``
    are Unix times (``lease_until`` 0 when not leased).
    """

    seq: int
    key: str
    packet: Packet
    size: int
    enqueued_at: float
    attempts: int
    lease_until: float


def row_from_record(
    record: Sequence[Any], *, attempts_delta: int = 0, lease_until: float | None = None
) -> QueuedRow | None:
    """A row from ``SELECT seq, key, packet, size, enqueued_at, attempts, lease_until``.

    None when the stored JSON does not decode to an object.
    """
    seq, key, data, size, enqueued_at, attempts, stored_lease = record
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        return None
    if not isinstance(decoded, dict):
        return None
    return QueuedRow(
        seq=int(seq),
        key=str(key),
        packet=Packet.from_dict(decoded),
        size=int(size),
        enqueued_at=float(enqueued_at),
        attempts=int(attempts) + attempts_delta,
        lease_until=float(stored_lease if lease_until is None else lease_until),
    )


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What the queue file holds now, and what this queue object did since it opened.

    ``depth``, ``bytes``, ``in_flight`` and the oldest age describe the written rows.
    """

    depth: int
    bytes: int
    in_flight: int
    oldest_age_sec: float | None
    #: Changes (rows and acks) accepted into the group-commit buffer and not yet written.
    pending: int = 0
    enqueued: int = 0
    duplicates: int = 0
    acked: int = 0
    redelivered: int = 0
    dropped_oldest: int = 0
    disk_full: int = 0
    quarantined: int = 0
    dead_lettered: int = 0
    #: Rows in the dead-letter table (all of them, not just this object's).
    dead: int = 0
    #: 1 while the last write found the disk full (``disk_full`` counts the episodes).
    disk_full_now: int = 0

    def as_metrics(self) -> dict[str, int]:
        """Integer counters; the oldest age in milliseconds (0 for an empty queue)."""
        values = asdict(self)
        age = values.pop("oldest_age_sec")
        metrics = {name: int(value) for name, value in values.items()}
        metrics["oldest_age_ms"] = int(age * 1000) if age is not None else 0
        return metrics
