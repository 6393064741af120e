"""The in-process engine: runs a validated :class:`Graph` until it ends or is stopped.

Threads:

- each **source** runs ``run()`` on a thread of its own and feeds the inboxes of the nodes
  downstream of it;
- each **node and sink** has a worker thread that takes packets from its bounded inbox in
  batches, calls ``process()``, and feeds the inboxes downstream;
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from schnitzel_stream.errors import NodeError, OutputClosed, SchnitzelError
from schnitzel_stream.graph.model import DEFAULT_INBOX_MAX, Graph, NodeDecl, Overflow
from schnitzel_stream.latency import BUCKETS
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.nodes.registry import PluginError, node_class
from schnitzel_stream.packet import Packet
from schnitzel_stream.redact import redact
from schnitzel_stream.runtime import report as run_report
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
class _Runner:
    """One node at run time: its instance, inbox, downstream inboxes and counters."""

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
    busy: bool = False
    beat: float = 0.0
    thread: threading.Thread | None = None

    @property
    def is_source(self) -> bool:
        return self.decl.kind == "source"


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


class Engine:
    """Runs one graph. Build with the graph, then call :meth:`run` once."""

    def __init__(
        self,
        graph: Graph,
        options: EngineOptions | None = None,
        notifier: Notifier | None = None,
        *,
        make_node: Callable[[NodeDecl], Node] = instantiate,
    ):
        self.graph = graph
        self.options = options or EngineOptions()
        self.notifier = notifier or Notifier.from_environ()
        #: Builds each node from its declaration; graph tests put recorders in place of some nodes.
        self._make_node = make_node
        #: Set (to a reason) from signal handlers; read by the supervising loop.
        self.stop_requested: str | None = None
        self._stopping = False
        self._aborting = False
        self._failure: SchnitzelError | None = None
        self._failure_lock = threading.Lock()
        self._runners: list[_Runner] = []
        self._started = 0.0
        self._phase: Phase = "starting"
        #: When the supervising loop last ran; the watchdog's own heartbeat.
        self._supervised_at = 0.0

    # -- construction -------------------------------------------------------------------

    def _build(self) -> None:
        graph = self.graph
        by_id: dict[str, _Runner] = {}
        built: list[_Runner] = []
        try:
            for node_id in graph.order:
                decl = graph.node(node_id)
                node = self._make_node(decl)
                inbox = None
                if decl.kind != "source":
                    capacity = decl.runtime.inbox_max or (
                        FRAME_INBOX_MAX if "frame" in graph.receives(node_id) else DEFAULT_INBOX_MAX
                    )
                    live_fed = any(_is_live(by_id[up]) for up in graph.upstream(node_id))
                    default_policy: Overflow = "drop_oldest" if live_fed else "block"
                    inbox = Inbox(
                        node_id,
                        capacity,
                        decl.runtime.inbox_overflow or default_policy,
                        producers=len(graph.upstream(node_id)),
                    )
                runner = _Runner(decl=decl, node=node, inbox=inbox)
                by_id[node_id] = runner
                built.append(runner)
        except BaseException:
            for runner in built:
                self._close_node(runner)
            raise
        for runner in built:
            downstream = self.graph.downstream(runner.decl.id)
            runner.targets = [inbox for d in downstream if (inbox := by_id[d].inbox) is not None]
            runner.is_sink = not downstream
        self._runners = built

    # -- threads --------------------------------------------------------------------------

    def _is_aborting(self) -> bool:
        return self._aborting

    def _fail(self, runner: _Runner, error: BaseException) -> None:
        if isinstance(error, OutputClosed):
            # A closed stdout ends the run the way it ends a Unix tool: quietly, not as a failure.
            log.info("%s; stopping", error)
            if runner.inbox is not None:
                runner.inbox.abort()
            self.stop_requested = self.stop_requested or "output closed"
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
        with self._failure_lock:
            if self._failure is None:
                self._failure = failure
        if runner.inbox is not None:
            # Upstream producers must not block on a node that will never take again.
            runner.inbox.abort()
        self.stop_requested = self.stop_requested or "failed"

    def _run_source(self, runner: _Runner) -> None:
        targets = runner.targets
        aborted = self._is_aborting
        try:
            packets: Iterable[Packet] = runner.node.run()  # type: ignore[attr-defined]
            for packet in packets:
                runner.n_out += 1
                for target in targets:
                    target.put(packet, aborted)
                if self._stopping:
                    break
        except BaseException as exc:  # noqa: BLE001 - any failure of a node stops the graph
            self._fail(runner, exc)
        finally:
            for target in targets:
                target.producer_done()

    def _run_worker(self, runner: _Runner) -> None:
        inbox = runner.inbox
        assert inbox is not None
        take = inbox.take
        process = runner.node.process
        targets = runner.targets
        aborted = self._is_aborting
        batch_size = self.options.batch_size
        perf = time.perf_counter_ns
        monotonic = time.monotonic
        hist = runner.hist
        max_events = self.options.max_events if runner.is_sink else None
        # Nodes with time-driven work (a batch that lingers) get tick() when idle.
        tick: Callable[[], Iterable[Packet]] | None = getattr(runner.node, "tick", None)
        idle = self.options.tick if tick is not None else None
        try:
            while True:
                batch = take(batch_size, idle)
                if batch is None:
                    assert tick is not None
                    self._pass_on(runner, tick())
                    continue
                if not batch:
                    # End of input. flush() runs before this worker tells the nodes downstream
                    # it is done (finally, below), so what it passes on is still processed.
                    if not self._aborting:
                        self._flush_node(runner)
                    break
                runner.busy = True
                for packet in batch:
                    if self._aborting:
                        break
                    runner.beat = monotonic()
                    started = perf()
                    outputs = process(packet)
                    if outputs.__class__ is not tuple and outputs.__class__ is not list:
                        outputs = list(outputs)
                    elapsed = perf() - started
                    runner.proc_ns += elapsed
                    hist[elapsed.bit_length()] += 1
                    runner.n_in += 1
                    for output in outputs:
                        runner.n_out += 1
                        for target in targets:
                            target.put(output, aborted)
                runner.busy = False
                if max_events is not None and self._sink_total() >= max_events:
                    self.stop_requested = self.stop_requested or "max_events"
        except BaseException as exc:  # noqa: BLE001 - any failure of a node stops the graph
            self._fail(runner, exc)
        finally:
            runner.busy = False
            for target in targets:
                target.producer_done()

    def _pass_on(self, runner: _Runner, outputs: Iterable[Packet]) -> None:
        for output in outputs:
            runner.n_out += 1
            for target in runner.targets:
                target.put(output, self._is_aborting)

    def _flush_node(self, runner: _Runner) -> None:
        """Call the node's ``flush()`` (if it has one) and pass on what it returns."""
        flush: Callable[[], Iterable[Packet]] | None = getattr(runner.node, "flush", None)
        if flush is not None:
            runner.busy = True
            runner.beat = time.monotonic()
            self._pass_on(runner, flush())

    def _sink_total(self) -> int:
        return sum(r.n_in for r in self._runners if r.is_sink)

    # -- supervision ----------------------------------------------------------------------

    def run(self) -> RunResult:
        """Build the nodes, run until done or stopped, and return the outcome."""
        self._build()
        started_wall = time.time()
        self._started = self._supervised_at = time.monotonic()
        for runner in self._runners:
            target: Callable[[_Runner], None] = self._run_source if runner.is_source else self._run_worker
            runner.thread = threading.Thread(
                target=target, args=(runner,), name=f"ss-{runner.decl.id}", daemon=True
            )
        for runner in reversed(self._runners):  # consumers first, so nothing waits on a missing thread
            assert runner.thread is not None
            runner.thread.start()
        self._phase = "running"
        self.notifier.ready(f"running {len(self._runners)} nodes")
        log.info(
            "graph %s started: %d nodes, %d edges",
            self.graph.source_file or "<graph>",
            len(self._runners),
            len(self.graph.edges),
        )
        reason = self._supervise()
        self._shutdown(reason)
        result_reason: StopReason = "failed" if self._failure is not None else reason
        report = run_report.build(
            graph=self.graph,
            nodes=self.snapshots(),
            reason=result_reason,
            started_wall=started_wall,
            duration=time.monotonic() - self._started,
            error=self._failure,
        )
        return RunResult(reason=result_reason, error=self._failure, report=report)

    def _supervise(self) -> StopReason:
        options = self.options
        deadline = self._started + options.duration if options.duration else None
        next_status = self._started + options.status_interval
        while True:
            time.sleep(options.tick)
            self._supervised_at = time.monotonic()
            requested = self.stop_requested
            if requested is not None:
                if requested in ("max_events", "failed"):
                    return requested  # type: ignore[return-value]
                log.info("stop requested (%s)", requested)
                return "stopped"
            if all(r.thread is not None and not r.thread.is_alive() for r in self._runners):
                return "completed"
            now = time.monotonic()
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
        hung = self._hung_node(now)
        if hung is not None:
            notifier.withhold(hung)
            return
        notifier.watchdog(now)

    def _hang_limit(self) -> float:
        return self.notifier.watchdog_interval or self.options.hang_timeout

    def _hung_node(self, now: float) -> str | None:
        """The watchdog's judgement: a node inside ``process()`` for longer than the limit.

        A node that waits on purpose (a backend, a full queue) refreshes ``alive_at``.
        """
        limit = self._hang_limit()
        for runner in self._runners:
            if runner.busy:
                alive = max(runner.beat, getattr(runner.node, "alive_at", 0.0))
                if now - alive > limit:
                    return f"node {runner.decl.id!r} has been inside process() for {now - alive:.0f}s"
        return None

    # -- what the engine shows: snapshots, health, status -------------------------------

    def snapshots(self) -> list[NodeSnapshot]:
        """Every node's counters now, in graph order; safe to call from any thread at any time
        (empty while the graph is still being built)."""
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
        return time.monotonic() - self._started if self._started else 0.0

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
        threads = [r.thread for r in self._runners if r.thread is not None]
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
                stuck = [r.decl.id for r in self._runners if r.thread is not None and r.thread.is_alive()]
                log.warning("nodes still busy at exit: %s", ", ".join(stuck))
        for runner in self._runners:
            self._close_node(runner)
        self._phase = "stopped"
        log.info("graph stopped (%s) after %.1fs", reason, time.monotonic() - self._started)

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
