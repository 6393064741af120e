"""The durable queue as graph nodes: a sink that enqueues, a source that leases, a node that acks.

A typical graph holds both sides of one queue file::

    camera -> ... -> sqlite_queue_sink
    sqlite_queue_source (follow: true) -> http_sink (forward: true) -> sqlite_queue_ack

A packet leaves the queue only when ``sqlite_queue_ack`` saw it, that is after the sink in
front of it succeeded, so delivery is at least once across crashes and restarts. The source
marks each packet with ``meta[meta_key] = {"queue": "sqlite", "path", "seq", "node_id"}``,
which is what the ack node acknowledges. One queue file has one consuming process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from schnitzel_stream.errors import NodeError, Problem, QueueError, QueueFullError
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes._delivery import rejection_of
from schnitzel_stream.nodes._paths import require_output
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.base import Node, Source
from schnitzel_stream.nodes.durable_sqlite import _schema as schema
from schnitzel_stream.nodes.durable_sqlite._spec import QUEUE_ACK_SPEC, QUEUE_SINK_SPEC, QUEUE_SOURCE_SPEC
from schnitzel_stream.packet import Packet

if TYPE_CHECKING:
    # Imported when a node is built: validate reads SPECS without loading sqlite3.
    from schnitzel_stream.state.sqlite_queue import QueuedRow, QueueOptions, SqliteQueue

log = logging.getLogger("schnitzel_stream.queue")
#: What an unbounded wait on :class:`_WaitCountsAsAlive` means: Node.wait() needs a bound.
_LONG_WAIT_SEC = 3600.0


class QueueNodeSettings(NamedTuple):
    """The config of any of the three queue nodes, with the schemas' defaults applied.

    Each node's schema admits only the keys that apply to it; the rest keep the defaults of
    the shared properties (``durable_sqlite._schema``).
    """

    path: str
    meta_key: str
    forward: bool
    commit_every: int
    commit_interval_ms: int
    commit_max_batch: int
    max_rows: int
    max_bytes: int
    on_full: str
    synchronous: str
    limit: int
    lease_sec: float
    follow: bool
    poll_interval_ms: int
    delete_on_emit: bool

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> QueueNodeSettings:
        merged = with_defaults(schema.ALL_KEYS, config)
        return cls(
            path=str(merged["path"]),
            meta_key=str(merged["meta_key"]),
            forward=bool(merged["forward"]),
            commit_every=int(merged["commit_every"]),
            commit_interval_ms=int(merged["commit_interval_ms"]),
            commit_max_batch=int(merged["commit_max_batch"]),
            max_rows=int(merged["max_rows"]),
            max_bytes=int(merged["max_bytes"]),
            on_full=str(merged["on_full"]),
            synchronous=str(merged["synchronous"]),
            limit=int(merged["limit"]),
            lease_sec=float(merged["lease_sec"]),
            follow=bool(merged["follow"]),
            poll_interval_ms=int(merged["poll_interval_ms"]),
            delete_on_emit=bool(merged["delete_on_emit"]),
        )

    def queue_options(self) -> QueueOptions:
        from schnitzel_stream.state.sqlite_queue import QueueOptions

        return QueueOptions(
            commit_every=self.commit_every,
            commit_interval_ms=self.commit_interval_ms,
            commit_max_batch=self.commit_max_batch,
            max_rows=self.max_rows,
            max_bytes=self.max_bytes,
            on_full="drop_oldest" if self.on_full == "drop_oldest" else "block",
            synchronous="normal" if self.synchronous == "normal" else "full",
        )


def _open_queue(
    node: Node, plugin: str, settings: QueueNodeSettings, *, consumer: bool = False
) -> SqliteQueue:
    """The node's queue; a path that cannot hold one is a configuration error (exit 78)."""
    from schnitzel_stream.state.sqlite_queue import SqliteQueue

    # SQLite keeps -wal and -shm files next to the queue: its directory must be writable.
    require_output(node.node_id, plugin, "queue.path", settings.path, side_files=True)
    try:
        return SqliteQueue(settings.path, settings.queue_options(), consumer=consumer)
    except QueueError as exc:
        raise _node_error(node, plugin, exc) from None


def _queue_meta(queue: SqliteQueue, seq: int | None, node_id: str) -> dict[str, Any]:
    return {"queue": "sqlite", "path": str(queue.path), "seq": seq, "node_id": node_id}


