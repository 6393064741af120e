"""The node contract and the spec every built-in node publishes.

- A **source** has ``run()``, which yields packets. It may block: it runs on its own thread.
  ``stop()`` asks it to return soon; long waits inside ``run()`` should watch ``self.stopping``.
- A **node** or **sink** has ``process(packet)``, which returns zero or more packets.
- Every node has ``close()`` and ``metrics()``, which returns integer counters.
- A node with time-driven work (a batch that must go out after a linger time) may define
  ``tick()``, which returns packets to pass on; the engine calls it when the node's inbox
  has been idle for a moment (about 0.1 s).
- A node that holds packets back (a batch not yet full) may define ``flush()``, which
  returns packets to pass on. The engine calls it once, on the node's worker thread, when
  the node's input has ended (its upstream nodes finished, or the graph is stopping: end
  of input, ``--max-events``, ``--duration``, SIGTERM) and before the nodes downstream are
  told that this node is done, so what it returns is still processed; in topological
  order, since each node flushes before its downstream nodes see the end of their input.
  It is skipped when a stop runs out of time (the engine interrupts and aborts then).
  ``close()`` runs after every worker has stopped: packets a node delivers there can no
  longer be passed on.

Config arrives already validated against the node's JSON Schema (``SPEC.schema``) and with
``${...}`` references interpolated. The spec sits next to the node's code and is the only
source for the published ``graph.schema.json``. Node modules import heavy libraries
(cv2, numpy, requests, paho) lazily, so that ``validate`` can read every spec cheaply; a
node package keeps its specs in a light ``_spec`` module and names its classes lazily
(``_lazy``), so reading its specs imports none of its implementation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

if TYPE_CHECKING:  # annotations only: validate reads specs without the runtime's modules
    from schnitzel_stream.latency import LatencyHistogram
    from schnitzel_stream.packet import Packet

Role = Literal["source", "node", "sink"]
ANY_KIND = "*"

JsonSchema = Mapping[str, Any]


class ConfigFinding(NamedTuple):
    """A problem a spec's ``check`` found in a schema-valid config, at the config key ``key``."""

    key: str
    code: str
    message: str


#: ``check(config)``: what ``validate`` can tell about a schema-valid (interpolated) config
#: beyond what its schema says, such as a file path that names a directory. It must be
#: cheap, import nothing heavy and change nothing.
ConfigCheck = Callable[[Mapping[str, Any]], list[ConfigFinding]]


class NodeSpec(NamedTuple):
    """What ``validate`` needs to know about a plugin, without constructing it.

    ``consumes``/``produces`` list packet kinds; ``"*"`` in ``consumes`` accepts anything and
    ``"*"`` in ``produces`` means the node passes on the kinds it receives. ``portable`` marks
    nodes that only handle JSON-portable payloads (no frames). ``live`` marks sources whose
    data goes stale, so their downstream inboxes default to ``drop_oldest``. ``check`` (see
    :data:`ConfigCheck`) adds static findings ``validate`` reports with the schema's.

    ``blocking`` says whether ``process()`` (or ``run()``) may wait on I/O: a network, a
    queue file, a camera. A node that does not block runs on its upstream's thread, with no
    hand-off between threads in front of it (operator chaining); a blocking node keeps a
    thread and an inbox of its own, so its waits never stall the nodes before it. Unknown
    plugins count as blocking.
    """

    name: str
    target: str
    roles: frozenset[Role]
    title: str
    description: str
    schema: JsonSchema
    consumes: frozenset[str] = frozenset()
    produces: frozenset[str] = frozenset()
    portable: bool = False
    live: bool = False
    blocking: bool = True
    aliases: tuple[str, ...] = ()
    check: ConfigCheck | None = None

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def class_name(self) -> str:
        return self.target.partition(":")[2]


class Node:
    """Base class for processing nodes and sinks.

    ``interrupted`` is set by the engine when a graceful stop runs out of time: a node that
    waits inside ``process()`` (a retry backoff, a full queue) must watch it, stop waiting,
    and return promptly without losing what its policy says to keep.
    """

    SPEC: ClassVar[NodeSpec | None] = None

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        self.node_id = node_id
        self.config: dict[str, Any] = dict(config or {})
        self.interrupted = threading.Event()
        #: Monotonic time of the last sign of life inside a long wait (see :meth:`wait`).
        self.alive_at = 0.0

    def interrupt(self) -> None:
        """Give up any wait in progress; called from another thread at the stop deadline."""
        self.interrupted.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` unless interrupted; True when interrupted.

        Nodes use this for deliberate waits inside ``process()`` (a retry backoff, a full
        queue). Time spent here counts as alive, so the watchdog tells a node that is
        backing off from one that hangs.
        """
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            now = time.monotonic()
            self.alive_at = now
            remaining = deadline - now
            if remaining <= 0:
                return self.interrupted.is_set()
            if self.interrupted.wait(min(remaining, 0.2)):
                return True

    def process(self, packet: Packet) -> Iterable[Packet]:
        return (packet,)

    def close(self) -> None:
        """Release resources. Called once, also after errors."""

    def metrics(self) -> dict[str, int]:
        """Node-specific integer counters (the engine adds in/out/dropped/errors)."""
        return {}

    def histograms(self) -> Mapping[str, LatencyHistogram]:
        """Node-specific latency histograms by name (``request``, ``publish``, ``commit``)."""
        return {}


class Source(Node):
    """Base class for sources; ``run()`` runs on a thread of its own.

    ``live`` tells the engine whether this instance produces data that goes stale (a paced
    camera): then the inboxes it feeds default to ``drop_oldest``. ``None`` defers to
    ``SPEC.live``; a source whose liveness depends on its config sets it in ``__init__``.
    """

    live: bool | None = None

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.stopping = threading.Event()

    def run(self) -> Iterator[Packet]:
        raise NotImplementedError

    def stop(self) -> None:
        """Ask ``run()`` to finish soon. Called from another thread."""
        self.stopping.set()

    def interrupt(self) -> None:
        self.stopping.set()
        super().interrupt()
