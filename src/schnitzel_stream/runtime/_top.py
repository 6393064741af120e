"""What ``schnitzel-stream top`` shows: scrapes of a running graph's ``/metrics``, as rows.

``top`` reads nothing but the metrics endpoint, so it works against any running process
(another user's service, another machine) that serves one. Rates come from two scrapes:
the counter's growth over the time between them.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

from schnitzel_stream.errors import SchnitzelError

__all__ = ["Scrape", "TopView", "fetch", "plain_lines", "rate_text", "shown", "view"]

_P = "schnitzel_stream_"
Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Scrape:
    """One answer of ``/metrics``: every sample by name and labels, and when it was read."""

    at: float
    samples: dict[str, dict[Labels, float]]

    def value(self, name: str, **labels: str) -> float | None:
        for found, value in self.samples.get(name, {}).items():
            as_dict = dict(found)
            if all(as_dict.get(k) == v for k, v in labels.items()):
                return value
        return None

    def series(self, name: str) -> Iterator[tuple[dict[str, str], float]]:
        for labels, value in self.samples.get(name, {}).items():
            yield dict(labels), value


def fetch(url: str, timeout: float = 2.0) -> Scrape:
    """Scrape ``url`` (a ``/metrics`` endpoint); a one-line error when it cannot be read."""
    from prometheus_client.parser import text_string_to_metric_families

    # No proxies: http_proxy in the environment must not send a loopback scrape elsewhere.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as answer:
            text = answer.read(16 * 1024 * 1024).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise SchnitzelError(f"{url}: HTTP {exc.code}", code="top.scrape") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SchnitzelError(
            f"cannot read {url}: {reason} (is the graph running with --metrics-addr?)", code="top.scrape"
        ) from None
    samples: dict[str, dict[Labels, float]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = float(
                    sample.value
                )
    except ValueError as exc:
        raise SchnitzelError(
            f"{url} did not answer with Prometheus metrics: {exc}", code="top.scrape"
        ) from None
    return Scrape(time.monotonic(), samples)


@dataclass(frozen=True, slots=True)
class NodeRow:
    node: str
    plugin: str
    kind: str
    in_rate: float | None
    out_rate: float | None
    inbox: int
    capacity: int
    dropped: int
    errors: int


@dataclass(frozen=True, slots=True)
class TopView:
    """One screen of ``top``: the graph's state and a row per node; ``notes`` per node id."""

    uptime: float
    alive: bool
    ready: bool
    nodes: list[NodeRow]
    notes: dict[str, list[str]] = field(default_factory=dict)


def _rate(prev: Scrape | None, cur: Scrape, name: str, **labels: str) -> float | None:
    now = cur.value(name, **labels)
    before = prev.value(name, **labels) if prev is not None else None
    if now is None or before is None or prev is None or cur.at <= prev.at or now < before:
        return None
    return (now - before) / (cur.at - prev.at)


def _int(value: float | None) -> int:
    return int(value) if value is not None else 0


def view(prev: Scrape | None, cur: Scrape) -> TopView:
    """The rows of one screen; rates need ``prev`` (the scrape one interval earlier)."""
    rows: list[NodeRow] = []
    notes: dict[str, list[str]] = {}
    info = {labels.get("node", "?"): labels for labels, _ in cur.series(_P + "node_info")}
    for labels, _ in cur.series(_P + "node_packets_out_total"):
        node = labels.get("node", "?")
        plugin, kind = info.get(node, {}).get("plugin", "?"), info.get(node, {}).get("kind", "?")
        has_inbox = kind != "source"
        rows.append(
            NodeRow(
                node=node,
                plugin=plugin,
                kind=kind,
                in_rate=_rate(prev, cur, _P + "node_packets_in_total", node=node) if has_inbox else None,
                out_rate=_rate(prev, cur, _P + "node_packets_out_total", node=node),
                inbox=_int(cur.value(_P + "node_inbox_depth", node=node)),
                capacity=_int(cur.value(_P + "node_inbox_capacity", node=node)),
                dropped=_int(cur.value(_P + "node_dropped_total", node=node)),
                errors=_int(cur.value(_P + "node_errors_total", node=node)),
            )
        )
        notes[node] = _notes(prev, cur, node)
    return TopView(
        uptime=cur.value(_P + "uptime_seconds") or 0.0,
        alive=cur.value(_P + "alive") == 1.0,
        ready=cur.value(_P + "ready") == 1.0,
        nodes=rows,
        notes=notes,
    )


def _notes(prev: Scrape | None, cur: Scrape, node: str) -> list[str]:
    """The node's own figures worth a glance: queue, delivery, retries, camera."""
    found: list[str] = []
    depth = cur.value(_P + "queue_depth", node=node)
    if depth is not None:
        age = cur.value(_P + "queue_oldest_age_seconds", node=node) or 0.0
        found.append(f"queue {int(depth)} (oldest {_age(age)})")
        dead = _int(cur.value(_P + "queue_dead_letters", node=node))
        if dead:
            found.append(f"{dead} dead letters")
        if cur.value(_P + "queue_disk_full", node=node) == 1.0:
            found.append("DISK FULL")
    delivered = _rate(prev, cur, _P + "sink_packets_total", node=node, outcome="delivered")
    if delivered is not None:
        found.append(f"delivered {delivered:,.1f}/s")
    for outcome in ("dropped", "kept", "dead_lettered"):
        count = _int(cur.value(_P + "sink_packets_total", node=node, outcome=outcome))
        if count:
            found.append(f"{count} {outcome.replace('_', '-')}")
    retries = cur.value(_P + "http_retries_total", node=node)
    if retries:
        found.append(f"{int(retries)} retries")
    fps = _rate(prev, cur, _P + "camera_frames_total", node=node)
    if fps is not None:
        found.append(f"{fps:.1f} frames/s")
    frame_age = cur.value(_P + "camera_frame_age_seconds", node=node)
    if frame_age is not None:
        found.append(f"frame age {_age(frame_age)}")
    if (
        cur.value(_P + "camera_connected", node=node) == 0.0
        or cur.value(_P + "mqtt_connected", node=node) == 0.0
    ):
        found.append("DISCONNECTED")
    return found


def _age(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


def rate_text(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.1f}"


def shown(text: str) -> str:
    """Text from the endpoint made safe for a terminal: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def plain_lines(screen: TopView) -> list[str]:
    """The screen as plain lines (not a terminal): a head line, then one line per node."""
    state = ("alive" if screen.alive else "NOT ALIVE") + (", ready" if screen.ready else ", not ready")
    lines = [f"uptime={screen.uptime:.0f}s {state}"]
    for row in screen.nodes:
        fields = [f"node={shown(row.node)}", f"plugin={shown(row.plugin)}", f"kind={shown(row.kind)}"]
        if row.kind != "source":
            fields += [f"in/s={rate_text(row.in_rate)}", f"inbox={row.inbox}/{row.capacity}"]
        fields.append(f"out/s={rate_text(row.out_rate)}")
        if row.dropped:
            fields.append(f"dropped={row.dropped}")
        if row.errors:
            fields.append(f"errors={row.errors}")
        notes = screen.notes.get(row.node)
        if notes:
            fields.append("| " + shown(", ".join(notes)))
        lines.append(" ".join(fields))
    return lines
