"""``schnitzel-stream run``: run a graph until it ends or is stopped.

This is also the runtime contract ``python -m schnitzel_stream --graph GRAPH``. An invalid
graph is refused with the same problems ``validate`` prints and exit code 78 (EX_CONFIG),
so service files can stop restart loops on bad config.

Once logging is set up, everything this command says goes through it: the invalid-graph
report is one record per problem under ``--log-format json`` or journald, and errors that
end the run are logged records too, so a JSON stream stays JSON to its last line.

The exit code says whether the graph ran as configured, not whether every packet arrived:
a sink whose ``on_failure`` policy drops packets did what it was told, and the run still
exits 0 on a graceful stop. The summary's last line names every sink that did not deliver
everything (and first those that delivered nothing); ``on_failure: error`` makes an
undelivered packet stop the graph with exit 1.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schnitzel_stream.cli import _common
from schnitzel_stream.cli._exit import EXIT_CONFIG, EXIT_PROBLEMS
from schnitzel_stream.errors import Problem, SchnitzelError, UsageError

if TYPE_CHECKING:
    import logging

    from schnitzel_stream.paths import PathSet
    from schnitzel_stream.runtime.inproc import Engine
    from schnitzel_stream.runtime.metrics import MetricsServer


def _logger() -> logging.Logger:
    # logging (and the traceback module it imports) stays off the start-up path of --help and
    # validate (tests/unit/test_startup.py): only a run logs.
    import logging

    return logging.getLogger("schnitzel_stream.cli")


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
        "--metrics-addr",
        type=functools.partial(_common.host_port, allow_zero=True),
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help="serve Prometheus metrics at /metrics and health at /healthz and /readyz "
        "(a bare PORT listens on 127.0.0.1 only; name 0.0.0.0:PORT to listen on every interface)",
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


def _log_file(args: argparse.Namespace, logs_dir: str) -> Path | None:
    """Where ``--log-file`` writes: its PATH, ``${logs}/schnitzel-stream.log`` for 'auto', or None."""
    from schnitzel_stream.runtime.logs import LOG_FILE_NAME

    log_file = _common.opt(args, "log_file")
    if log_file == "auto":
        return Path(logs_dir) / LOG_FILE_NAME
    return Path(log_file) if log_file else None


def _configure_logging(args: argparse.Namespace, logs_dir: str, *, with_file: bool = True) -> bool:
    """Set up logging; True when problems should be log records (JSON, or the journal)."""
    from schnitzel_stream.runtime import logs

    target = _log_file(args, logs_dir) if with_file else None
    max_mb = getattr(args, "log_max_mb", None)
    json_format = _common.opt(args, "log_format") == "json"
    logs.configure(
        level=_common.opt(args, "log_level", "info") or "info",
        fmt="json" if json_format else "text",
        file=target,
        max_bytes=int((max_mb or 10) * 1024 * 1024),
    )
    return json_format or logs.journal_stream(sys.stderr)


def run_command(args: argparse.Namespace) -> int:
    """Validate the graph, run it, and return the exit code."""
    paths = _common.paths_from_args(args)
    unwritable = _output_problems(args, str(paths.logs))
    if unwritable:
        # Say it before anything runs (not at the first log record or at exit), through a
        # logger without the bad file, so JSON and journal lines stay whole.
        _configure_logging(args, str(paths.logs), with_file=False)
        for problem in unwritable:
            _log_problem(problem)
        return EXIT_CONFIG
    as_records = _configure_logging(args, str(paths.logs))
    try:
        return _run(args, paths, as_records)
    except SchnitzelError as error:
        # Logging is set up: say it through the logger, so JSON and journal lines stay whole.
        from schnitzel_stream.cli.__main__ import exit_code_for

        for problem in error.problems:
            _log_problem(problem)
        return exit_code_for(error, "run")


def _run(args: argparse.Namespace, paths: PathSet, as_records: bool) -> int:
    from schnitzel_stream.graph.report import Report
    from schnitzel_stream.graph.report_text import render_text
    from schnitzel_stream.graph.validate import ValidateOptions, validate_path, validate_text

    # A node reads its *_from_env variables when it starts: an unset one is a located error now.
    options = ValidateOptions.from_environment(paths=paths)._replace(require_env=True)
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
        if as_records:
            for problem in file_report.problems:
                _log_problem(problem)
            _logger().error("%s: invalid graph, not started", file_report.path)
        else:
            render_text(Report(files=(file_report,)), sys.stderr)
        return EXIT_CONFIG
    for problem in file_report.problems:  # warnings only: errors made the graph None
        _log_problem(problem)

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
    server = _start_metrics(args, engine, graph.source_file)
    restore = signals.install(engine)
    report_path = _report_path(args, str(paths.logs))
    try:
        result = engine.run()
    except SchnitzelError as error:
        if report_path:
            _write_report(report_path, run_report.failed_to_start(graph, error))
        raise
    finally:
        restore()
        if server is not None:
            server.close()
    written = _write_report(report_path, result.report) if report_path else True
    for level, line in run_report.summary(result.report):
        (_logger().warning if level == "warning" else _logger().info)("%s", line)
    if result.error is not None:
        for problem in result.error.problems:
            _log_problem(problem)
    # A report that was asked for and is missing fails the run, even when the graph did not.
    return result.exit_code if written or result.exit_code else EXIT_PROBLEMS


def _write_report(path: str, report: dict[str, Any]) -> bool:
    """Write the run report; a failure at exit (checked at start, so rare) is logged, not raised."""
    from schnitzel_stream.runtime import report as run_report

    try:
        run_report.write(path, report)
    except SchnitzelError as error:
        for problem in error.problems:
            _log_problem(problem)
        return False
    return True


def _report_path(args: argparse.Namespace, logs_dir: str) -> str | None:
    """Where ``--report-json`` writes: its PATH, or ``${logs}/run-report.json`` for the bare flag."""
    path: str | None = getattr(args, "report_json", None)
    if path == REPORT_JSON_AUTO:
        return str(Path(logs_dir) / "run-report.json")
    return path


def _output_problems(args: argparse.Namespace, logs_dir: str) -> list[Problem]:
    """The files ``run`` writes (``--log-file``, ``--report-json``) that it could not write.

    Checked before the graph starts: a directory, a missing or read-only parent or a full
    file system would otherwise surface as a traceback at the first log record or at exit,
    after the whole run. Each file is really opened (and a probe file created next to it,
    where rotation and the atomic rename put theirs), because root passes permission checks
    that the file system itself still refuses (``/proc``, a read-only mount).
    """
    wanted = {
        "--log-file": _log_file(args, logs_dir),
        "--report-json": _report_path(args, logs_dir),
    }
    problems: list[Problem] = []
    for flag, path in wanted.items():
        if path is None:
            continue
        problem = _unwritable(Path(path))
        if problem:
            problems.append(Problem(code="run.output-path", message=f"{flag} {path}: {problem}"))
    return problems


def _unwritable(path: Path) -> str | None:
    from schnitzel_stream._filecheck import output_file_problem

    problem = output_file_problem(path, static=False, side_files=True)
    if problem:
        return problem
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"its directory {path.parent} cannot be created: {error.strerror or error}"
    probe = path.with_name(f".{path.name}.{os.getpid()}.probe")
    try:
        with probe.open("x", encoding="utf-8"):
            pass
        probe.unlink()
    except OSError as error:
        return f"cannot be written in {path.parent}: {error.strerror or error}"
    return None


def _start_metrics(args: argparse.Namespace, engine: Engine, graph_file: str | None) -> MetricsServer | None:
    address: tuple[str, int] | None = getattr(args, "metrics_addr", None)
    if address is None:
        return None
    from schnitzel_stream.runtime.metrics import MetricsServer

    server = MetricsServer(engine, address, graph=graph_file)
    server.start()
    _logger().info("metrics at %s/metrics, health at /healthz and /readyz", server.url)
    return server


def _log_problem(problem: Problem) -> None:
    """One problem as one log record; JSON lines carry its location as fields."""
    fields = {
        "code": problem.code,
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": problem.path or None,
    }
    extra = {"fields": {k: v for k, v in fields.items() if v is not None}}
    if problem.severity == "warning":
        _logger().warning("%s", problem.one_line(), extra=extra)
    else:
        _logger().error("%s", problem.one_line(), extra=extra)
