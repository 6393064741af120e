"""The Prometheus exposition, built from the engine's snapshots at scrape time.

Nothing is recorded per packet for it: a scrape reads the same counters the status line and
the run report read (:meth:`Engine.snapshots`), and turns them into metric families. The
only per-packet cost of metrics is the processing-time histogram, which the engine fills
whether or not anyone scrapes (``latency``: one list increment).

Names follow the Prometheus conventions: the ``schnitzel_stream_`` prefix, ``_total`` for
counters, base units (``_seconds``, ``_bytes``); the process figures use the standard
``process_`` names. ``promtool check metrics`` checks the result (tests/integration).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, TypeVar

from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
    UnknownMetricFamily,
)

from schnitzel_stream import __version__
from schnitzel_stream.latency import HistogramSnapshot
from schnitzel_stream.runtime.snapshot import OUTCOMES, Health, NodeSnapshot, readiness

PREFIX = "schnitzel_stream_"
#: The rendered service files set this to the template's version (``metrics_port`` answer).
TEMPLATE_VERSION_ENV = "SCHNITZEL_STREAM_TEMPLATE_VERSION"

Kind = Literal["counter", "gauge"]


class EngineView(Protocol):
    """What the exposition reads from the engine."""

    def snapshots(self) -> list[NodeSnapshot]: ...
    def health(self, now: float | None = None) -> Health: ...
    @property
    def uptime(self) -> float: ...


@dataclass(frozen=True, slots=True)
class _Field:
    """One counter or gauge taken from a node's ``metrics()``: ``key`` times ``scale``."""

    name: str
    kind: Kind
    key: str
    help: str
    scale: float = 1.0
    #: An extra label that splits one family (``class="2xx"``).
    label: tuple[str, str] | None = None


_QUEUE = (
    _Field("queue_depth", "gauge", "depth", "Packets in the durable queue file."),
    _Field("queue_bytes", "gauge", "bytes", "Bytes of packet JSON in the durable queue file."),
    _Field("queue_in_flight", "gauge", "in_flight", "Packets leased to a consumer and not yet acknowledged."),
    _Field(
        "queue_oldest_age_seconds", "gauge", "oldest_age_ms", "Age of the oldest queued packet.", scale=1e-3
    ),
    _Field("queue_dead_letters", "gauge", "dead", "Dead letters in the queue file (queue peek --dead)."),
    _Field("queue_disk_full", "gauge", "disk_full_now", "1 while writes to the queue find the disk full."),
    _Field("queue_disk_full_episodes_total", "counter", "disk_full", "Episodes of a full disk."),
    _Field("queue_enqueued_total", "counter", "enqueued", "Packets this node wrote into the queue."),
    _Field("queue_acked_total", "counter", "acked", "Packets this node acknowledged (removed)."),
    _Field("queue_redelivered_total", "counter", "redelivered", "Packets leased again after a lost lease."),
    _Field("queue_dropped_oldest_total", "counter", "dropped_oldest", "Oldest packets dropped to make room."),
    _Field(
        "queue_dead_lettered_total",
        "counter",
        "dead_lettered",
        "Packets this node moved to the dead letters.",
    ),
)
_HTTP = (
    *(
        _Field(
            "http_requests_total",
            "counter",
            f"status_{c}",
            "HTTP requests by status class.",
            label=("class", c),
        )
        for c in ("2xx", "4xx", "5xx", "other")
    ),
    _Field(
        "http_request_errors_total",
        "counter",
        "timeouts",
        "Requests without an answer.",
        label=("error", "timeout"),
    ),
    _Field(
        "http_request_errors_total",
        "counter",
        "conn_errors",
        "Requests without an answer.",
        label=("error", "connection"),
    ),
    _Field("http_retries_total", "counter", "retries", "Requests retried after a transient failure."),
    _Field(
        "http_retry_budget_exhausted_total",
        "counter",
        "budget_waits",
        "Times the retry budget was empty and the sink waited for a token.",
    ),
    _Field("http_buffered", "gauge", "buffered", "Packets waiting in the batch buffer."),
)
_MQTT = (
    _Field("mqtt_published_total", "counter", "published", "Messages the broker accepted (PUBACK at QoS 1)."),
    _Field("mqtt_failures_total", "counter", "failures", "Messages not delivered in time or refused."),
    _Field("mqtt_reconnects_total", "counter", "reconnects", "Connections to the broker restored."),
    _Field("mqtt_connected", "gauge", "connected", "1 while connected to the broker."),
)
_CAMERA = (
    _Field(
        "camera_frames_total", "counter", "frames", "Frames the camera delivered (rate() gives frames/s)."
    ),
    _Field("camera_reconnects_total", "counter", "reconnects", "Connections to the camera restored."),
    _Field("camera_stalls_total", "counter", "stalls", "Times the camera went silent past the timeouts."),
    _Field(
        "camera_disconnects_total",
        "counter",
        "disconnects",
        "Times the stream ended or the connection was lost.",
    ),
    _Field("camera_open_failures_total", "counter", "open_failures", "Failed attempts to open the stream."),
    _Field(
        "camera_dropped_frames_total", "counter", "dropped_frames", "Older frames replaced by newer ones."
    ),
    _Field("camera_connected", "gauge", "connected", "1 while frames arrive from the camera."),
    _Field(
        "camera_frame_age_seconds",
        "gauge",
        "frame_age_ms",
        "Time since the newest frame was read.",
        scale=1e-3,
    ),
    _Field(
        "camera_live_edge_lag_seconds",
        "gauge",
        "live_edge_lag_ms",
        "How far the frames are behind the camera's live edge.",
        scale=1e-3,
    ),
)
_PLUGIN_FIELDS: dict[str, tuple[_Field, ...]] = {
    "sqlite_queue_sink": _QUEUE,
    "sqlite_queue_source": _QUEUE,
    "sqlite_queue_ack": _QUEUE,
    "http_sink": _HTTP,
    "mqtt_sink": _MQTT,
    "rtsp_camera": _CAMERA,
}
#: A node's own histograms (``histograms()``) by name, as metric name and help.
_HISTOGRAMS: dict[str, tuple[str, str]] = {
    "request": ("http_request_duration_seconds", "Time of one HTTP request, answer included."),
    "publish": ("mqtt_publish_duration_seconds", "Time from publish to the broker's PUBACK (QoS 1)."),
    "commit": ("queue_commit_duration_seconds", "Time of one commit to the queue file."),
}


