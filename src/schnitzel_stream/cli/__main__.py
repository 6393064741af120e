"""The command line: argument parsing, subcommands, and the one place that picks exit codes.

Each subcommand lives in its own ``cli/_<name>.py`` module with ``configure(parser)``
(description, arguments, and the ``handler`` default), and is listed once, with its help line,
in ``_SUBCOMMANDS``; handlers take the parsed arguments and return an exit code. Only the
chosen command's module is imported and its arguments built (``cli/_parser.py``), and
its module-level imports stay light (argparse, sys, cli helpers, errors): the handler imports
what it needs (runtime, nodes, logging, network, json schema libraries) when it runs.
``tests/unit/test_startup.py`` fails when ``--help`` or ``validate`` imports any of that.

The runtime contract ``python -m schnitzel_stream --graph GRAPH`` is the ``run`` subcommand
reached through top-level options.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TextIO, cast

from schnitzel_stream import __version__
from schnitzel_stream.cli import _common, _env_file, _run
from schnitzel_stream.cli._exit import EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE
from schnitzel_stream.cli._parser import LazySubcommands, Parser
from schnitzel_stream.errors import (
    ConfigError,
    DeploymentError,
    GraphError,
    SchnitzelError,
    UsageError,
)

Handler = Callable[[argparse.Namespace], int]

#: Every subcommand, in the order ``--help`` lists them, with its help line there.
_SUBCOMMANDS = {
    "validate": "check graph files, or whole deployment roots (--deployment ROOT)",
    "test": "run graph tests (*.test.yaml): swap nodes, capture packets, check expectations",
    "run": "run a graph (default: the embedded synthetic-camera demo)",
    "schema": "print the graph JSON Schema (or the event, graph-test or report schemas)",
    "paths": "print the resolved config, state and logs directories",
    "queue": "inspect or purge a durable queue file",
    "doctor": "check this machine: Python, packages, OpenCV, paths, disk, NOTIFY_SOCKET, network",
    "graph": "print a graph's topology as a Mermaid or DOT diagram",
    "top": "live view of a running graph: rates, inboxes, queues, retries, cameras",
    "bundle": "make a deployment root self-contained: its wheel and every locked wheel in ROOT/wheels",
    "service": "the service host (launchd, Windows SCM) and the Windows service's registration",
}


def _configure(name: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(f"schnitzel_stream.cli._{name}").configure(parser)


def build_parser(*, every_command: bool = False) -> argparse.ArgumentParser:
    """The command line's parser. A subcommand's arguments are built when argparse reaches it;
    ``every_command`` builds them all now, for whoever walks the whole parser (the docs tests)."""
    parser = Parser(
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
    subparsers = cast(
        LazySubcommands, parser.add_subparsers(action=LazySubcommands, dest="command", metavar="COMMAND")
    )
    for name, help_line in _SUBCOMMANDS.items():
        subparsers.add_lazy(name, help=help_line, build=functools.partial(_configure, name))
    if every_command:
        subparsers.build_all()
    return parser


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    handler: Handler | None = getattr(args, "handler", None)
    if handler is not None:
        return handler(args)
    if args.graph:
        if args.validate_only:
            from schnitzel_stream.cli._validate import validate_from_graph_option

            return validate_from_graph_option(args)
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
