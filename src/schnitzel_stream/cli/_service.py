"""``schnitzel-stream service``: the service host, and the Windows service's registration.

``run`` supervises the runtime as a child process: under launchd (the plist starts it with
``--exit-0-when-invalid``), under the Windows SCM (``--scm``, the command line ``install``
registers), or in a console. ``install`` and ``remove`` register and delete the Windows
service of a root; they need Windows and an elevated prompt.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from schnitzel_stream.errors import UsageError

_LOG_MAX_BYTES = 1_000_000
EXIT_CONFIG = 78


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "'run' supervises the runtime as a child process for service managers that cannot tell "
        "its exits apart: it forwards a stop as the runtime's graceful stop, lets the manager "
        "restart a crash, and keeps an invalid graph (exit 78) from restarting. 'install' and "
        "'remove' register and delete a root's Windows service (<service>.winsvc.json)."
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    run = actions.add_parser("run", help="supervise the runtime (what launchd or the SCM starts)")
    run.add_argument("--name", required=True, help="the service name (or launchd label)")
    run.add_argument("--host-log", type=Path, metavar="FILE", help="append the host's own log lines to FILE")
    run.add_argument(
        "--pid-file", type=Path, metavar="FILE", help="keep the runtime's pid here; stop a leftover one first"
    )
    run.add_argument("--cwd", type=Path, metavar="DIR", help="working directory of the runtime")
    run.add_argument(
        "--stop-timeout",
        type=float,
        default=15.0,
        metavar="S",
        help="kill the runtime S seconds after a stop",
    )
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--scm", action="store_true", help="run as a Windows service under the SCM")
    mode.add_argument(
        "--exit-0-when-invalid",
        action="store_true",
        help="exit 0 when the graph is invalid (exit 78), for managers that restart every non-zero exit",
    )
    run.add_argument("runtime", nargs=argparse.REMAINDER, help="-- then the runtime's arguments")
    run.set_defaults(handler=run_command)

    install = actions.add_parser("install", help="register (or update) the Windows service of a root")
    install.add_argument("spec", type=Path, metavar="SPEC", help="the root's <service>.winsvc.json")
    install.set_defaults(handler=install_command)

    remove = actions.add_parser("remove", help="stop the Windows service gracefully and delete it")
    remove.add_argument("spec", type=Path, metavar="SPEC", help="the root's <service>.winsvc.json")
    remove.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds to wait for the stop (default 30)"
    )
    remove.set_defaults(handler=remove_command)


def _require_windows(what: str) -> None:
    if sys.platform != "win32":
        raise UsageError(f"service {what} needs Windows")


def _host_log(path: Path | None, echo: bool) -> Callable[[str], None]:
    lock = threading.Lock()

    def log(message: str) -> None:
        line = f"{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')} service: {message}\n"
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
    from schnitzel_stream.service._supervisor import Supervisor

    runtime = args.runtime[1:] if args.runtime[:1] == ["--"] else args.runtime
    if not runtime:
        raise UsageError("give the runtime's arguments after --")
    if args.scm:
        _require_windows("run --scm")
    # The same interpreter, isolated: the venv's python, never a writable directory on sys.path.
    command = [sys.executable, "-I", "-m", "schnitzel_stream", *runtime]
    log = _host_log(args.host_log, echo=not args.scm)
    supervisor = Supervisor(
        command, log=log, cwd=args.cwd, stop_timeout=args.stop_timeout, pid_file=args.pid_file
    )
    if args.scm:
        from schnitzel_stream.service import _scm_host

        _scm_host.serve(args.name, supervisor, log)
        return 0
    for name in ("SIGINT", "SIGTERM", "SIGBREAK", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, lambda *_: supervisor.request_stop())
    supervisor.start()
    finished = supervisor.wait()
    if finished.outcome == "invalid":
        log(f"{args.name}: the graph is invalid (exit 78); fix it and start the service again")
        return 0 if args.exit_0_when_invalid else EXIT_CONFIG
    if finished.outcome == "crashed":
        for line in finished.tail[-15:]:
            log(f"runtime stderr: {line}")
        return finished.returncode if finished.returncode > 0 else 1
    return 0


def install_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.service.windows_spec import load_spec

    spec = load_spec(args.spec)
    _require_windows("install")
    from schnitzel_stream.service import _scm_manage

    _scm_manage.install(spec, _host_log(None, echo=True))
    return 0


def remove_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.service.windows_spec import load_spec

    spec = load_spec(args.spec)
    _require_windows("remove")
    from schnitzel_stream.service import _scm_manage

    _scm_manage.remove(spec.name, args.timeout, _host_log(None, echo=True))
    return 0
