"""Start a service command directly, let it run, and stop it the way the service manager would.

CI renders a deployment root for the runner's own OS and hands the rendered service command
(systemd ``ExecStart``, the Windows service definition, the launchd ``ProgramArguments``) to this
script, which proves the command runs and stops gracefully without the service manager::

    python ops/ci/service_smoke.py --run-seconds 3 --env SCHNITZEL_STREAM_SCOPE=portable \\
        -- /opt/schnitzel/venv/bin/python -m schnitzel_stream --graph /srv/root/config/graph.yaml

It waits until the log says the graph started (or ``--expect-file`` has content), keeps it
running for ``--run-seconds``, then sends SIGTERM on POSIX or CTRL_BREAK on Windows, and
fails unless the process exits 0 within ``--stop-timeout`` seconds (5 by default: the
promise of DESIGN.md). Exit status: 0 passed, 1 failed, 2 usage error.

The process handling is ``tests/support/proc.py``, the same code the e2e tests use.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

# Imported after the path above: the process handling lives with the tests.
from tests.support.proc import STOP_TIMEOUT, CliProcess


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--run-seconds", type=float, default=3.0, help="run this long before the stop")
    parser.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT, help="seconds allowed to exit")
    parser.add_argument("--ready-timeout", type=float, default=60.0, help="seconds allowed to start")
    parser.add_argument("--ready-text", default="started:", help="log text that means the graph runs")
    parser.add_argument("--expect-file", type=Path, help="a file the run must create with content")
    parser.add_argument("--cwd", type=Path, help="working directory of the command")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment (repeatable)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the service command")
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("give the service command after --")
    if any("=" not in item for item in args.env):
        parser.error("--env takes KEY=VALUE")
    return args


def _has_content(path: Path | None) -> bool:
    return path is None or (path.is_file() and path.stat().st_size > 0)


def smoke(args: argparse.Namespace, log_dir: Path) -> int:
    env = dict(item.split("=", 1) for item in args.env)
    with CliProcess(args.command, log_dir=log_dir, cwd=args.cwd, env=env) as proc:
        print(f"started pid {proc.pid}: {' '.join(args.command)}", flush=True)
        proc.wait_until(
            lambda: args.ready_text in proc.stderr() and _has_content(args.expect_file),
            timeout=args.ready_timeout,
            what=f"{args.ready_text!r} on stderr" + (f" and {args.expect_file}" if args.expect_file else ""),
        )
        # A bounded run; a crash during it shows up as an early exit.
        if not proc.runs_for(args.run_seconds):
            print(f"FAILED: the service exited during its run:\n{proc.stderr()}", file=sys.stderr)
            return 1
        print(f"sending the graceful stop ({proc.plan.stop})", flush=True)
        finished = proc.stop(args.stop_timeout)
    print(finished.describe(), flush=True)
    if finished.returncode != 0:
        print(f"FAILED: exit {finished.returncode} after the graceful stop (expected 0)", file=sys.stderr)
        return 1
    print(f"ok: stopped gracefully in {finished.seconds:.2f}s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="service-smoke-") as log_dir:
        try:
            return smoke(args, Path(log_dir))
        except AssertionError as error:
            print(f"FAILED: {error}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
