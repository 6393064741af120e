"""Per-node counters as a status line and as the run report (``--report-json``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schnitzel_stream.errors import SchnitzelError
from schnitzel_stream.graph.model import Graph
from schnitzel_stream.redact import redact

if TYPE_CHECKING:
    from schnitzel_stream.runtime._chains import _Runner

REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class NodeSnapshot:
    """The counters of one node at one moment."""

    node_id: str
    plugin: str
    kind: str
    n_in: int
    n_out: int
    dropped: int
    errors: int
    proc_ns: int
    inbox_depth: int
    extra: dict[str, int]
    target: str | None = None

    @classmethod
    def of(cls, runner: _Runner) -> NodeSnapshot:
        extra: dict[str, int] = {}
        metrics = getattr(runner.node, "metrics", None)
        if metrics is not None:
            try:
                extra = {str(k): int(v) for k, v in metrics().items()}
            except Exception:  # noqa: BLE001 - a broken metrics() must not take the report down with it
                extra = {"metrics_errors": 1}
        inbox = runner.inbox
        return cls(
            node_id=runner.decl.id,
            plugin=runner.decl.plugin,
            kind=runner.decl.kind,
            n_in=runner.n_in,
            n_out=runner.n_out,
            dropped=inbox.dropped if inbox is not None else 0,
            errors=runner.errors,
            proc_ns=runner.proc_ns,
            inbox_depth=len(inbox) if inbox is not None else 0,
            extra=extra,
            target=_target(runner.decl.config),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "plugin": self.plugin,
            "kind": self.kind,
            "in": self.n_in,
            "out": self.n_out,
            "dropped": self.dropped,
            "errors": self.errors,
            "processing_ms": round(self.proc_ns / 1e6, 3),
            "inbox_depth": self.inbox_depth,
            "metrics": dict(self.extra),
        }


def _target(config: Mapping[str, Any]) -> str | None:
    """Where a node reads or writes: its ``path`` or ``url`` setting, credentials masked."""
    for key in ("path", "url"):
        value = config.get(key)
        if isinstance(value, str) and value:
            return redact(value)
    return None


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
    runners: list[NodeSnapshot],
    reason: str,
    started_wall: float,
    duration: float,
    error: SchnitzelError | None,
) -> dict[str, Any]:
    """The run report as a JSON-ready mapping (credentials masked)."""

    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

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
        "nodes": {node.node_id: node.as_dict() for node in runners},
    }


def failed_to_start(graph: Graph, error: SchnitzelError) -> dict[str, Any]:
    """The report of a run whose nodes could not even be built."""
    now = datetime.now(UTC).timestamp()
    return build(graph=graph, runners=[], reason="failed", started_wall=now, duration=0.0, error=error)


def write(path: str, report: dict[str, Any]) -> None:
    """Write the report atomically (temp file, then rename), so a reader never sees half."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temp.write_text(redact(json.dumps(report, indent=2)) + "\n", encoding="utf-8")
    temp.replace(target)
