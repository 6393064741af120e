"""``schnitzel-stream doctor``: check this machine for running a deployment, one line per check."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from schnitzel_stream import _json
from schnitzel_stream.cli import _common

if TYPE_CHECKING:
    from schnitzel_stream.deploy.doctor import Check

_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check that this machine and this interpreter can run a deployment: the Python version, the "
        "installed packages against the lock export, OpenCV's FFmpeg backend, the path classes and "
        "free disk space, NOTIFY_SOCKET, the deployment root, and with --network the camera, backend "
        "and broker. Each failure comes with a hint. Exit code 0 when nothing failed, 1 otherwise. "
        "Run it with the deployment's own virtual environment."
    )
    parser.add_argument("--deployment", metavar="ROOT", help="the deployment root to check against")
    parser.add_argument(
        "--network",
        action="store_true",
        help="also connect to the camera, backend and broker of the deployment's graph",
    )
    parser.add_argument(
        "--timeout", type=float, default=2.0, metavar="S", help="seconds per network check (default 2)"
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="a table (default) or JSON"
    )
    _common.add_path_options(parser)
    parser.set_defaults(handler=doctor_command)


def doctor_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.deploy.doctor import DoctorOptions, ok, run_doctor

    paths = None if args.deployment else _common.paths_from_args(args)
    options = DoctorOptions(
        deployment=args.deployment, network=args.network, timeout=args.timeout, paths=paths
    )
    checks = run_doctor(options)
    if args.format == "json":
        render_json(checks, sys.stdout)
    else:
        render_table(checks, sys.stdout)
    return 0 if ok(checks) else 1


def render_json(checks: list[Check], stream: TextIO) -> None:
    from schnitzel_stream.deploy.doctor import ok

    payload = {
        "ok": ok(checks),
        "checks": [
            {"name": c.name, "status": c.status, "detail": c.detail, **({"hint": c.hint} if c.hint else {})}
            for c in checks
        ],
    }
    stream.write(_json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def render_table(checks: list[Check], stream: TextIO) -> None:
    """``STATUS  CHECK  DETAIL`` columns; a ``fix:`` line under each warning and failure."""
    width = max((len(check.name) for check in checks), default=5)
    for check in checks:
        stream.write(f"{_MARK[check.status]:<4}  {check.name:<{width}}  {check.detail}\n")
        if check.hint and check.status in ("warn", "fail"):
            stream.write(f"{'':<4}  {'':<{width}}  fix: {check.hint}\n")
    failed = sum(1 for check in checks if check.status == "fail")
    warned = sum(1 for check in checks if check.status == "warn")
    stream.write(f"{len(checks)} checks, {failed} failed, {warned} warnings\n")
