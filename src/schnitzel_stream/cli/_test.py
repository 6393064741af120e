"""``schnitzel-stream test``: run graph tests (``*.test.yaml``) and report them.

The graph-test package is imported inside the handler, so ``--help`` stays cheap. On a
terminal a rich progress bar runs on stderr while the cases run; anywhere else (CI, a pipe,
a file) nothing but the report is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schnitzel_stream.cli import _common, _env_file
from schnitzel_stream.errors import DeploymentError, UsageError

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from schnitzel_stream.graphtest import CaseResult, Format, RunOptions

_FORMATS = ("text", "json", "github", "junit")
#: Where a deployment root keeps its graph tests (the template renders tests/smoke.test.yaml).
TESTS_DIR = "tests"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run graph tests: each case runs the graph once with the real engine, in its own "
        "temporary directories, with some nodes replaced (a synthetic camera for a live one), "
        "sources fed with given packets, and some nodes captured; the packets that reach a "
        "captured node are checked against the case's expectations. Exit code 0 when every "
        "case passes, 1 when a case fails or a test file is invalid, 2 for a usage error."
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="test files, or directories to search for *.test.yaml and *.test.yml (recursively)",
    )
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="text",
        help="text for people (default), json for tools, github for workflow annotations, junit for CI",
    )
    parser.add_argument(
        "--output", metavar="FILE", help="write the report to FILE instead of standard output"
    )
    parser.add_argument(
        "--deployment",
        metavar="ROOT",
        help=(
            "run a deployment root's graph tests (ROOT/tests/*.test.yaml, such as the smoke test the "
            "template renders) with the root's env file; every file they name must be inside ROOT"
        ),
    )
    parser.set_defaults(handler=test_command)


def test_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.colour import use_colour
    from schnitzel_stream.graphtest import RunOptions, render, run_tests

    if args.paths and args.deployment:
        raise UsageError("give test PATHs or --deployment ROOT, not both", code="usage")
    if not args.paths and not args.deployment:
        raise UsageError(
            "test needs PATHs (test files, or directories that hold *.test.yaml files) or --deployment ROOT",
            code="usage",
        )
    paths, options = _deployment(args.deployment) if args.deployment else (args.paths, RunOptions())
    fmt: Format = args.format
    progress = _RichCaseProgress() if sys.stderr.isatty() else None
    try:
        results = run_tests(paths, options, progress)
    finally:
        if progress is not None:
            progress.close()
    if args.output is None:
        render(results, fmt, sys.stdout, colour=use_colour(sys.stdout))
    else:
        _common.write_output(args.output, lambda stream: render(results, fmt, stream))
        sys.stderr.write(results.summary() + "\n")
    return 0 if results.passed else 1


def _deployment(root: str) -> tuple[list[str], RunOptions]:
    """A root's tests directory, and options that give its cases the root's env file."""
    from schnitzel_stream.deploy.layout import ENV_FILE
    from schnitzel_stream.graphtest import RunOptions

    base = Path(root)
    if not base.is_dir():
        raise DeploymentError(f"{root}: no such deployment root (not a directory)", code="deploy.root")
    env_file = base / ENV_FILE
    if not env_file.is_file():
        raise DeploymentError(
            f"{env_file}: the root has no env file; its graph tests run with the service's environment",
            code="deploy.env-missing",
        )
    values = _env_file.read_env_file_masked(str(env_file))
    return [str(base / TESTS_DIR)], RunOptions(env=values, confine=base)


class _RichCaseProgress:
    """A transient progress bar on stderr: which case runs, how many are done."""

    def __init__(self) -> None:
        self._bar: RichProgress | None = None
        self._task: Any = None

    def started(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._bar.add_task("graph tests", total=total)
        self._bar.start()

    def case_started(self, file: str, case: str) -> None:
        if self._bar is not None:
            label = f"{Path(file).name}: {case}"
            self._bar.update(self._task, description=label if len(label) <= 48 else label[:47] + "…")

    def case_finished(self, file: str, result: CaseResult) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
