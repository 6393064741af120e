"""``schnitzel-stream run``: run a graph until it ends or is stopped.

This is also the runtime contract ``python -m schnitzel_stream --graph GRAPH``. An invalid
graph is refused with the same problems ``validate`` prints and exit code 78 (EX_CONFIG),
so service files can stop restart loops on bad config.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from schnitzel_stream.cli import _common
from schnitzel_stream.cli._exit import EXIT_CONFIG
from schnitzel_stream.errors import SchnitzelError, UsageError

log = logging.getLogger("schnitzel_stream.cli")
#: What ``--report-json`` without a PATH means (the design's bare flag).
REPORT_JSON_AUTO = "${logs}/run-report.json"


def add_run_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("run options")
    group.add_argument(
        "--max-events",
        type=int,
        default=argparse.SUPPRESS,
        metavar="N",
        help="stop gracefully after the sinks received N packets",
    )
    group.add_argument(
        "--duration",
        type=float,
        default=argparse.SUPPRESS,
        metavar="S",
        help="stop gracefully after S seconds",
    )
    group.add_argument(
        "--report-json",
        nargs="?",
        const=REPORT_JSON_AUTO,
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="write the run report (per-node counters) to PATH at exit; without PATH (the design's "
        "bare flag) to ${logs}/run-report.json",
    )
    group.add_argument(
        "--status-interval",
        type=float,
        default=argparse.SUPPRESS,
        metavar="S",
        help="log a status line with every node's counters every S seconds (default 30; 0 = never)",
    )
    group.add_argument(
        "--stop-timeout",
        type=float,
        default=argparse.SUPPRESS,
        metavar="S",
        help="on stop, let in-flight packets drain for up to S seconds (default 3)",
    )


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run a graph (default: the embedded synthetic-camera demo)",
        description="Run a graph until its sources end, a limit is reached, or SIGTERM/SIGINT arrives.",
    )
    parser.add_argument("graph_path", nargs="?", metavar="GRAPH", help="graph file (default: the demo)")
    add_run_options(parser)
    _common.add_path_options(parser)
    _common.add_log_options(parser)
    parser.set_defaults(handler=run_command)


def _configure_logging(args: argparse.Namespace, logs_dir: str) -> None:
    from schnitzel_stream.runtime import logs

    log_file = _common.opt(args, "log_file")
    target: Path | None = None
    if log_file == "auto":
        target = Path(logs_dir) / logs.LOG_FILE_NAME
    elif log_file:
        target = Path(log_file)
    max_mb = getattr(args, "log_max_mb", None)
    logs.configure(
        level=_common.opt(args, "log_level", "info") or "info",
        fmt="json" if _common.opt(args, "log_format") == "json" else "text",
        file=target,
        max_bytes=int((max_mb or 10) * 1024 * 1024),
    )


def run_command(args: argparse.Namespace) -> int:
    """Validate the graph, run it, and return the exit code."""
    from schnitzel_stream.graph.report import Report
    from schnitzel_stream.graph.report_text import render_text
    from schnitzel_stream.graph.validate import ValidateOptions, validate_path, validate_text

    paths = _common.paths_from_args(args)
    _configure_logging(args, str(paths.logs))
    # A node reads its *_from_env variables when it starts: an unset one is a located error now.
    options = replace(ValidateOptions.from_environment(paths=paths), require_env=True)
    graph_path: str | None = getattr(args, "graph_path", None)
    swallowed = getattr(args, "report_json", None)
    if graph_path is None and isinstance(swallowed, str) and swallowed.endswith((".yaml", ".yml")):
        raise UsageError(
            f"--report-json took {swallowed!r} as its PATH; name the graph first, or write --report-json=PATH",
            code="usage",
        )
    if graph_path:
        graph, file_report = validate_path(graph_path, options)
    else:
        from schnitzel_stream.demo import DEMO_GRAPH_NAME, demo_graph

        text = demo_graph().read_text(encoding="utf-8")
        graph, file_report = validate_text(text, f"<embedded demo {DEMO_GRAPH_NAME}>", options)
    if graph is None:
        render_text(Report(files=(file_report,)), sys.stderr)
        return EXIT_CONFIG
    for problem in file_report.problems:  # warnings only: errors made the graph None
        log.warning("%s", problem.one_line())

    from schnitzel_stream.runtime import report as run_report
    from schnitzel_stream.runtime import signals
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions

    engine = Engine(
        graph,
        EngineOptions(
            max_events=getattr(args, "max_events", None),
            duration=getattr(args, "duration", None),
            status_interval=getattr(args, "status_interval", 30.0),
            drain_timeout=getattr(args, "stop_timeout", 3.0),
        ),
    )
    restore = signals.install(engine)
    report_path = _report_path(args, str(paths.logs))
    try:
        result = engine.run()
    except SchnitzelError as error:
        if report_path:
            run_report.write(report_path, run_report.failed_to_start(graph, error))
        raise
    finally:
        restore()
    if report_path:
        run_report.write(report_path, result.report)
    _summarise(result.report)
    if result.error is not None:
        for problem in result.error.problems:
            log.error("%s", problem.one_line())
    return result.exit_code


def _report_path(args: argparse.Namespace, logs_dir: str) -> str | None:
    """Where ``--report-json`` writes: its PATH, or ``${logs}/run-report.json`` for the bare flag."""
    path: str | None = getattr(args, "report_json", None)
    if path == REPORT_JSON_AUTO:
        return str(Path(logs_dir) / "run-report.json")
    return path


def _summarise(report: dict[str, Any]) -> None:
    """Say where the packets went: one line per sink, with its file or URL when it has one."""
    from schnitzel_stream.redact import mask_url

    for node_id, node in report["nodes"].items():
        if node["kind"] == "source":
            continue
        where = node.get("target")
        if node["kind"] == "sink" or where:
            suffix = f" -> {mask_url(where)}" if where else ""
            log.info("%s (%s) received %d packets%s", node_id, node["plugin"], node["in"], suffix)
