"""``schnitzel-stream validate``: check graph files against the schema and the semantic rules.

The graph layer is imported inside the handlers, so ``--help`` never pays for YAML or
jsonschema.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from schnitzel_stream.cli import _common, _validate_deployment

if TYPE_CHECKING:
    from schnitzel_stream.graph.report import Format, Report

_FORMATS = ("text", "json", "github")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check graph files, or a whole deployment root (--deployment ROOT)",
        description=(
            "Check graph files: YAML safety, the schema of the document and of every node's config, "
            "plugin names, ${...} references, and the topology (cycles, reachability, payload kinds). "
            "Every problem is reported, with file, line and column. Exit code 0 when every file is "
            "valid (warnings allowed), 1 when any has an error, 2 for a usage error."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="graph files, or directories to search for *.yaml and *.yml (recursively; *.test.yaml graph tests are left out)",
    )
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="text",
        help="text for people (default), json for tools, github for workflow annotations",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the report to FILE instead of standard output"
    )
    _validate_deployment.add_options(parser)
    _common.add_path_options(parser)
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    if _validate_deployment.wanted(args):
        return _validate_deployment.run(args, _write)
    return _validate(args.paths, args, fmt=args.format, output=args.output)


def validate_from_graph_option(args: argparse.Namespace) -> int:
    """``python -m schnitzel_stream --graph GRAPH --validate-only``: validate, print, exit."""
    return _validate([args.graph], args, fmt="text", output=None)


def _validate(paths: Sequence[str], args: argparse.Namespace, *, fmt: str, output: str | None) -> int:
    from schnitzel_stream.graph.validate import ValidateOptions, validate_files

    options = ValidateOptions.from_environment(os.environ, _common.paths_from_args(args))
    report = validate_files(paths, options)
    _write(report, fmt, output)
    return 0 if report.valid else 1


def _write(report: Report, fmt: str, output: str | None) -> None:
    from schnitzel_stream.graph.report import render

    chosen: Format = "json" if fmt == "json" else "github" if fmt == "github" else "text"
    if output is None:
        render(report, chosen, sys.stdout)
        return
    _common.write_output(output, lambda stream: render(report, chosen, stream))
    sys.stderr.write(report.summary() + "\n")