_M = TypeVar("_M", bound=Metric)


class _Families:
    """Metric families by name, created on first use, in a stable order."""

    def __init__(self) -> None:
        self._by_name: dict[str, Metric] = {}

    def counter(self, name: str, help: str, labels: Sequence[str]) -> CounterMetricFamily:
        return self._get(
            name, CounterMetricFamily, lambda: CounterMetricFamily(PREFIX + name, help, labels=labels)
        )

    def gauge(self, name: str, help: str, labels: Sequence[str]) -> GaugeMetricFamily:
        return self._get(
            name, GaugeMetricFamily, lambda: GaugeMetricFamily(PREFIX + name, help, labels=labels)
        )

    def histogram(self, name: str, help: str, labels: Sequence[str]) -> HistogramMetricFamily:
        return self._get(
            name, HistogramMetricFamily, lambda: HistogramMetricFamily(PREFIX + name, help, labels=labels)
        )

    def untyped(self, name: str, help: str, labels: Sequence[str]) -> UnknownMetricFamily:
        return self._get(
            name, UnknownMetricFamily, lambda: UnknownMetricFamily(PREFIX + name, help, labels=labels)
        )

    def _get(self, name: str, kind: type[_M], make: Callable[[], _M]) -> _M:
        found = self._by_name.get(name)
        if found is None:
            found = self._by_name[name] = make()
        assert isinstance(found, kind), f"{name} is both a {found.type} and a {kind.__name__}"
        return found

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._by_name.values())


def _buckets(histogram: HistogramSnapshot) -> list[tuple[str, float]]:
    return [("+Inf" if le == float("inf") else repr(le), float(n)) for le, n in histogram.cumulative()]


class GraphCollector:
    """A prometheus_client collector over one engine (register it with a private registry)."""

    def __init__(self, engine: EngineView, *, graph: str | None = None) -> None:
        self._engine = engine
        self._graph = graph or ""

    def collect(self) -> Iterator[Metric]:
        nodes = self._engine.snapshots()
        families = _Families()
        for node in nodes:
            _node_families(families, node)
        health = self._engine.health()
        alive = families.gauge(
            "alive", "1 while the graph runs and no node hangs (the /healthz judgement).", ()
        )
        alive.add_metric((), 1.0 if health.alive else 0.0)
        ready = families.gauge(
            "ready",
            "1 once every source produced or connected and every sink delivered or is idle (/readyz).",
            (),
        )
        ready.add_metric((), 0.0 if readiness(health, nodes) else 1.0)
        uptime = families.gauge("uptime_seconds", "Seconds since the graph started.", ())
        uptime.add_metric((), round(self._engine.uptime, 3))
        yield from families
        yield InfoMetricFamily(
            PREFIX + "build",
            "The schnitzel-stream version, the Python version and, in a deployment root, the template version.",
            value={
                "version": __version__,
                "python": ".".join(str(p) for p in sys.version_info[:3]),
                "template_version": os.environ.get(TEMPLATE_VERSION_ENV, ""),
                "graph": self._graph,
            },
        )
        yield from _process_families()


