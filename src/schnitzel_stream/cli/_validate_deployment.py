"""``schnitzel-stream validate --deployment ROOT``: check a whole deployment root.

It shares ``validate``'s output formats (``--format text|json|github``, ``--output``) and exit
codes (0 valid, 1 problems, 2 usage); the checks live in :mod:`schnitzel_stream.deploy.root`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from schnitzel_stream.errors import UsageError

if TYPE_CHECKING:
    from schnitzel_stream.graph.report import Report

Writer = Callable[["Report", str, "str | None"], None]
Strict = Callable[["Report", argparse.Namespace], "Report"]


def add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("deployment roots")
    group.add_argument(
        "--deployment",
        action="append",
        metavar="ROOT",
        help=(
            "check a deployment root rendered by the copier template instead of graph files: the graph, "
            "the env file, the service file, the path classes, the lock export and secrets; repeat it "
            "to check several roots in one report"
        ),
    )
    group.add_argument(
        "--venv",
        metavar="PATH",
        help="with --deployment: compare this virtual environment with the lock export "
        "(default: <install_dir>/venv when it exists on this machine)",
    )
    group.add_argument(
        "--no-path-checks",
        action="store_true",
        help="with --deployment: do not look at the path classes on this machine",
    )


def wanted(args: argparse.Namespace) -> bool:
    """True for ``--deployment``; raises :class:`UsageError` for neither or both PATHs and ROOT."""
    deployment = getattr(args, "deployment", None)
    paths = getattr(args, "paths", None) or []
    if deployment and paths:
        raise UsageError("give graph PATHs or --deployment ROOT, not both", code="usage")
    if not deployment and not paths:
        raise UsageError("validate needs graph PATHs or --deployment ROOT", code="usage")
    if not deployment and (getattr(args, "venv", None) or getattr(args, "no_path_checks", False)):
        raise UsageError("--venv and --no-path-checks go with --deployment ROOT", code="usage")
    return bool(deployment)


def run(args: argparse.Namespace, write: Writer, strict: Strict) -> int:
    """Validate every root, write one report with ``write`` (validate's writer), return the exit code."""
    from schnitzel_stream.deploy.root import DeploymentOptions, validate_deployment
    from schnitzel_stream.graph.report import Report

    roots = list(dict.fromkeys(args.deployment))  # the same root twice is checked once
    if args.venv and len(roots) > 1:
        raise UsageError(
            "--venv names one virtual environment; give it with one --deployment ROOT", code="usage"
        )
    options = DeploymentOptions(check_paths=not args.no_path_checks, venv=args.venv)
    files = [file for root in roots for file in validate_deployment(root, options).files]
    report = strict(Report(files=tuple(files)), args)
    if args.format == "text":
        from pathlib import Path

        from schnitzel_stream.deploy._bundle_check import versions_line

        for root in roots:
            print(versions_line(Path(root)), flush=True)
    write(report, args.format, args.output)
    return 0 if report.valid else 1
