"""What ``validate`` knows of the queue nodes: their specs, without the nodes or sqlite3.

The package's ``__init__`` imports this module eagerly and the nodes (``_nodes``) lazily,
so reading the specs loads neither logging nor the queue (``schnitzel_stream.state``).
"""

from __future__ import annotations

from schnitzel_stream.nodes._paths import output_check
from schnitzel_stream.nodes.base import ANY_KIND, NodeSpec
from schnitzel_stream.nodes.durable_sqlite import _schema as schema

__all__ = ["QUEUE_ACK_SPEC", "QUEUE_SINK_SPEC", "QUEUE_SOURCE_SPEC", "SPECS"]

_MODULE = "schnitzel_stream.nodes.durable_sqlite"
# SQLite keeps -wal and -shm files next to the queue: its directory must be writable too.
_QUEUE_PATH_CHECK = output_check("queue.path", side_files=True)

QUEUE_SINK_SPEC = NodeSpec(
    name="sqlite_queue_sink",
    target=f"{_MODULE}:SqliteQueueSink",
    roles=frozenset({"sink", "node"}),
    title="Durable queue sink (SQLite)",
    description="Enqueue each packet into a durable SQLite queue that survives crashes and restarts.",
    schema=schema.SINK,
    check=_QUEUE_PATH_CHECK,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
)
QUEUE_SOURCE_SPEC = NodeSpec(
    name="sqlite_queue_source",
    target=f"{_MODULE}:SqliteQueueSource",
    roles=frozenset({"source"}),
    title="Durable queue source (SQLite)",
    description="Lease packets from a durable SQLite queue, oldest first; acknowledge them with sqlite_queue_ack.",
    schema=schema.SOURCE,
    check=_QUEUE_PATH_CHECK,
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
)
QUEUE_ACK_SPEC = NodeSpec(
    name="sqlite_queue_ack",
    target=f"{_MODULE}:SqliteQueueAckSink",
    roles=frozenset({"sink", "node"}),
    title="Durable queue acknowledgement (SQLite)",
    description="Acknowledge packets leased by sqlite_queue_source, removing them from the queue.",
    schema=schema.ACK,
    check=_QUEUE_PATH_CHECK,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
)

SPECS: tuple[NodeSpec, ...] = (QUEUE_SINK_SPEC, QUEUE_SOURCE_SPEC, QUEUE_ACK_SPEC)
