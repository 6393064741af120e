"""The command line: argument parsing, subcommands, and the one place that picks exit codes.

Each subcommand lives in its own ``cli/_<name>.py`` module with ``register(subparsers)``
(which sets ``handler``), listed once in ``_SUBCOMMANDS``; handlers take the parsed arguments
and return an exit code. Every subcommand module is imported to build the parser, so its
module-level imports stay light (argparse, sys, cli helpers, errors): the handler imports
what it needs (runtime, nodes, logging, network, json schema libraries) when it runs.
``tests/unit/test_startup.py`` fails when ``--help`` or ``validate`` imports any of that.

The runtime contract ``python -m schnitzel_stream --graph GRAPH`` is the ``run`` subcommand
reached through top-level options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from schnitzel_stream import __version__
from schnitzel_stream.cli import (
    _bundle,
    _common,
    _doctor,
    _env_file,
    _graph,
    _paths,
    _queue,
    _run,
    _schema,
    _service,
    _test,
    _top,
    _validate,
)
from schnitzel_stream.cli._exit import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from schnitzel_stream.errors import (
    ConfigError,
    DeploymentError,
    GraphError,
    SchnitzelError,
    UsageError,
)

Handler = Callable[[argparse.Namespace], int]

_SUBCOMMANDS = (_validate, _test, _run, _schema, _paths, _queue, _doctor, _graph, _top, _bundle, _service)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schnitzel-stream",
        description=(
            "Run stream-processing graphs at the edge, and check graphs and deployment roots "
            "before they go live."
        ),
        epilog=(
            "The service contract is 'python -m schnitzel_stream --graph GRAPH', the same as "
            "'schnitzel-stream run GRAPH'. Exit codes: 0 ok or graceful stop, 1 problems found, "
            "2 usage error, 78 run refused an invalid graph."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top = parser.add_argument_group("runtime contract (without a subcommand)")
    top.add_argument("--graph", metavar="GRAPH", help="run this graph (same as 'run GRAPH')")
    top.add_argument(
        "--validate-only",
        action="store_true",
        help="with --graph: validate the graph and exit (same as 'validate GRAPH')",
    )
    _run.add_run_options(parser)
    _common.add_path_options(parser)
    _common.add_log_options(parser)
    _env_file.add_env_file_option(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _SUBCOMMANDS:
        module.register(subparsers)
    return parser


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    handler: Handler | None = getattr(args, "handler", None)
    if handler is not None:
        return handler(args)
    if args.graph:
        if args.validate_only:
            return _validate.validate_from_graph_option(args)
        args.graph_path = args.graph
        return _run.run_command(args)
    if args.validate_only:
        raise UsageError("--validate-only needs --graph GRAPH", code="usage")
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def exit_code_for(error: SchnitzelError, command: str | None) -> int:
    """Map an error class to the exit code DESIGN.md fixes."""
    if isinstance(error, UsageError):
        return EXIT_USAGE
    running = command in (None, "run")
    if isinstance(error, (GraphError, ConfigError, DeploymentError)):
        return EXIT_CONFIG if running else EXIT_PROBLEMS
    return EXIT_PROBLEMS


def report_error(error: SchnitzelError, stream: TextIO) -> None:
    for problem in error.problems:
        label = "warning" if problem.severity == "warning" else "error"
        stream.write(f"{label}: {problem.one_line()}\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _common.json_usage_errors(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        _env_file.apply_env_file(args)
        return _dispatch(parser, args)
    except SchnitzelError as error:
        report_error(error, sys.stderr)
        return exit_code_for(error, args.command)
    except KeyboardInterrupt:
        # A second Ctrl-C during shutdown lands here: leave at once, quietly.
        return 130
    except BrokenPipeError:
        # `schnitzel-stream schema | head` closes the pipe early; that is not an error.
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