def _node_families(families: _Families, node: NodeSnapshot) -> None:
    labels = (node.node_id, node.plugin, node.kind)
    names = ("node", "plugin", "kind")
    if node.kind != "source":
        families.counter("node_packets_in_total", "Packets the node took from its inbox.", names).add_metric(
            labels, node.n_in
        )
        families.counter(
            "node_dropped_total", "Packets its inbox dropped by the overflow policy.", names
        ).add_metric(labels, node.dropped)
        families.gauge("node_inbox_depth", "Packets waiting in the node's inbox.", names).add_metric(
            labels, node.inbox_depth
        )
        families.gauge("node_inbox_capacity", "Capacity of the node's inbox.", names).add_metric(
            labels, node.inbox_capacity
        )
        families.histogram("node_processing_seconds", "Time in process() per packet.", names).add_metric(
            labels, _buckets(node.processing), node.processing.sum_seconds
        )
    families.counter("node_packets_out_total", "Packets the node passed on.", names).add_metric(
        labels, node.n_out
    )
    families.counter("node_errors_total", "Failures of the node (each stops the graph).", names).add_metric(
        labels, node.errors
    )
    delivery = node.delivery
    if delivery is not None:
        family = families.counter(
            "sink_packets_total",
            "What became of the packets a delivering node received, by outcome.",
            ("node", "plugin", "outcome"),
        )
        for outcome in OUTCOMES:
            family.add_metric((node.node_id, node.plugin, outcome), getattr(delivery, outcome))
    fields = _PLUGIN_FIELDS.get(node.plugin, ())
    queue = node.plugin.startswith("sqlite_queue_")
    for field in fields:
        if field.key not in node.extra:
            continue
        label_names = ["node", *(("queue",) if queue else ()), *((field.label[0],) if field.label else ())]
        label_values = [
            node.node_id,
            *((node.target or "",) if queue else ()),
            *((field.label[1],) if field.label else ()),
        ]
        value = node.extra[field.key] * field.scale
        make = families.counter if field.kind == "counter" else families.gauge
        make(field.name, field.help, label_names).add_metric(label_values, value)
    for key, histogram in node.histograms.items():
        known = _HISTOGRAMS.get(key)
        if known is None:
            continue
        name, help = known
        label_names = ["node", *(("queue",) if queue else ())]
        label_values = [node.node_id, *((node.target or "",) if queue else ())]
        families.histogram(name, help, label_names).add_metric(
            label_values, _buckets(histogram), histogram.sum_seconds
        )
    generic = families.untyped(
        "node_metric",
        "Every counter and gauge of the node's own metrics(), by name.",
        ("node", "plugin", "name"),
    )
    for key, value in node.extra.items():
        generic.add_metric((node.node_id, node.plugin, key), value)


def _process_families() -> Iterator[Metric]:
    """RSS, open files, CPU time and threads; read from ``/proc/self`` on Linux.

    Only ``/proc/self`` is read (not ``/proc/stat``), so this works under systemd's
    ``ProcSubset=pid``, which the hardened unit sets.
    """
    times = os.times()
    yield CounterMetricFamily(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        value=times.user + times.system,
    )
    threads = float(threading.active_count())
    try:
        with Path("/proc/self/status").open(encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    yield GaugeMetricFamily(
                        "process_resident_memory_bytes",
                        "Resident memory size in bytes.",
                        value=float(line.split()[1]) * 1024,
                    )
                elif line.startswith("Threads:"):
                    threads = float(line.split()[1])
        fds = sum(1 for _ in Path("/proc/self/fd").iterdir())
        yield GaugeMetricFamily("process_open_fds", "Number of open file descriptors.", value=float(fds))
    except OSError:
        pass  # not Linux: CPU time and Python's own thread count only
    yield GaugeMetricFamily(
        PREFIX + "process_threads",
        "Threads of the process (OS threads on Linux, Python threads elsewhere).",
        value=threads,
    )
