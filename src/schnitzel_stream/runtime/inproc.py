"""The in-process engine: runs a validated :class:`Graph` until it ends or is stopped.

Threads:

- each **source** runs ``run()`` on a thread of its own;
- each other node that blocks on I/O, or where the graph fans out or in, has a worker
  thread that takes packets from its bounded inbox in batches and calls ``process()``;
- the nodes after a source or a worker that do not block run on that same thread, packet
  by packet (operator chaining, see :mod:`schnitzel_stream.runtime._chains`): a hand-off
  between threads costs more than a cheap node itself;
- the **calling thread** supervises: limits (``--max-events``, ``--duration``), the status
  line, ``sd_notify`` and the watchdog, and the stop sequence.

Memory is bounded by the inbox capacities: nothing accumulates per packet, so a run of
millions of packets uses the same memory as a run of thousands.

Stop sequence (a signal, a limit, or a failure): sources are asked to stop; in-flight
packets drain for up to ``drain_timeout``; then every node is interrupted (waits end,
inboxes are dropped) and given ``stop_grace`` more; finally every node's ``close()`` runs.
Signal handlers only set :attr:`Engine.stop_requested`, never take a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from schnitzel_stream.errors import NodeError, SchnitzelError
from schnitzel_stream.graph.model import DEFAULT_INBOX_MAX, Graph, NodeDecl, Overflow
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.nodes.registry import PluginError, node_class
from schnitzel_stream.redact import redact
from schnitzel_stream.runtime import _chains
from schnitzel_stream.runtime import report as run_report
from schnitzel_stream.runtime._chains import Chain, _Runner
from schnitzel_stream.runtime._driver import ChainDriver
from schnitzel_stream.runtime.inbox import Inbox
from schnitzel_stream.runtime.sdnotify import Notifier
from schnitzel_stream.runtime.snapshot import Health, NodeSnapshot, snapshot_of

log = logging.getLogger("schnitzel_stream.runtime")

StopReason = Literal["completed", "stopped", "max_events", "duration", "failed"]
Phase = Literal["starting", "running", "stopping", "stopped"]

#: Inbox size for nodes that receive frames: a 640x360 frame is ~0.7 MB, so keep few.
FRAME_INBOX_MAX = 8


@dataclass(frozen=True, slots=True)
class EngineOptions:
    max_events: int | None = None
    duration: float | None = None
    drain_timeout: float = 3.0
    stop_grace: float = 1.0
    status_interval: float = 30.0
    batch_size: int = 256
    tick: float = 0.1
    #: A node inside ``process()`` this long counts as hung (``/healthz``) when systemd's
    #: ``WatchdogSec`` does not set the limit.
    hang_timeout: float = 60.0


@dataclass
class RunResult:
    reason: StopReason
    error: SchnitzelError | None
    report: dict[str, Any]

    @property
    def exit_code(self) -> int:
        return 1 if self.reason == "failed" else 0


def _is_live(runner: _Runner) -> bool:
    """A source is live when its instance says so (``live``), else when its spec does."""
    live = getattr(runner.node, "live", None)
    return runner.decl.spec.live if live is None else bool(live)


def instantiate(decl: NodeDecl) -> Node:
    """Import and construct one node; failures become :class:`SchnitzelError`."""
    try:
        cls = node_class(decl.spec)
    except PluginError as exc:
        raise NodeError(f"node {decl.id!r}: {exc.message}", code=exc.code) from None
    try:
        node: Node = cls(node_id=decl.id, config=dict(decl.config))
    except SchnitzelError:
        raise
    except Exception as exc:
        raise NodeError(
            f"node {decl.id!r} ({decl.plugin}) failed to start: {type(exc).__name__}: {redact(str(exc))}",
            code="runtime.node-start",
        ) from exc
    return node


class Engine(ChainDriver):
    """Runs one graph. Build with the graph, then call :meth:`run` once."""

    def __init__(
        self,
        graph: Graph,
        options: EngineOptions | None = None,
        notifier: Notifier | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        make_node: Callable[[NodeDecl], Node] = instantiate,
    ):
        """``clock`` (seconds, monotonic) drives ``duration``, the status line and the watchdog."""
        self.graph = graph
        self._clock = clock
        self.options = options or EngineOptions()
        self.batch_size = self.options.batch_size
        self.tick_sec = self.options.tick
        self.notifier = notifier or Notifier.from_environ()
        #: Builds each node from its declaration; graph tests put recorders in place of some nodes.
        self._make_node = make_node
        #: Set (to a reason) from signal handlers; read by the supervising loop.
        self.stop_requested: str | None = None
        self._stopping = False
        self._aborting = False
        self._failure: SchnitzelError | None = None
        self._failure_lock = threading.Lock()
        self._wake = threading.Event()
        self._chains_done = 0
        self._runners: list[_Runner] = []
        self._chains: list[Chain] = []
        self._started = 0.0
        self._phase: Phase = "starting"
        #: When the supervising loop last ran; the watchdog's own heartbeat.
        self._supervised_at = 0.0

    # -- construction -------------------------------------------------------------------

    def _build(self) -> None:
        graph = self.graph
        order = graph.order
        by_id: dict[str, _Runner] = {}
        try:
            for node_id in order:
                decl = graph.node(node_id)
                by_id[node_id] = _Runner(decl=decl, node=self._make_node(decl), inbox=None)
        except BaseException:
            for runner in by_id.values():
                self._close_node(runner)
            raise
        chains = _chains.plan(graph, order, by_id)
        for chain in chains:
            head = chain.head
            if head.is_source:
                continue
            decl = head.decl
            capacity = decl.runtime.inbox_max or (
                FRAME_INBOX_MAX if "frame" in graph.receives(decl.id) else DEFAULT_INBOX_MAX
            )
            live_fed = any(_is_live(by_id[up]) for up in graph.upstream(decl.id))
            default_policy: Overflow = "drop_oldest" if live_fed else "block"
            head.inbox = Inbox(
                decl.id,
                capacity,
                decl.runtime.inbox_overflow or default_policy,
                producers=len(graph.upstream(decl.id)),
            )
        for runner in by_id.values():
            downstream = graph.downstream(runner.decl.id)
            runner.targets = [inbox for d in downstream if (inbox := by_id[d].inbox) is not None]
            runner.is_sink = not downstream
        self._runners = [by_id[node_id] for node_id in order]
        self._chains = chains

    # -- threads --------------------------------------------------------------------------

    def _record_failure(self, failure: SchnitzelError) -> None:
        with self._failure_lock:
            if self._failure is None:
                self._failure = failure

    def _request_stop(self, reason: str) -> None:
        self.stop_requested = self.stop_requested or reason
        self._wake.set()

    def _chain_thread(self, chain: Chain) -> None:
        try:
            (self._run_source if chain.head.is_source else self._run_inbox)(chain)
        finally:
            with self._failure_lock:
                self._chains_done += 1
            self._wake.set()

    def _on_sink(self) -> Callable[[], None] | None:
        return self._check_max_events if self.options.max_events is not None else None

    def _check_max_events(self) -> None:
        max_events = self.options.max_events
        if max_events is not None and self._sink_total() >= max_events:
            self._request_stop("max_events")

    def _sink_total(self) -> int:
        return sum(r.n_in for r in self._runners if r.is_sink)

    # -- supervision ----------------------------------------------------------------------

    def run(self) -> RunResult:
        """Build the nodes, run until done or stopped, and return the outcome."""
        self._build()
        started_wall = time.time()
        self._started = self._clock()
        self._supervised_at = time.monotonic()
        for chain in self._chains:
            chain.thread = threading.Thread(
                target=self._chain_thread, args=(chain,), name=f"ss-{chain.head.decl.id}", daemon=True
            )
        for chain in reversed(self._chains):  # consumers first, so nothing waits on a missing thread
            assert chain.thread is not None
            chain.thread.start()
        self._phase = "running"
        self.notifier.ready(f"running {len(self._runners)} nodes")
        log.info(
            "graph %s started: %d nodes, %d edges, %d threads",
            self.graph.source_file or "<graph>",
            len(self._runners),
            len(self.graph.edges),
            len(self._chains),
        )
        for chain in self._chains:
            if chain.fused:
                log.debug("one thread runs %s", chain.name)
        reason = self._supervise()
        self._shutdown(reason)
        result_reason: StopReason = "failed" if self._failure is not None else reason
        report = run_report.build(
            graph=self.graph,
            nodes=self.snapshots(),
            reason=result_reason,
            started_wall=started_wall,
            duration=self._clock() - self._started,
            error=self._failure,
        )
        return RunResult(reason=result_reason, error=self._failure, report=report)

    def _supervise(self) -> StopReason:
        options = self.options
        deadline = self._started + options.duration if options.duration else None
        next_status = self._started + options.status_interval
        while True:
            self._wake.wait(options.tick)  # set when a chain ends or a node thread asks to stop
            self._wake.clear()  # before the state is read below: no wake-up is lost
            self._supervised_at = time.monotonic()
            requested = self.stop_requested
            if requested is not None:
                if requested in ("max_events", "failed"):
                    return requested  # type: ignore[return-value]
                log.info("stop requested (%s)", requested)
                return "stopped"
            if self._chains_done == len(self._chains):
                return "completed"
            now = self._clock()
            if deadline is not None and now >= deadline:
                return "duration"
            self._watchdog(now)
            if options.status_interval > 0 and now >= next_status:
                next_status = now + options.status_interval
                log.info("%s", self.status_line())

    def _watchdog(self, now: float) -> None:
        """Ping the service manager's watchdog unless a node hangs inside ``process()``."""
        notifier = self.notifier
        if not notifier.watchdog_due(now):
            return
        hung = self._hung_node()
        if hung is not None:
            notifier.withhold(hung)
            return
        notifier.watchdog(now)

    def _hang_limit(self) -> float:
        return self.notifier.watchdog_interval or self.options.hang_timeout

    def _hung_node(self, now: float | None = None) -> str | None:
        """The watchdog's judgement: the first node inside ``process()`` for longer than the limit."""
        hung = self.hung_nodes(self._hang_limit(), now)
        if not hung:
            return None
        node_id, seconds = hung[0]
        return f"node {node_id!r} has been inside process() for {seconds:.0f}s"

    def hung_nodes(self, limit: float, now: float | None = None) -> list[tuple[str, float]]:
        """Nodes inside ``process()`` for longer than ``limit`` seconds without a sign of life.

        A node waiting through :meth:`Node.wait` (a retry backoff, a full queue) shows life
        (``alive_at``), so it does not count. Returns ``(node id, seconds)`` pairs.
        """
        # Real monotonic time, not the injected clock: Node.wait() stamps alive_at with it.
        # ``now`` may be ahead of the real time (health(now) asks "hung by then?"): the time a
        # node has spent in process() is then counted up to ``now`` too.
        real = time.monotonic()
        now = real if now is None else now
        now_ns = time.perf_counter_ns()
        hung: list[tuple[str, float]] = []
        for runner in self._runners:
            since = runner.since
            if not since:
                continue
            inside = (now_ns - since) / 1e9 + (now - real)
            quiet = min(inside, now - getattr(runner.node, "alive_at", 0.0))
            if quiet > limit:
                hung.append((runner.decl.id, quiet))
        return hung

    # -- what the engine shows: snapshots, health, status -------------------------------

    def snapshots(self) -> list[NodeSnapshot]:
        """Every node's counters now, in graph order; safe to call from any thread at any time
        (empty while the graph is still being built). Fused nodes keep their own counters."""
        return [snapshot_of(r, live=r.is_source and _is_live(r)) for r in list(self._runners)]

    def health(self, now: float | None = None) -> Health:
        """Alive in the watchdog's sense: the supervising loop runs and no node hangs.

        The same judgement that sends or withholds systemd's ``WATCHDOG=1``
        (:meth:`_hung_node`), so ``/healthz`` and the watchdog never disagree.
        """
        now = time.monotonic() if now is None else now
        phase = self._phase
        if phase == "starting":
            return Health(True, phase, "building the nodes")
        if phase != "running":
            return Health(False, phase, f"the graph is {phase}")
        hung = self._hung_node(now)
        if hung is not None:
            return Health(False, phase, hung)
        quiet = now - self._supervised_at
        if quiet > self._hang_limit():
            # The loop that pings the watchdog is stuck itself: systemd would see no ping either.
            return Health(False, phase, f"the supervising loop has not run for {quiet:.0f}s")
        return Health(True, phase)

    @property
    def uptime(self) -> float:
        return self._clock() - self._started if self._started else 0.0

    def status_line(self) -> str:
        return run_report.status_line(self.snapshots(), self.uptime)

    def _shutdown(self, reason: StopReason) -> None:
        self._stopping = True
        self._phase = "stopping"
        self.notifier.stopping()
        for runner in self._runners:
            if runner.is_source:
                try:
                    runner.node.stop()  # type: ignore[attr-defined]
                except AttributeError:
                    pass
                except Exception:
                    log.exception("node %s: stop() failed", runner.decl.id)
        threads = [c.thread for c in self._chains if c.thread is not None]
        if not _join_all(threads, self.options.drain_timeout):
            left = 0
            self._aborting = True
            for runner in self._runners:
                interrupt = getattr(runner.node, "interrupt", None)
                if interrupt is not None:
                    interrupt()
                if runner.inbox is not None:
                    left += runner.inbox.abort()
            if left:
                log.warning(
                    "stop timeout: %d in-memory packets were not processed (durable queues keep theirs)",
                    left,
                )
            if not _join_all(threads, self.options.stop_grace):
                stuck = [c.name for c in self._chains if c.thread is not None and c.thread.is_alive()]
                log.warning("nodes still busy at exit: %s", ", ".join(stuck))
        for runner in self._runners:
            self._close_node(runner)
        self._phase = "stopped"
        log.info("graph stopped (%s) after %.1fs", reason, self._clock() - self._started)

    @staticmethod
    def _close_node(runner: _Runner) -> None:
        try:
            runner.node.close()
        except Exception as exc:  # noqa: BLE001 - one failed close() must not skip the others
            log.error("node %s: close() failed: %s", runner.decl.id, redact(str(exc)))


def _join_all(threads: list[threading.Thread], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    for thread in threads:
        remaining = deadline - time.monotonic()
        if remaining > 0:
            thread.join(remaining)
    return not any(thread.is_alive() for thread in threads)
