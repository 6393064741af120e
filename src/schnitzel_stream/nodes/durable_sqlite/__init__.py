"""``sqlite_queue_sink``, ``sqlite_queue_source``, ``sqlite_queue_ack``: the durable queue as nodes.

``_spec`` is what ``validate`` reads (the specs, with ``_schema`` their shared config
schema), ``_nodes`` the three nodes over the queue of :mod:`schnitzel_stream.state`.
``schnitzel_stream.nodes.durable_sqlite:SqliteQueueSink`` (``:SqliteQueueSource``,
``:SqliteQueueAckSink``) are the published import paths; the classes are imported on first
use (``_lazy``), so reading the specs loads neither the nodes nor sqlite3.
"""

from typing import TYPE_CHECKING

from schnitzel_stream.nodes._lazy import lazy_attributes
from schnitzel_stream.nodes.durable_sqlite._spec import (
    QUEUE_ACK_SPEC,
    QUEUE_SINK_SPEC,
    QUEUE_SOURCE_SPEC,
    SPECS,
)

if TYPE_CHECKING:
    from schnitzel_stream.nodes.durable_sqlite._nodes import (
        QueueNodeSettings,
        SqliteQueueAckSink,
        SqliteQueueSink,
        SqliteQueueSource,
    )
else:
    __getattr__, __dir__ = lazy_attributes(
        __name__,
        dict.fromkeys(
            ("QueueNodeSettings", "SqliteQueueAckSink", "SqliteQueueSink", "SqliteQueueSource"), "_nodes"
        ),
    )

__all__ = [
    "QUEUE_ACK_SPEC",
    "QUEUE_SINK_SPEC",
    "QUEUE_SOURCE_SPEC",
    "SPECS",
    "QueueNodeSettings",
    "SqliteQueueAckSink",
    "SqliteQueueSink",
    "SqliteQueueSource",
]
