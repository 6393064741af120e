"""What every node did, at one moment: the one record the status line, the run report, the
Prometheus exposition and the health endpoints all read.

The engine builds these (:meth:`~schnitzel_stream.runtime.inproc.Engine.snapshots`); nothing
outside the engine looks at its threads or runners. Two judgements live here because every
consumer must make them the same way:

- :attr:`NodeSnapshot.delivery`: what became of the packets a delivering node received
  (delivered, dropped, kept for redelivery, dead-lettered), from its own counters;
- :func:`not_ready`: which nodes keep the graph from being ready (``/readyz``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from schnitzel_stream.latency import HistogramSnapshot
from schnitzel_stream.redact import redact

__all__ = [
    "DELIVERY_COUNTERS",
    "Delivery",
    "Health",
    "NodeSnapshot",
    "Runner",
    "not_ready",
    "readiness",
    "snapshot_of",
]

Outcome = Literal["delivered", "dropped", "kept", "dead_lettered"]
OUTCOMES: tuple[Outcome, ...] = ("delivered", "dropped", "kept", "dead_lettered")

#: For each built-in node that hands packets to something outside the graph: which of its
#: ``metrics()`` counters (summed) count the packets delivered, dropped, kept for redelivery
#: and dead-lettered. Any other node joins by exposing counters with these four names.
DELIVERY_COUNTERS: dict[str, dict[Outcome, tuple[str, ...]]] = {
    "http_sink": {
        "delivered": ("sent",),
        "dropped": ("dropped",),
        "kept": ("kept",),
        "dead_lettered": ("dead_lettered",),
    },
    "mqtt_sink": {
        "delivered": ("published",),
        "dropped": ("dropped",),
        "kept": ("kept",),
        "dead_lettered": ("dead_lettered",),
    },
    "jsonl_sink": {"delivered": ("lines",)},
    "print_sink": {"delivered": ("lines",)},
    # A duplicate key is already in the queue: accepted, once, as the contract wants.
    "sqlite_queue_sink": {"delivered": ("enqueued", "duplicates"), "dropped": ("not_accepted",)},
    # A row already gone was acknowledged (or dead-lettered) before: nothing waits for it.
    "sqlite_queue_ack": {"delivered": ("acked", "ack_already_gone"), "dead_lettered": ("dead_lettered",)},
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of the packets one node received. ``pending`` is the rest: buffered in a
    batch, inside a delivery at the moment of the snapshot, or lost to a failure that stopped
    the graph."""

    received: int
    delivered: int
    dropped: int
    kept: int
    dead_lettered: int

    @property
    def pending(self) -> int:
        return max(0, self.received - self.delivered - self.dropped - self.kept - self.dead_lettered)

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "delivered": self.delivered,
            "dropped": self.dropped,
            "kept": self.kept,
            "dead_lettered": self.dead_lettered,
            "pending": self.pending,
        }


@dataclass(frozen=True, slots=True)
class NodeSnapshot:
    """The counters of one node at one moment.

    ``dropped`` counts packets its inbox discarded by its overflow policy; ``extra`` is the
    node's own ``metrics()``; ``histograms`` its own latency histograms (``histograms()``);
    ``processing`` the time spent in ``process()`` per packet.
    """

    node_id: str
    plugin: str
    kind: str
    n_in: int
    n_out: int
    dropped: int
    errors: int
    proc_ns: int
    inbox_depth: int
    extra: dict[str, int]
    target: str | None = None
    inbox_capacity: int = 0
    live: bool = False
    #: Inside ``process()`` (or between the packets of a batch) at the moment of the snapshot.
    busy: bool = False
    processing: HistogramSnapshot = field(default_factory=HistogramSnapshot.empty)
    histograms: dict[str, HistogramSnapshot] = field(default_factory=dict)

    @property
    def delivery(self) -> Delivery | None:
        """What became of the packets it received, for nodes that deliver somewhere; else None."""
        keys = DELIVERY_COUNTERS.get(self.plugin)
        extra = self.extra
        if keys is None:
            if "delivered" not in extra:
                return None
            keys = {outcome: (outcome,) for outcome in OUTCOMES}
        counts = {outcome: sum(extra.get(k, 0) for k in keys.get(outcome, ())) for outcome in OUTCOMES}
        return Delivery(received=self.n_in, **counts)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "target": self.target,
            "plugin": self.plugin,
            "kind": self.kind,
            "in": self.n_in,
            "out": self.n_out,
            "dropped": self.dropped,
            "errors": self.errors,
            "processing_ms": round(self.proc_ns / 1e6, 3),
            "inbox_depth": self.inbox_depth,
            "metrics": dict(self.extra),
        }
        delivery = self.delivery
        if delivery is not None:
            data["delivery"] = delivery.as_dict()
        return data


