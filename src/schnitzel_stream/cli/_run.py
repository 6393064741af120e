"""``schnitzel-stream run``: run a graph until it ends or is stopped."""

from __future__ import annotations

import argparse
from typing import Any

from schnitzel_stream.cli import _common


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
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="write the run report (per-node counters) to PATH at exit",
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


def run_command(args: argparse.Namespace) -> int:
    raise NotImplementedError("run is being built")
