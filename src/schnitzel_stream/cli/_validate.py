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

from schnitzel_stream.cli import _common, _env_file, _validate_deployment

if TYPE_CHECKING:
    from schnitzel_stream.graph.report import Format, Report

_FORMATS = ("text", "json", "github")


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="check graph files, or whole deployment roots (--deployment ROOT)",
        description=(
            "Check graph files: YAML safety, the schema of the document and of every node's config, "
            "plugin names, ${...} references, the environment variables *_from_env keys name, and the "
            "topology (cycles, reachability, payload kinds). Every problem is reported, with file, "
            "line and column. Exit code 0 when every file is valid (warnings allowed, unless "
            "--strict), 1 when any has an error, 2 for a usage error."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="graph files, or directories to search for *.yaml and *.yml (recursively; *.test.yaml graph tests are left out)",
    )
    parser.add_argument(
        "--graph",
        action="append",
        default=[],
        metavar="GRAPH",
        help="a graph file, as the design this project comes from writes it (the same as a PATH; repeatable)",
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
    parser.add_argument(
        "--strict",
        action="store_true",
        help="treat every warning as an error (dead ends, unset *_from_env variables, the design's "
        "legacy forms, ...), like Vector's --deny-warnings",
    )
    _env_file.add_env_file_option(parser)
    _validate_deployment.add_options(parser)
    _common.add_path_options(parser)
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    args.paths = [*args.paths, *args.graph]
    if _validate_deployment.wanted(args):
        return _validate_deployment.run(args, _write, strict_if_asked)
    return _validate(args.paths, args, fmt=args.format, output=args.output)


def validate_from_graph_option(args: argparse.Namespace) -> int:
    """``python -m schnitzel_stream --graph GRAPH --validate-only``: validate, print, exit."""
    return _validate([args.graph], args, fmt="text", output=None)


def _validate(paths: Sequence[str], args: argparse.Namespace, *, fmt: str, output: str | None) -> int:

    from schnitzel_stream.graph.validate import ValidateOptions, validate_files

    options = ValidateOptions.from_environment(os.environ, _common.paths_from_args(args))
    # With --env-file the environment is the deployment's: a variable it lacks is an error.
    options = options._replace(require_env=bool(getattr(args, "env_file", None)))
    report = strict_if_asked(validate_files(paths, options), args)
    _write(report, fmt, output)
    return 0 if report.valid else 1


def strict_if_asked(report: Report, args: argparse.Namespace) -> Report:
    """``report`` with warnings made errors when ``--strict`` was given."""
    from schnitzel_stream.graph.report import promote_warnings

    return promote_warnings(report) if getattr(args, "strict", False) else report


def _write(report: Report, fmt: str, output: str | None) -> None:
    from schnitzel_stream.graph.report import render

    chosen: Format = "json" if fmt == "json" else "github" if fmt == "github" else "text"
    if output is None:
        render(report, chosen, sys.stdout)
        return
    _common.write_output(output, lambda stream: render(report, chosen, stream))
    sys.stderr.write(report.summary() + "\n")