@dataclass(frozen=True, slots=True)
class Health:
    """Whether the process is alive in the watchdog's sense; ``reason`` says why not."""

    alive: bool
    phase: str
    reason: str = ""


def readiness(health: Health, nodes: list[NodeSnapshot]) -> list[str]:
    """Why the graph is not ready (``/readyz``): empty when it is.

    Ready means running and alive, and no node held back by :func:`not_ready`.
    """
    if health.phase != "running":
        return [f"the graph is {health.phase}"]
    if not health.alive:
        return [health.reason]
    return not_ready(nodes)


def not_ready(nodes: list[NodeSnapshot]) -> list[str]:
    """Why the graph is not ready yet, one entry per node that holds it back (empty: ready).

    A source is ready once it produced a packet, once its counters say ``connected``, or at
    once when it is not live (a queue or a file: opening it was the connection, and it
    succeeded when the graph started). A node that delivers somewhere is ready while it is
    idle (nothing received, nothing waiting, nothing in hand) and once it delivered at least
    one packet.
    """
    waiting: list[str] = []
    for node in nodes:
        if node.kind == "source":
            if node.n_out == 0 and node.live and not node.extra.get("connected"):
                waiting.append(f"source {node.node_id} has not produced or connected yet")
            continue
        delivery = node.delivery
        if delivery is None or delivery.delivered:
            continue
        if delivery.received or node.inbox_depth or node.busy:
            held = delivery.received + node.inbox_depth + (1 if node.busy else 0)
            waiting.append(f"{node.node_id} has {held} packets and has delivered none yet")
    return waiting


class _Decl(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def plugin(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def config(self) -> Mapping[str, Any]: ...


class _Inbox(Protocol):
    dropped: int
    capacity: int

    def __len__(self) -> int: ...


class Runner(Protocol):
    """What the engine keeps per node at run time, as far as a snapshot reads it."""

    @property
    def decl(self) -> _Decl: ...
    @property
    def node(self) -> object: ...
    @property
    def inbox(self) -> _Inbox | None: ...
    @property
    def n_in(self) -> int: ...
    @property
    def n_out(self) -> int: ...
    @property
    def errors(self) -> int: ...
    @property
    def proc_ns(self) -> int: ...
    @property
    def hist(self) -> list[int]: ...


def snapshot_of(runner: Runner, *, live: bool) -> NodeSnapshot:
    """The snapshot of one node; its ``metrics()`` and ``histograms()`` never raise out of here."""
    node = runner.node
    metrics = getattr(node, "metrics", None)
    histograms = getattr(node, "histograms", None)
    try:
        extra = {str(k): int(v) for k, v in metrics().items()} if metrics is not None else {}
    except Exception:  # noqa: BLE001 - a broken metrics() must not take the report down with it
        extra = {"metrics_errors": 1}
    try:
        own = {str(k): h.snapshot() for k, h in histograms().items()} if histograms is not None else {}
    except Exception:  # noqa: BLE001 - the same for a broken histograms()
        own = {}
    inbox = runner.inbox
    decl = runner.decl
    return NodeSnapshot(
        node_id=decl.id,
        plugin=decl.plugin,
        kind=decl.kind,
        n_in=runner.n_in,
        n_out=runner.n_out,
        dropped=inbox.dropped if inbox is not None else 0,
        errors=runner.errors,
        proc_ns=runner.proc_ns,
        inbox_depth=len(inbox) if inbox is not None else 0,
        inbox_capacity=inbox.capacity if inbox is not None else 0,
        extra=extra,
        target=_target(decl.config),
        live=live,
        busy=bool(getattr(runner, "busy", False)),
        processing=HistogramSnapshot(tuple(runner.hist), runner.proc_ns),
        histograms=own,
    )


def _target(config: Mapping[str, Any]) -> str | None:
    """Where a node reads or writes: its ``path`` or ``url`` setting, credentials masked."""
    for key in ("path", "url"):
        value = config.get(key)
        if isinstance(value, str) and value:
            return redact(value)
    return None
