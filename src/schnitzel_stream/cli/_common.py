"""Options shared by several subcommands: path classes, logging, and report files."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TextIO

from schnitzel_stream.errors import UsageError
from schnitzel_stream.paths import SCOPES, PathSet, resolve_paths


def add_path_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("path classes (${config}, ${state}, ${logs})")
    group.add_argument(
        "--scope",
        choices=SCOPES,
        default=argparse.SUPPRESS,
        help="path defaults: user (default), system, or portable (needs --root)",
    )
    group.add_argument("--root", default=argparse.SUPPRESS, help="deployment root for --scope portable")
    group.add_argument("--config-dir", default=argparse.SUPPRESS, help="override ${config}")
    group.add_argument("--state-dir", default=argparse.SUPPRESS, help="override ${state}")
    group.add_argument("--logs-dir", default=argparse.SUPPRESS, help="override ${logs}")


def add_log_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("logging")
    group.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default=argparse.SUPPRESS,
        help="least severe level to log (default: info)",
    )
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=argparse.SUPPRESS,
        help="text lines (default) or one JSON object per line",
    )
    group.add_argument(
        "--log-file",
        default=argparse.SUPPRESS,
        help="also write logs to this rotating file; 'auto' puts it under ${logs}",
    )
    group.add_argument(
        "--log-max-mb",
        type=float,
        default=argparse.SUPPRESS,
        metavar="MB",
        help="rotate the log file at this size (default 10; 5 old files are kept)",
    )


def opt(args: argparse.Namespace, name: str, default: str | None = None) -> str | None:
    """An option that may be given before or after the subcommand (both use SUPPRESS)."""
    value = getattr(args, name, None)
    return default if value is None else str(value)


def paths_from_args(args: argparse.Namespace) -> PathSet:
    return resolve_paths(
        environ=os.environ,
        scope=opt(args, "scope"),
        root=opt(args, "root"),
        overrides={
            "config": opt(args, "config_dir"),
            "state": opt(args, "state_dir"),
            "logs": opt(args, "logs_dir"),
        },
    )


def write_output(path: str, write: Callable[[TextIO], None]) -> None:
    """Write a report to the file ``--output`` named; one that cannot be written is a usage error."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as stream:  # noqa: PTH123  # a TextIO for the renderer
            write(stream)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror}", code="usage.output") from None
