"""Small nodes for engine tests, reachable as ``tests.support.nodes:<Class>``.

The engine imports nodes by target, exactly as it imports built-ins, so these run through
the real construction path. Graphs that use them need ``tests.support`` on the allowlist.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from schnitzel_stream.nodes.base import Node, NodeSpec, Source
from schnitzel_stream.packet import Packet

OPEN_SCHEMA: Mapping[str, Any] = {"type": "object"}

#: Packets seen by every Collect node, per node id (tests run in their own process).
COLLECTED: dict[str, list[Packet]] = {}
CLOSED: list[str] = []


def spec(name: str, roles: frozenset[Any], *, live: bool = False, produces: str = "*") -> NodeSpec:
    return NodeSpec(
        name=name,
        target=f"tests.support.nodes:{name}",
        roles=roles,
        title=name,
        description=name,
        schema=OPEN_SCHEMA,
        consumes=frozenset({"*"}),
        produces=frozenset({produces}),
        live=live,
    )


class Counter(Source):
    """Emits ``count`` packets (0 = until stopped), optionally pacing ``interval`` seconds."""

    SPEC = spec("Counter", frozenset({"source"}))

    def run(self) -> Iterator[Packet]:
        count = int(self.config.get("count", 10))
        interval = float(self.config.get("interval", 0.0))
        n = 0
        while (count == 0 or n < count) and not self.stopping.is_set():
            yield Packet.new("raw", self.node_id, {"n": n}, meta={"idempotency_key": f"{self.node_id}:{n}"})
            n += 1
            if interval:
                self.stopping.wait(interval)

    def close(self) -> None:
        CLOSED.append(self.node_id)


class LiveCounter(Counter):
    SPEC = spec("LiveCounter", frozenset({"source"}), live=True)


class Collect(Node):
    """Records packets; ``delay`` seconds per packet makes it a slow consumer."""

    SPEC = spec("Collect", frozenset({"node", "sink"}))

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.delay = float(self.config.get("delay", 0.0))
        COLLECTED[node_id] = []

    def process(self, packet: Packet) -> tuple[Packet, ...]:
        if self.delay:
            time.sleep(self.delay)
        COLLECTED[self.node_id].append(packet)
        return (packet,)

    def close(self) -> None:
        CLOSED.append(self.node_id)


class Fail(Node):
    """Raises on the ``at``-th packet."""

    SPEC = spec("Fail", frozenset({"node", "sink"}))

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.seen = 0

    def process(self, packet: Packet) -> tuple[Packet, ...]:
        self.seen += 1
        if self.seen >= int(self.config.get("at", 1)):
            raise RuntimeError(f"boom at packet {self.seen}")
        return (packet,)


class Hang(Node):
    """Never returns from ``process()`` until interrupted (or ``forever``: not even then)."""

    SPEC = spec("Hang", frozenset({"node", "sink"}))

    def process(self, packet: Packet) -> tuple[Packet, ...]:
        if self.config.get("forever"):
            threading.Event().wait()
        self.interrupted.wait()
        return ()


class Backoff(Node):
    """Waits through ``Node.wait`` (a deliberate backoff), which counts as alive."""

    SPEC = spec("Backoff", frozenset({"node", "sink"}))

    def process(self, packet: Packet) -> tuple[Packet, ...]:
        self.wait(float(self.config.get("seconds", 5.0)))
        return (packet,)


class Holder(Node):
    """Holds every packet back and passes them all on from ``flush()`` (a batch that never fills)."""

    SPEC = spec("Holder", frozenset({"node"}))

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.held: list[Packet] = []
        self.flushes = 0

    def process(self, packet: Packet) -> tuple[Packet, ...]:
        self.held.append(packet)
        return ()

    def flush(self) -> list[Packet]:
        self.flushes += 1
        out, self.held = self.held, []
        return out
