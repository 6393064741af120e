"""The bodies of the threads that run chains, shared by the engine and its worker processes.

:class:`ChainDriver` runs one :class:`~schnitzel_stream.runtime._chains.Chain` per thread:

- a **source chain** iterates its source's ``run()`` and pushes every packet through the
  nodes fused after it; at the end of the input each of those nodes is flushed;
- an **inbox chain** takes packets from its head's inbox in batches, gives a node with
  time-driven work ``tick()`` when the inbox is idle, and flushes at the end of the input.

A failure inside a chain is charged to the node that raised it and stops the graph; a closed
output (a pipe whose reader went away) stops it quietly. What "stop the graph" means is the
subclass's: the engine records the failure and stops itself, a worker process tells the
engine that started it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from schnitzel_stream.errors import NodeError, OutputClosed, SchnitzelError
from schnitzel_stream.packet import Packet
from schnitzel_stream.redact import redact
from schnitzel_stream.runtime import _chains
from schnitzel_stream.runtime._chains import Chain

log = logging.getLogger("schnitzel_stream.runtime")

__all__ = ["ChainDriver"]


class ChainDriver:
    """Runs chains; subclasses say how a failure or a stop request travels."""

    _stopping: bool = False
    _aborting: bool = False
    batch_size: int = 256
    tick_sec: float = 0.1

    # -- for subclasses -------------------------------------------------------------------

    def _record_failure(self, failure: SchnitzelError) -> None:
        raise NotImplementedError

    def _request_stop(self, reason: str) -> None:
        raise NotImplementedError

    def _on_sink(self) -> Callable[[], None] | None:
        """Called after each packet a sink took (the ``--max-events`` check), or None."""
        return None

    # -- shared ---------------------------------------------------------------------------

    def _is_aborting(self) -> bool:
        return self._aborting

    def _push(self, chain: Chain, start: int) -> _chains.Push:
        return _chains.build_push(chain, start, aborted=self._is_aborting, on_sink=self._on_sink())

    def _fail(self, chain: Chain, error: BaseException) -> None:
        runner = _chains.failing_runner(chain)
        runner.since = 0
        inbox = chain.head.inbox
        if isinstance(error, OutputClosed):
            # A closed stdout ends the run the way it ends a Unix tool: quietly, not as a failure.
            log.info("%s; stopping", error)
            if inbox is not None:
                inbox.abort()
            self._request_stop("output closed")
            return
        runner.errors += 1
        if isinstance(error, SchnitzelError):
            failure = error
        else:
            failure = NodeError(
                f"node {runner.decl.id!r} ({runner.decl.plugin}) failed: "
                f"{type(error).__name__}: {redact(str(error))}",
                code="runtime.node-failed",
            )
            log.error("node %s failed", runner.decl.id, exc_info=error)
        self._record_failure(failure)
        if inbox is not None:
            # Upstream producers must not block on a chain that will never take again.
            inbox.abort()
        self._request_stop("failed")

    def _run_source(self, chain: Chain) -> None:
        source = chain.head
        push = self._push(chain, 1)
        perf = time.perf_counter_ns
        try:
            packets: Iterable[Packet] = source.node.run()  # type: ignore[attr-defined]
            for packet in packets:
                source.n_out += 1
                push(packet, perf())
                if self._stopping:
                    break
            if not self._aborting:
                self._flush_chain(chain, 1)
        except BaseException as exc:  # noqa: BLE001 - any failure of a node stops the graph
            self._fail(chain, exc)
        finally:
            for target in chain.last.targets:
                target.producer_done()

    def _run_inbox(self, chain: Chain) -> None:
        head = chain.head
        inbox = head.inbox
        assert inbox is not None
        take = inbox.take
        push = self._push(chain, 0)
        batch_size = self.batch_size
        # Nodes with time-driven work (a batch that lingers) get tick() when idle.
        tick: Callable[[], Iterable[Packet]] | None = getattr(head.node, "tick", None)
        after_tick = self._push(chain, 1) if tick is not None else None
        idle = self.tick_sec if tick is not None else None
        perf = time.perf_counter_ns
        try:
            while True:
                batch = take(batch_size, idle)
                if batch is None:
                    assert tick is not None and after_tick is not None
                    _chains.push_all(tick(), head, after_tick)
                    continue
                if not batch:
                    # End of input. flush() runs before this chain tells the nodes downstream
                    # it is done (finally, below), so what it passes on is still processed.
                    if not self._aborting:
                        self._flush_chain(chain, 0)
                    break
                now = perf()
                for packet in batch:
                    if self._aborting:
                        break
                    now = push(packet, now)
        except BaseException as exc:  # noqa: BLE001 - any failure of a node stops the graph
            self._fail(chain, exc)
        finally:
            for target in chain.last.targets:
                target.producer_done()

    def _flush_chain(self, chain: Chain, start: int) -> None:
        """At the end of the chain's input, ``flush()`` each node from ``start`` on (those that
        have one), in order: what one passes on still goes through the nodes after it."""
        runners = chain.runners
        for index in range(start, len(runners)):
            runner = runners[index]
            flush: Callable[[], Iterable[Packet]] | None = getattr(runner.node, "flush", None)
            if flush is None:
                continue
            runner.since = time.perf_counter_ns()
            outputs = list(flush())
            runner.since = 0
            _chains.push_all(outputs, runner, self._push(chain, index + 1))
