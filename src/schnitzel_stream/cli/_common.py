"""Options shared by several subcommands: path classes, logging, and report files."""

from __future__ import annotations

import argparse
import functools
import itertools
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from schnitzel_stream.cli._parser import every_parser
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


LOOPBACK = "127.0.0.1"


def host_port(text: str, *, allow_zero: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` or ``PORT``; no host means loopback.

    Unlike many servers, an empty host never means every interface: listening beyond this
    machine takes naming the address (``0.0.0.0:9108``, ``[::]:9108``, or one interface's).
    """
    value = text.strip()
    if not value or not value.isprintable() or any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError(f"expected HOST:PORT or PORT, not {text!r}")
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = "", value
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if not host:
            raise argparse.ArgumentTypeError(f"empty IPv6 address in {text!r}")
    elif ":" in host:
        raise argparse.ArgumentTypeError(f"write an IPv6 address in brackets: [{host}]:{port_text}")
    if not port_text.isdigit() or not port_text.isascii():
        raise argparse.ArgumentTypeError(f"the port in {text!r} is not a number")
    port = int(port_text)
    if port > 65535 or (port == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(
            f"the port must be 1-65535{' (or 0: any free port)' if allow_zero else ''}, not {port}"
        )
    return (host or LOOPBACK, port)


def json_usage_errors(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """With ``--log-format json`` on the command line, argparse's own usage errors (exit 2)
    are one JSON line too, like every other line on stderr."""
    args = list(argv)
    wanted = "--log-format=json" in args or any(
        arg == "--log-format" and nxt == "json" for arg, nxt in itertools.pairwise(args)
    )
    if not wanted:
        return

    def error(prog: str, message: str) -> NoReturn:
        import logging

        from schnitzel_stream.runtime.logs import JsonFormatter

        record = logging.makeLogRecord(
            {
                "name": "schnitzel_stream.cli",
                "levelno": logging.ERROR,
                "levelname": "ERROR",
                "msg": f"{prog}: {message}",
                "fields": {"code": "usage"},
            }
        )
        sys.stderr.write(JsonFormatter().format(record) + "\n")
        sys.exit(2)

    def json_errors(current: argparse.ArgumentParser) -> None:
        current.error = functools.partial(error, current.prog)  # type: ignore[method-assign]

    every_parser(parser, json_errors)


def write_output(path: str, write: Callable[[TextIO], None]) -> None:
    """Write a report to the file ``--output`` named; one that cannot be written is a usage error."""
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as stream:  # noqa: PTH123  # a TextIO for the renderer
            write(stream)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {path}: {exc.strerror}", code="usage.output") from None