def _node_error(node: Node, plugin: str, error: QueueError) -> NodeError:
    first = error.problems[0]
    return NodeError(
        Problem(
            code=first.code,
            message=f"node {node.node_id!r} ({plugin}): {first.message}",
            hint=first.hint,
        )
    )


class _WaitCountsAsAlive(threading.Event):
    """A node's ``interrupted`` event, waited on through :meth:`Node.wait`.

    The queue waits on its ``stop`` event while there is no room (``on_full: block``, a full
    disk). Handing it this instead of ``interrupted`` makes that wait count as alive, so the
    engine's watchdog does not take a node that waits for room for a hung one (and systemd
    does not kill a service that is correctly waiting for disk space).
    """

    def __init__(self, node: Node) -> None:
        super().__init__()
        self._node = node

    def is_set(self) -> bool:
        return self._node.interrupted.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._node.wait(_LONG_WAIT_SEC if timeout is None else timeout)


class _QueueHistograms:
    """The queue's commit latency as the node's ``commit`` histogram (every queue node has one)."""

    _queue: SqliteQueue

    def histograms(self) -> Mapping[str, LatencyHistogram]:
        return {"commit": self._queue.commit_latency}


class SqliteQueueSink(_QueueHistograms, Node):
    """Enqueue every packet into the durable queue at ``path``; ``forward`` passes it on.

    With ``on_full: block`` a full queue makes ``process()`` wait for the consumer; when the
    engine interrupts the wait at its stop deadline, the packet is not accepted (counted as
    ``not_accepted``) and ``process()`` returns.
    """

    SPEC = QUEUE_SINK_SPEC
    _PLUGIN = SPEC.name

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = QueueNodeSettings.from_mapping(self.config)
        self._queue = _open_queue(self, self._PLUGIN, self.settings)
        self._not_accepted = 0
        self._stop = _WaitCountsAsAlive(self)

    def process(self, packet: Packet) -> Iterable[Packet]:
        try:
            seq = self._queue.enqueue(packet, stop=self._stop)
        except QueueFullError as exc:
            if not self.interrupted.is_set():
                raise _node_error(self, self._PLUGIN, exc) from None
            self._not_accepted += 1
            log.warning(
                "node %s: stopping while the queue is full; packet %s was not accepted",
                self.node_id,
                packet.packet_id,
            )
            return ()
        except QueueError as exc:
            raise _node_error(self, self._PLUGIN, exc) from None
        if not self.settings.forward:
            return ()
        return (packet.with_meta(**{self.settings.meta_key: _queue_meta(self._queue, seq, self.node_id)}),)

    def close(self) -> None:
        self._queue.close()

    def metrics(self) -> dict[str, int]:
        return {**self._queue.metrics(), "not_accepted": self._not_accepted}


class SqliteQueueSource(_QueueHistograms, Source):
    """Lease packets from the durable queue at ``path`` in batches of ``limit``, oldest first.

    ``follow: false`` drains the rows present (each once) and ends; ``follow: true`` keeps
    polling every ``poll_interval_ms`` until stopped, with at most ``limit`` rows in flight
    and rows whose lease expired delivered again. Opening the queue resets every lease left
    by an earlier consumer, so after a crash every unacknowledged row comes again.
    """

    SPEC = QUEUE_SOURCE_SPEC
    _PLUGIN = SPEC.name

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = QueueNodeSettings.from_mapping(self.config)
        self._queue = _open_queue(self, self._PLUGIN, self.settings, consumer=True)
        if self.settings.delete_on_emit:
            log.warning(
                "node %s: delete_on_emit is deprecated and unsafe: rows are deleted as they are emitted, "
                "before any sink succeeded, so a crash or a failed delivery loses them; "
                "acknowledge with a sqlite_queue_ack node instead",
                node_id,
            )

    def run(self) -> Iterator[Packet]:
        try:
            if self.settings.follow:
                yield from self._follow()
            else:
                yield from self._drain()
        except QueueError as exc:
            if self.stopping.is_set():
                # The graph is stopping: a wait for disk space gave up, or the engine closed the
                # queue while this thread was still leasing. Unacked rows come again next run.
                log.debug("node %s: stopped: %s", self.node_id, exc)
                return
            raise _node_error(self, self._PLUGIN, exc) from None

    def _drain(self) -> Iterator[Packet]:
        s = self.settings
        cursor = 0  # each row once per run, even if nothing acknowledges it
        while not self.stopping.is_set():
            rows = self._queue.lease(s.limit, s.lease_sec, after_seq=cursor, stop=self.stopping)
            if not rows:
                return
            cursor = rows[-1].seq
            yield from self._emit(rows)

    def _follow(self) -> Iterator[Packet]:
        s = self.settings
        idle = s.poll_interval_ms / 1000
        queue = self._queue
        while not self.stopping.is_set():
            room = s.limit - queue.count_in_flight()
            rows = queue.lease(room, s.lease_sec, stop=self.stopping) if room > 0 else []
            if rows:
                yield from self._emit(rows)
            else:
                self.stopping.wait(idle)

    def _emit(self, rows: list[QueuedRow]) -> Iterator[Packet]:
        if self.settings.delete_on_emit:
            self._queue.ack_many((row.seq for row in rows), stop=self.stopping)
        key = self.settings.meta_key
        for row in rows:
            packet = row.packet
            packet.meta[key] = _queue_meta(self._queue, row.seq, self.node_id)
            yield packet

    def close(self) -> None:
        self._queue.close()

    def metrics(self) -> dict[str, int]:
        return self._queue.metrics()


