"""The Prometheus exposition (text format 0.0.4), written from the engine's snapshots at scrape time.

Nothing is recorded per packet for it: a scrape reads the same counters the status line and
the run report read (:meth:`Engine.snapshots`), and writes them out. The only per-packet cost
of metrics is the processing-time histogram, which the engine fills whether or not anyone
scrapes (``latency``: one list increment).

The text is written here rather than by prometheus_client's generic serializer: that one
validates and escapes every label of every sample (about 40 µs a sample on a small CPU), so a
scrape of a 10-node graph cost 9 ms of CPU, and with the engine's threads holding the GIL it
stretched past 100 ms. Here the label string of a node is escaped once per scrape. The output
is plain Prometheus text format 0.0.4: prometheus_client's own parser reads it back in the
unit tests, and ``promtool check metrics`` and a real Prometheus check it in
tests/integration/test_prometheus.py.

Names follow the Prometheus conventions: the ``schnitzel_stream_`` prefix, ``_total`` for
counters, base units (``_seconds``, ``_bytes``); the process figures use the standard
``process_`` names. Every per-node series has one label, ``node``; its plugin and kind are in
``schnitzel_stream_node_info`` (join with ``* on (node) group_left (plugin) ...``).
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from schnitzel_stream import __version__
from schnitzel_stream.latency import HistogramSnapshot
from schnitzel_stream.runtime.snapshot import OUTCOMES, Health, NodeSnapshot, readiness

__all__ = ["CONTENT_TYPE", "EngineView", "exposition"]

PREFIX = "schnitzel_stream_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The rendered service files set this to the template's version (``metrics_port`` answer).
TEMPLATE_VERSION_ENV = "SCHNITZEL_STREAM_TEMPLATE_VERSION"

Kind = Literal["counter", "gauge", "histogram", "untyped"]


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


def _label(value: str) -> str:
    """A label value as the text format quotes it: backslash, double quote and newline escaped."""
    if "\\" in value or '"' in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(float(value))


class _Text:
    """Families in first-use order, each with its HELP and TYPE once, then its samples."""

    def __init__(self) -> None:
        self._families: dict[str, list[str]] = {}

    def _family(self, name: str, kind: Kind, help: str) -> list[str]:
        lines = self._families.get(name)
        if lines is None:
            lines = self._families[name] = [f"# HELP {PREFIX}{name} {help}\n# TYPE {PREFIX}{name} {kind}\n"]
        return lines

    def add(self, name: str, kind: Kind, help: str, labels: str, value: float) -> None:
        """One sample of family ``name`` (full name, ``_total`` included); ``labels`` is ready text."""
        sample = f"{PREFIX}{name}{{{labels}}}" if labels else f"{PREFIX}{name}"
        self._family(name, kind, help).append(f"{sample} {_number(value)}\n")

    def histogram(self, name: str, help: str, labels: str, histogram: HistogramSnapshot) -> None:
        lines = self._family(name, "histogram", help)
        total = 0
        for le, count in histogram.cumulative():
            bound = "+Inf" if math.isinf(le) else repr(le)
            lines.append(f'{PREFIX}{name}_bucket{{{labels},le="{bound}"}} {count}\n')
            total = count
        lines.append(f"{PREFIX}{name}_sum{{{labels}}} {_number(histogram.sum_seconds)}\n")
        lines.append(f"{PREFIX}{name}_count{{{labels}}} {total}\n")

    def render(self, tail: Iterable[str] = ()) -> bytes:
        return ("".join(line for lines in self._families.values() for line in lines) + "".join(tail)).encode()


def exposition(engine: EngineView, *, graph: str | None = None) -> bytes:
    """The whole exposition of one engine, now."""
    nodes = engine.snapshots()
    text = _Text()
    for node in nodes:
        _node(text, node)
    health = engine.health()
    text.add(
        "alive",
        "gauge",
        "1 while the graph runs and no node hangs (the /healthz judgement).",
        "",
        int(health.alive),
    )
    text.add(
        "ready",
        "gauge",
        "1 once every source produced or connected and every sink delivered or is idle (/readyz).",
        "",
        0 if readiness(health, nodes) else 1,
    )
    text.add("uptime_seconds", "gauge", "Seconds since the graph started.", "", round(engine.uptime, 3))
    build = ",".join(
        f'{key}="{_label(value)}"'
        for key, value in (
            ("graph", graph or ""),
            ("python", ".".join(str(p) for p in sys.version_info[:3])),
            ("template_version", os.environ.get(TEMPLATE_VERSION_ENV, "")),
            ("version", __version__),
        )
    )
    text.add(
        "build_info",
        "gauge",
        "The schnitzel-stream version, the Python version and, in a deployment root, the template version.",
        build,
        1,
    )
    return text.render(_process())


def _node(text: _Text, node: NodeSnapshot) -> None:
    node_label = f'node="{_label(node.node_id)}"'
    text.add(
        "node_info",
        "gauge",
        "The plugin and kind of each node (value 1).",
        f'{node_label},plugin="{_label(node.plugin)}",kind="{_label(node.kind)}"',
        1,
    )
    if node.kind != "source":
        text.add(
            "node_packets_in_total", "counter", "Packets the node took from its inbox.", node_label, node.n_in
        )
        text.add(
            "node_dropped_total",
            "counter",
            "Packets its inbox dropped by the overflow policy.",
            node_label,
            node.dropped,
        )
        text.add(
            "node_inbox_depth", "gauge", "Packets waiting in the node's inbox.", node_label, node.inbox_depth
        )
        text.add(
            "node_inbox_capacity", "gauge", "Capacity of the node's inbox.", node_label, node.inbox_capacity
        )
        text.histogram(
            "node_processing_seconds", "Time in process() per packet.", node_label, node.processing
        )
    text.add("node_packets_out_total", "counter", "Packets the node passed on.", node_label, node.n_out)
    text.add(
        "node_errors_total",
        "counter",
        "Failures of the node (each stops the graph).",
        node_label,
        node.errors,
    )
    delivery = node.delivery
    if delivery is not None:
        for outcome in OUTCOMES:
            text.add(
                "sink_packets_total",
                "counter",
                "What became of the packets a delivering node received, by outcome.",
                f'{node_label},outcome="{outcome}"',
                getattr(delivery, outcome),
            )
    labels = node_label
    if node.plugin.startswith("sqlite_queue_"):
        labels = f'{node_label},queue="{_label(node.target or "")}"'
    typed: set[str] = set()
    for field in _PLUGIN_FIELDS.get(node.plugin, ()):
        value = node.extra.get(field.key)
        if value is None:
            continue
        typed.add(field.key)
        split = f',{field.label[0]}="{field.label[1]}"' if field.label else ""
        text.add(
            field.name,
            field.kind,
            field.help,
            labels + split,
            value * field.scale if field.scale != 1 else value,
        )
    for key, histogram in node.histograms.items():
        known = _HISTOGRAMS.get(key)
        if known is not None:
            text.histogram(known[0], known[1], labels, histogram)
    for key, value in node.extra.items():
        if key not in typed:
            text.add(
                "node_metric",
                "untyped",
                "The node's own counters and gauges that have no metric of their own.",
                f'{node_label},name="{_label(key)}"',
                value,
            )


def _process() -> list[str]:
    """CPU time, RSS, open files and threads, under their standard ``process_`` names.

    On Linux one read of ``/proc/self/stat`` and one listing of ``/proc/self/fd``: only
    ``/proc/self`` (not ``/proc/stat``), so it works under systemd's ``ProcSubset=pid``, which
    the hardened unit sets. Elsewhere: CPU time and Python's own thread count.
    """
    times = os.times()
    lines = [
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n",
        "# TYPE process_cpu_seconds_total counter\n",
        f"process_cpu_seconds_total {_number(times.user + times.system)}\n",
    ]
    threads = threading.active_count()
    try:
        fields = Path("/proc/self/stat").read_bytes().rsplit(b")", 1)[1].split()
        threads = int(fields[17])
        rss = int(fields[21]) * _PAGE_SIZE
        fds = sum(1 for _ in Path("/proc/self/fd").iterdir())
    except (OSError, IndexError, ValueError):
        pass  # not Linux
    else:
        lines += [
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n",
            "# TYPE process_resident_memory_bytes gauge\n",
            f"process_resident_memory_bytes {rss}\n",
            "# HELP process_open_fds Number of open file descriptors.\n",
            "# TYPE process_open_fds gauge\n",
            f"process_open_fds {fds}\n",
        ]
    lines += [
        f"# HELP {PREFIX}process_threads Threads of the process (OS threads on Linux, Python threads elsewhere).\n",
        f"# TYPE {PREFIX}process_threads gauge\n",
        f"{PREFIX}process_threads {threads}\n",
    ]
    return lines


def _page_size() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 4096


_PAGE_SIZE = _page_size()
