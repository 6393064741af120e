"""Captured nodes: a stand-in node that records what reaches it and checks it as it goes.

Expectations are checked packet by packet, on the captured node's own worker thread, and
nothing but counters and the first offending packet is kept: a case whose graph emits
millions of packets needs no more memory than one that emits ten. ``all``, ``none``,
``schema`` and a count's upper bound can only break once, so the first packet that breaks
one decides the case, and the runner stops the graph at once instead of waiting it out.
Packets that arrive after the case's deadline are not counted: the verdict is what had
arrived when ``timeout_sec`` was reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from schnitzel_stream.errors import NodeError
from schnitzel_stream.graph.findings import Finding, JsonPath, format_path
from schnitzel_stream.graphtest._match import describe, explain, matches, mismatch
from schnitzel_stream.graphtest._model import Expectation
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.packet import Packet
from schnitzel_stream.redact import redact


@dataclass(frozen=True, slots=True)
class _Seen:
    """The packet that decided something: its 1-based number, kind and source, and why."""

    number: int
    kind: str
    source_id: str
    detail: str = ""

    def name(self) -> str:
        return f"packet #{self.number} (kind {describe(self.kind)}, source_id {describe(self.source_id)})"


class Recorder:
    """Counts and checks the packets that reach one captured node."""

    def __init__(
        self,
        node: str,
        expectation: Expectation | None,
        *,
        deadline: float,
        clock: Callable[[], float],
        on_decided: Callable[[], None],
    ) -> None:
        self.node = node
        self.expectation = expectation
        self.seen = 0
        self._deadline = deadline
        self._clock = clock
        self._on_decided = on_decided
        self._done = False
        self._first_miss: tuple[JsonPath, str] | None = None
        self._all_miss: _Seen | None = None
        self._any_hit: _Seen | None = None
        self._none_hit: _Seen | None = None
        self._schema_miss: _Seen | None = None

    def record(self, packet: Packet) -> None:
        if self._done or self._clock() >= self._deadline:
            # After the deadline, or once this node's verdict is certain, nothing more counts.
            self._done = True
            return
        self.seen += 1
        expect = self.expectation
        if expect is None:
            return
        data = packet.to_dict() if (expect.all or expect.any or expect.none) else {}
        if expect.all is not None and self._all_miss is None:
            found = mismatch(expect.all, data)
            if found is not None:
                self._all_miss = self._seen(packet, explain(found))
        if expect.any is not None and self._any_hit is None:
            found = mismatch(expect.any, data)
            if found is None:
                self._any_hit = self._seen(packet)
            elif self._first_miss is None:
                self._first_miss = found
        if expect.none is not None and self._none_hit is None and matches(expect.none, data):
            self._none_hit = self._seen(packet)
        if expect.schema is not None and self._schema_miss is None:
            error = expect.schema.first_error(packet.payload)
            if error is not None:
                self._schema_miss = self._seen(packet, f"{format_path(('payload', *error[0]))}: {error[1]}")
        if self.broken():
            self._done = True
            self._on_decided()

    def _seen(self, packet: Packet, detail: str = "") -> _Seen:
        return _Seen(self.seen, str(packet.kind), str(packet.source_id), detail)

    def broken(self) -> bool:
        """True once an expectation is broken for good, whatever arrives later."""
        expect = self.expectation
        if expect is None:
            return False
        too_many = (
            expect.count is not None and expect.count.high is not None and self.seen > expect.count.high
        )
        return bool(too_many or self._all_miss or self._none_hit or self._schema_miss)

    def findings(self, *, stopped_early: bool) -> list[Finding]:
        """Every expectation that does not hold, at its key in the test file.

        After an early stop (some expectation broke for good), a minimum count or an ``any``
        that is not reached yet is not judged: the graph did not get to finish.
        """
        expect = self.expectation
        if expect is None:
            return []
        at = expect.at
        out: list[Finding] = []
        count = expect.count
        too_few = count is not None and self.seen < count.low and not stopped_early
        too_many = count is not None and count.high is not None and self.seen > count.high
        if count is not None and (too_few or too_many):
            saw = f"the graph was stopped at packet #{self.seen}" if too_many else f"saw {self.seen}"
            out.append(
                Finding(
                    "expect.count",
                    f"expected {count.describe()} packets at {self.node!r}; {saw}",
                    (*at, "count"),
                )
            )
        if self._all_miss is not None:
            hit = self._all_miss
            out.append(
                Finding("expect.all", f"{hit.name()} does not match 'all': {hit.detail}", (*at, "all"))
            )
        if expect.any is not None and self._any_hit is None and not stopped_early:
            if self.seen == 0:
                message = f"no packet reached {self.node!r}, so none matches 'any'"
            else:
                first = f"; the first differs at {explain(self._first_miss)}" if self._first_miss else ""
                message = f"none of the {self.seen} packets at {self.node!r} matches 'any'{first}"
            out.append(Finding("expect.any", message, (*at, "any")))
        if self._none_hit is not None:
            out.append(Finding("expect.none", f"{self._none_hit.name()} matches 'none'", (*at, "none")))
        if self._schema_miss is not None and expect.schema is not None:
            hit = self._schema_miss
            out.append(
                Finding(
                    "expect.schema",
                    f"the payload of {hit.name()} does not match {expect.schema.file}: {hit.detail}",
                    (*at, "schema"),
                )
            )
        return [Finding(f.code, redact(f.message), f.path) for f in out]


class CaptureNode(Node):
    """Runs in place of a captured node: records each packet, and passes it on when the
    captured plugin would have (a sink with ``forward: true`` feeding an ack node)."""

    def __init__(self, *, node_id: str, recorder: Recorder, passthrough: bool) -> None:
        super().__init__(node_id=node_id, config={})
        self._record = recorder.record
        self._recorder = recorder
        self._passthrough = passthrough

    def process(self, packet: Packet) -> Iterable[Packet]:
        try:
            self._record(packet)
        except Exception as exc:
            # Our own bug must not read as a failure of the plugin this node stands in for.
            raise NodeError(
                f"node {self.node_id!r} (captured): recording a packet failed: {type(exc).__name__}: {exc}",
                code="internal.capture",
            ) from exc
        return (packet,) if self._passthrough else ()

    def metrics(self) -> dict[str, int]:
        return {"captured": self._recorder.seen}
