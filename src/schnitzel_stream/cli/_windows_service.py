"""``schnitzel-stream windows-service``: host, register and remove the Windows service.

``run`` is what the SCM starts (the command line ``install`` registers); ``--foreground``
runs the same supervision in a console on any OS. ``install`` and ``remove`` need Windows
and an elevated prompt; the install scripts call them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schnitzel_stream.errors import UsageError

_LOG_MAX_BYTES = 1_000_000


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "windows-service",
        help="host, register or remove the Windows service of a deployment",
        description=(
            "The Windows service host. 'run' is what the Service Control Manager starts: it runs the "
            "runtime as a child process, stops it with CTRL_BREAK, lets the SCM restart it after a "
            "crash and keeps it stopped after exit 78 (invalid graph). 'install' registers a root's "
            "<service>.winsvc.json; 'remove' stops and deletes the service."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser("run", help="host the service (what the SCM starts)")
    run.add_argument("--name", required=True, help="the service name")
    run.add_argument("--host-log", type=Path, metavar="FILE", help="append the host's own log lines to FILE")
    run.add_argument("--cwd", type=Path, metavar="DIR", help="working directory of the runtime")
    run.add_argument(
        "--stop-timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="kill the runtime S seconds after a stop",
    )
    run.add_argument(
        "--foreground",
        action="store_true",
        help="supervise in this console instead of under the SCM (any OS; Ctrl+C stops)",
    )
    run.add_argument("runtime", nargs=argparse.REMAINDER, help="-- then the runtime's arguments")
    run.set_defaults(handler=run_command)

    install = actions.add_parser("install", help="register (or update) the service of a root")
    install.add_argument("spec", type=Path, metavar="SPEC", help="the root's <service>.winsvc.json")
    install.set_defaults(handler=install_command)

    remove = actions.add_parser("remove", help="stop the service gracefully and delete it")
    remove.add_argument("spec", type=Path, metavar="SPEC", help="the root's <service>.winsvc.json")
    remove.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for the stop (default 30)"
    )
    remove.set_defaults(handler=remove_command)


def _require_windows(action: str) -> None:
    if sys.platform != "win32":
        raise UsageError(f"windows-service {action} needs Windows (use --foreground to supervise here)")


def _host_log(path: Path | None, echo: bool) -> Callable[[str], None]:
    lock = threading.Lock()

    def log(message: str) -> None:
        line = f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} windows-service: {message}\n"
        with lock:
            if echo:
                sys.stderr.write(line)
                sys.stderr.flush()
            if path is None:
                return
            try:
                if path.is_file() and path.stat().st_size > _LOG_MAX_BYTES:
                    path.replace(path.with_name(path.name + ".1"))
                with path.open("a", encoding="utf-8") as stream:
                    stream.write(line)
            except OSError:
                pass  # the service keeps running without its log

    return log


def run_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.winservice._supervisor import Supervisor

    runtime = args.runtime[1:] if args.runtime[:1] == ["--"] else args.runtime
    if not runtime:
        raise UsageError("give the runtime's arguments after --")
    command = [sys.executable, "-I", "-m", "schnitzel_stream", *runtime]
    if not args.foreground:
        _require_windows("run")
        from schnitzel_stream.winservice import _host

        log = _host_log(args.host_log, echo=False)
        _host.serve(args.name, command, cwd=args.cwd, stop_timeout=args.stop_timeout, log=log)
        return 0
    log = _host_log(args.host_log, echo=True)
    supervisor = Supervisor(command, log=log, cwd=args.cwd, stop_timeout=args.stop_timeout)
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, lambda *_: supervisor.request_stop())
    supervisor.start()
    finished = supervisor.wait()
    if finished.outcome == "stopped":
        return 0
    if finished.outcome == "invalid":
        return 78
    return finished.returncode if finished.returncode > 0 else 1


def install_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.winservice.spec import load_spec

    spec = load_spec(args.spec)
    _require_windows("install")
    from schnitzel_stream.winservice import _manage

    _manage.install(spec, _host_log(None, echo=True))
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.winservice.spec import load_spec

    spec = load_spec(args.spec)
    _require_windows("remove")
    from schnitzel_stream.winservice import _manage

    _manage.remove(spec.name, args.timeout, _host_log(None, echo=True))
    return 0