class SqliteQueueAckSink(_QueueHistograms, Node):
    """Acknowledge ``meta[meta_key].seq``, removing the row from the queue at ``path``.

    Put it after the sink that delivers, so a row is acknowledged only after it succeeded.
    A packet that sink marked as rejected for good (``meta["rejected"]``, see
    ``nodes/_delivery``) is moved to the queue's dead letters instead, and not forwarded.
    """

    SPEC = QUEUE_ACK_SPEC
    _PLUGIN = SPEC.name

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = QueueNodeSettings.from_mapping(self.config)
        self._queue = _open_queue(self, self._PLUGIN, self.settings)
        self._resolved = self._queue.path.resolve()
        self._same_path: dict[str, bool] = {}
        self._already_gone = 0
        self._stop = _WaitCountsAsAlive(self)

    def process(self, packet: Packet) -> Iterable[Packet]:
        seq = self._seq_of(packet)
        rejected = rejection_of(packet)
        try:
            if rejected is not None:
                if not self._queue.dead_letter(seq, rejected, stop=self._stop):
                    self._already_gone += 1
                return ()
            if not self._queue.ack(seq, stop=self._stop):
                self._already_gone += 1
        except QueueFullError as exc:
            if not self.interrupted.is_set():
                raise _node_error(self, self._PLUGIN, exc) from None
            # Stopping on a full disk: the row stays and is delivered again; never lost.
            log.warning(
                "node %s: stopping on a full disk; packet %s was not acknowledged",
                self.node_id,
                packet.packet_id,
            )
        except QueueError as exc:
            raise _node_error(self, self._PLUGIN, exc) from None
        return (packet,) if self.settings.forward else ()

    def _seq_of(self, packet: Packet) -> int:
        key = self.settings.meta_key
        info = packet.meta.get(key)
        seq = info.get("seq") if isinstance(info, dict) else None
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise NodeError(
                Problem(
                    code="node.no-queue-meta",
                    message=f"node {self.node_id!r} ({self._PLUGIN}): packet {packet.packet_id} has no "
                    f"meta[{key!r}].seq, so there is nothing to acknowledge",
                    hint="feed this node from a sqlite_queue_source (through sinks with forward: true), "
                    "with the same meta_key",
                )
            )
        where = info.get("path") if isinstance(info, dict) else None
        if isinstance(where, str) and not self._is_our_queue(where):
            raise NodeError(
                Problem(
                    code="node.other-queue",
                    message=f"node {self.node_id!r} ({self._PLUGIN}): packet {packet.packet_id} came from "
                    f"queue {where}, but this node acknowledges {self._queue.path}",
                    hint="give the ack node the same path as the sqlite_queue_source",
                )
            )
        return seq

    def _is_our_queue(self, where: str) -> bool:
        known = self._same_path.get(where)
        if known is None:
            known = self._same_path[where] = Path(where).resolve() == self._resolved
        return known

    def close(self) -> None:
        self._queue.close()

    def metrics(self) -> dict[str, int]:
        return {**self._queue.metrics(), "ack_already_gone": self._already_gone}
