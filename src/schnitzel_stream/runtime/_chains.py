"""Operator chaining: which nodes share a thread, and the per-packet path through a chain.

A **chain** is a run of nodes that one thread drives, packet by packet, with plain calls:

- it starts at a **head**: a source (its ``run()`` loop), or a node fed by an inbox;
- it takes in the next node downstream when that node does not block on I/O
  (``NodeSpec.blocking`` is false), has no time-driven ``tick()``, asks for no inbox of its
  own (``__runtime__``), is the only receiver of its upstream and has no other upstream.

So a hand-off between threads (an :class:`~schnitzel_stream.runtime.inbox.Inbox`) remains
only where a node blocks (camera reads, network sinks, the queue), where the graph fans out
or fans in, and where a graph asks for an inbox. ``camera -> motion -> queue`` runs the
motion detector on the camera's thread and hands its events to the queue's thread.

Every node keeps its own counters inside a chain: packets in and out, errors, and the time
spent in its own ``process()`` (the time of the nodes after it is not included). ``since``
is when the node entered ``process()`` (``perf_counter_ns``, 0 when outside): the watchdog
reads it to tell a node that hangs from one that works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from schnitzel_stream.graph.model import Graph, NodeDecl
from schnitzel_stream.latency import BUCKETS
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.packet import Packet
from schnitzel_stream.runtime.inbox import Inbox

#: Pushes one packet into the rest of a chain (and on to the chain's exit inboxes). It takes
#: the ``perf_counter_ns()`` at which the packet became ready and returns the one at which the
#: chain was done with it: one clock reading per node and packet times every node exactly.
Push = Callable[[Packet, int], int]


@dataclass(eq=False, slots=True)
class _Runner:
    """One node at run time: its instance, inbox (chain heads only), targets and counters."""

    decl: NodeDecl
    node: Node
    inbox: Inbox | None
    targets: list[Inbox] = field(default_factory=list)
    is_sink: bool = False
    n_in: int = 0
    n_out: int = 0
    errors: int = 0
    proc_ns: int = 0
    #: Packets per ``proc_ns.bit_length()`` of their time in ``process()`` (see ``latency``).
    hist: list[int] = field(default_factory=lambda: [0] * BUCKETS)
    #: ``perf_counter_ns()`` when the node entered ``process()``; 0 while it is outside.
    since: int = 0
    chain: Chain | None = None

    @property
    def is_source(self) -> bool:
        return self.decl.kind == "source"

    @property
    def busy(self) -> bool:
        return self.since != 0


@dataclass(eq=False, slots=True)
class Chain:
    """Nodes one thread runs in order: ``head`` (a source, or the node behind ``head.inbox``),
    then ``fused``. ``targets`` are the inboxes the last node feeds."""

    head: _Runner
    fused: list[_Runner] = field(default_factory=list)
    thread: threading.Thread | None = None

    @property
    def runners(self) -> list[_Runner]:
        return [self.head, *self.fused]

    @property
    def last(self) -> _Runner:
        return self.fused[-1] if self.fused else self.head

    @property
    def name(self) -> str:
        return " -> ".join(runner.decl.id for runner in self.runners)


def fusable(runner: _Runner, graph: Graph) -> bool:
    """Whether ``runner`` may run on its upstream's thread (see the module docstring)."""
    decl = runner.decl
    if decl.kind == "source" or decl.spec.blocking:
        return False
    if decl.runtime.inbox_max is not None or decl.runtime.inbox_overflow is not None:
        return False  # the graph asked for a hand-off here
    if getattr(runner.node, "tick", None) is not None:
        return False  # time-driven work needs a thread that wakes when the inbox is idle
    upstream = graph.upstream(decl.id)
    return len(upstream) == 1 and len(graph.downstream(upstream[0])) == 1


def plan(graph: Graph, order: Sequence[str], runners: dict[str, _Runner]) -> list[Chain]:
    """Group the runners into chains, in topological ``order``; sets ``runner.chain``."""
    chains: list[Chain] = []
    for node_id in order:
        runner = runners[node_id]
        if fusable(runner, graph):
            chain = runners[graph.upstream(node_id)[0]].chain
            assert chain is not None  # upstream comes first in topological order
            chain.fused.append(runner)
        else:
            chain = Chain(head=runner)
            chains.append(chain)
        runner.chain = chain
    return chains


def build_push(
    chain: Chain,
    start: int,
    *,
    aborted: Callable[[], bool],
    on_sink: Callable[[], None] | None,
) -> Push:
    """The function that runs ``chain.runners[start:]`` on one packet and feeds the exit inboxes.

    It is built once per chain from the last node backwards, as nested closures: a packet
    goes depth first through the chain with a plain call per node and no list per hop.
    ``on_sink`` runs after a sink's ``process()`` (the ``--max-events`` check).
    """
    targets = chain.last.targets
    perf = time.perf_counter_ns

    def deliver(packet: Packet, now: int) -> int:
        for target in targets:
            target.put(packet, aborted)
        return perf()

    def done(packet: Packet, now: int) -> int:
        return now

    push: Push = deliver if targets else done
    for runner in reversed(chain.runners[start:]):
        push = _stage(runner, push, on_sink if runner.is_sink else None)
    return push


def _stage(runner: _Runner, emit: Push, on_sink: Callable[[], None] | None) -> Push:
    process = runner.node.process
    perf = time.perf_counter_ns
    hist = runner.hist

    def push(packet: Packet, started: int) -> int:
        runner.since = started
        outputs = process(packet)
        if outputs.__class__ is not tuple and outputs.__class__ is not list:
            outputs = list(outputs)  # a generator does its work now, inside this node's time
        now = perf()
        runner.since = 0
        elapsed = now - started
        runner.proc_ns += elapsed
        hist[elapsed.bit_length()] += 1
        runner.n_in += 1
        for output in outputs:
            runner.n_out += 1
            now = emit(output, now)
        return now

    def push_to_sink(packet: Packet, started: int) -> int:
        now = push(packet, started)
        assert on_sink is not None
        on_sink()
        return now

    return push if on_sink is None else push_to_sink


def push_all(outputs: Iterable[Packet], runner: _Runner, emit: Push) -> None:
    """Count ``outputs`` as ``runner``'s and pass them on (``tick()`` results)."""
    now = time.perf_counter_ns()
    for output in outputs:
        runner.n_out += 1
        now = emit(output, now)


def failing_runner(chain: Chain) -> _Runner:
    """The node a failure belongs to: the one inside ``process()``, else the head."""
    for runner in chain.runners:
        if runner.since:
            return runner
    return chain.head
