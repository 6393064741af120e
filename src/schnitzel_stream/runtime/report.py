"""Per-node counters as a status line and as the run report (``--report-json``).

Both read the engine's snapshots (:mod:`schnitzel_stream.runtime.snapshot`), the same
records the Prometheus exposition reads.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any, Literal

from schnitzel_stream import _json
from schnitzel_stream.errors import SchnitzelError
from schnitzel_stream.graph.model import Graph
from schnitzel_stream.packet import iso_from_ns
from schnitzel_stream.redact import redact
from schnitzel_stream.runtime.snapshot import NodeSnapshot

REPORT_VERSION = 1


def status_line(nodes: list[NodeSnapshot], uptime: float) -> str:
    """One log line with the counters of every node."""
    parts = [f"status uptime={uptime:.0f}s"]
    for node in nodes:
        fields: list[str] = []
        if node.kind != "source":
            fields.append(f"in={node.n_in}")
        if node.kind != "sink":
            fields.append(f"out={node.n_out}")
        if node.dropped:
            fields.append(f"dropped={node.dropped}")
        if node.errors:
            fields.append(f"errors={node.errors}")
        if node.inbox_depth:
            fields.append(f"inbox={node.inbox_depth}")
        fields.extend(f"{k}={v}" for k, v in node.extra.items() if v)
        parts.append(f"{node.node_id} {' '.join(fields)}")
    return " | ".join(parts)


def build(
    *,
    graph: Graph,
    nodes: list[NodeSnapshot],
    reason: str,
    started_wall: float,
    duration: float,
    error: SchnitzelError | None,
) -> dict[str, Any]:
    """The run report as a JSON-ready mapping (credentials masked)."""

    def iso(ts: float) -> str:
        return iso_from_ns(int(ts * 1e9))

    return {
        "report_version": REPORT_VERSION,
        "graph": graph.source_file,
        "started_at": iso(started_wall),
        "ended_at": iso(started_wall + duration),
        "duration_sec": round(duration, 3),
        "reason": reason,
        "exit_code": 1 if reason == "failed" else 0,
        "error": None
        if error is None
        else [{"code": p.code, "message": redact(p.message)} for p in error.problems],
        "nodes": {node.node_id: node.as_dict() for node in nodes},
    }


SummaryLevel = Literal["info", "warning"]
_NOT_DELIVERED = ("dropped", "kept", "dead_lettered", "pending")


def summary(report: dict[str, Any]) -> list[tuple[SummaryLevel, str]]:
    """Where the packets went, as log lines: one per sink and per node that delivers somewhere.

    A delivering node's line says how many of the packets it received were delivered,
    dropped, kept for redelivery, dead-lettered or still pending. The last line sums up the
    run: a warning naming every node that did not deliver everything, and first among them
    the nodes that delivered none of their packets.
    """
    lines: list[tuple[SummaryLevel, str]] = []
    nothing: list[str] = []
    short: list[str] = []
    delivering = 0
    for node_id, node in report["nodes"].items():
        if node["kind"] == "source":
            continue
        name = f"{node_id} ({node['plugin']})"
        where = node.get("target")
        suffix = f" -> {where}" if where else ""
        delivery: dict[str, int] | None = node.get("delivery")
        if delivery is None:
            if node["kind"] == "sink" or where:
                lines.append(("info", f"{name} received {node['in']} packets{suffix}"))
            continue
        delivering += 1
        rest = ", ".join(f"{delivery[k]} {k.replace('_', '-')}" for k in _NOT_DELIVERED if delivery[k])
        head = f"{name} received {delivery['received']} packets: {delivery['delivered']} delivered"
        lines.append(("warning" if rest else "info", f"{head}, {rest}{suffix}" if rest else head + suffix))
        if delivery["received"] and not delivery["delivered"]:
            nothing.append(f"{name} delivered none of its {delivery['received']} packets ({rest})")
        elif rest:
            short.append(f"{name} {rest}")
    ended = f"run ended ({report['reason']}) after {report['duration_sec']:.1f}s"
    if nothing or short:
        lines.append(("warning", f"{ended}: {'; '.join([*nothing, *short])}"))
    elif delivering:
        lines.append(("info", f"{ended}: every packet was delivered"))
    else:
        lines.append(("info", ended))
    return lines


def failed_to_start(graph: Graph, error: SchnitzelError) -> dict[str, Any]:
    """The report of a run whose nodes could not even be built."""
    now = time.time()
    return build(graph=graph, nodes=[], reason="failed", started_wall=now, duration=0.0, error=error)


def write(path: str, report: dict[str, Any]) -> None:
    """Write the report atomically (temp file, then rename), so a reader never sees half.

    ``run`` checks the path before the graph starts; what can still fail at exit (the disk
    filled up, the directory was replaced) is a :class:`SchnitzelError` naming the path.
    """
    target = Path(path)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.write_text(redact(_json.dumps(report, indent=2)) + "\n", encoding="utf-8")
        temp.replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise SchnitzelError(
            f"--report-json {path}: the run report could not be written: {error.strerror or error}",
            code="run.report-json",
        ) from None
