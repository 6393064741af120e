"""The config schemas of the durable queue nodes (``sqlite_queue_sink``/``_source``/``_ack``).

The properties are shared: the same key means the same thing, with the same default, on
every node that accepts it. ``QueueNodeSettings`` (``_nodes``) takes every default from
here (:data:`ALL_KEYS`).
"""

from __future__ import annotations

from typing import Any

_PROPERTIES: dict[str, dict[str, Any]] = {
    "path": {
        "type": "string",
        "minLength": 1,
        "title": "Queue file",
        "description": "The SQLite queue file; missing parent directories are created. The producing and "
        "the consuming nodes of one queue name the same file.",
        "examples": ["${state}/queue/events.sqlite3"],
    },
    "meta_key": {
        "type": "string",
        "minLength": 1,
        "title": "Meta key",
        "description": 'The packet meta key that carries {"queue", "path", "seq", "node_id"} from the '
        "source to the ack node.",
        "default": "durable",
        "examples": ["durable"],
    },
    "forward": {
        "type": "boolean",
        "title": "Forward",
        "description": "Also pass each packet on (with the queue meta on the sink), to use the node in the "
        "middle of a graph.",
        "default": False,
        "examples": [False, True],
    },
    "commit_every": {
        "type": "integer",
        "minimum": 1,
        "title": "Commit every N changes",
        "description": "1 commits every packet before accepting the next (survives power loss). N>1 "
        "group-commits: a crash can lose up to N-1 accepted packets or commit_interval_ms of them; "
        "see docs/queue.md.",
        "default": 1,
        "examples": [1, 200],
    },
    "commit_interval_ms": {
        "type": "integer",
        "minimum": 1,
        "maximum": 60000,
        "title": "Group commit interval (ms)",
        "description": "With commit_every > 1: commit a pending group at the latest this long after its "
        "first change, even when no further packet arrives.",
        "default": 100,
        "examples": [100],
    },
    "commit_max_batch": {
        "type": "integer",
        "minimum": 1,
        "maximum": 100000,
        "title": "Most changes per transaction",
        "description": "Caps commit_every and splits larger batches, so one transaction never holds the "
        "file's write lock for long.",
        "default": 1000,
        "examples": [1000],
    },
    "synchronous": {
        "type": "string",
        "enum": ["full", "normal"],
        "title": "Sync to disk",
        "description": "full: every commit reaches the disk (survives power loss). normal: the OS writes it "
        "later (survives a process crash, not power loss); faster on slow disks.",
        "default": "full",
        "examples": ["full"],
    },
    "max_rows": {
        "type": "integer",
        "minimum": 0,
        "title": "Most rows",
        "description": "Bound the queue to this many packets; 0 is unbounded.",
        "default": 0,
        "examples": [0, 100000],
    },
    "max_bytes": {
        "type": "integer",
        "minimum": 0,
        "title": "Most bytes",
        "description": "Bound the queue to this many bytes of packet JSON; 0 is unbounded.",
        "default": 0,
        "examples": [0, 268435456],
    },
    "on_full": {
        "type": "string",
        "enum": ["block", "drop_oldest"],
        "title": "When full",
        "description": "block: wait until the consumer acknowledges (or the disk has room again). "
        "drop_oldest: delete the oldest packets, count them and log a warning.",
        "default": "block",
        "examples": ["block", "drop_oldest"],
    },
    "limit": {
        "type": "integer",
        "minimum": 1,
        "maximum": 10000,
        "title": "Batch size",
        "description": "Lease this many rows at a time; with follow, also the most rows in flight.",
        "default": 100,
        "examples": [100],
    },
    "lease_sec": {
        "type": "number",
        "exclusiveMinimum": 0,
        "title": "Lease (s)",
        "description": "A leased row not acknowledged within this time is delivered again.",
        "default": 60,
        "examples": [60],
    },
    "follow": {
        "type": "boolean",
        "title": "Follow",
        "description": "false: deliver the rows present once and end. true: keep delivering new rows until "
        "the graph stops (a long-lived consumer).",
        "default": False,
        "examples": [True],
    },
    "poll_interval_ms": {
        "type": "integer",
        "minimum": 1,
        "maximum": 60000,
        "title": "Idle poll (ms)",
        "description": "With follow: how long to wait before looking again when nothing is available.",
        "default": 50,
        "examples": [50],
    },
    "delete_on_emit": {
        "type": "boolean",
        "title": "Delete on emit (deprecated, unsafe)",
        "description": "Deprecated: delete rows as they are emitted instead of on acknowledgement, so a "
        "crash or failed delivery loses them. Kept for graphs of the earlier design; use "
        "sqlite_queue_ack instead.",
        "default": False,
        "deprecated": True,
        "examples": [False],
    },
}

#: Every shared property: the defaults of the keys a node's own schema does not admit.
ALL_KEYS: dict[str, Any] = {"type": "object", "properties": _PROPERTIES}

_COMMIT = ("commit_every", "commit_interval_ms", "commit_max_batch", "synchronous")


def _schema(title: str, keys: tuple[str, ...], example: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "title": title,
        "additionalProperties": False,
        "required": ["path"],
        "properties": {key: _PROPERTIES[key] for key in keys},
        "examples": [example],
    }


SINK = _schema(
    "sqlite_queue_sink config",
    ("path", "forward", "meta_key", *_COMMIT, "max_rows", "max_bytes", "on_full"),
    {"path": "${state}/queue/events.sqlite3", "max_rows": 100000, "on_full": "drop_oldest"},
)
SOURCE = _schema(
    "sqlite_queue_source config",
    ("path", "meta_key", "limit", "lease_sec", "follow", "poll_interval_ms", "delete_on_emit"),
    {"path": "${state}/queue/events.sqlite3", "follow": True, "limit": 100},
)
ACK = _schema(
    "sqlite_queue_ack config",
    ("path", "forward", "meta_key", *_COMMIT),
    {"path": "${state}/queue/events.sqlite3", "commit_every": 100},
)
