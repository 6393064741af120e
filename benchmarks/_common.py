"""Shared helpers for the benchmark scripts: timing, peak memory, printing figures."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def figure(name: str, value: float, unit: str, target: str = "") -> None:
    """Print one figure as an aligned line: name, value, unit, and the issue's target."""
    suffix = f"   (target {target})" if target else ""
    print(f"  {name:<58} {value:>12,.2f} {unit}{suffix}", flush=True)


def heading(title: str) -> None:
    print(f"\n{title}\n" + "-" * len(title), flush=True)


def median_seconds(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (0 where the OS cannot tell)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def console_script() -> list[str]:
    """The venv's ``schnitzel-stream`` (what a user runs), else ``python -m schnitzel_stream``."""
    import shutil

    found = shutil.which("schnitzel-stream", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schnitzel_stream"]


#: Children write bytecode, as an installed package has it: without it every run compiles every
#: module it imports (numpy included), which no user pays. And no colour.
CHILD_ENV = {
    **{key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"},
    "NO_COLOR": "1",
}


def run_command(command: list[str], expect: int = 0) -> None:
    """Run a command as a user would; anything but exit code ``expect`` ends the benchmark."""
    result = subprocess.run(command, capture_output=True, check=False, env=CHILD_ENV)
    if result.returncode != expect:
        output = result.stdout.decode() + result.stderr.decode()
        raise SystemExit(f"{command} exited {result.returncode}:\n{output}")


def process_figure(name: str, command: list[str], runs: int, target: str = "") -> None:
    """Median wall time of ``runs`` fresh processes, and their median CPU time (user + system).

    On a shared machine other work inflates the wall time but hardly the child's own CPU time,
    so both are printed.
    """
    run_command(command)  # warm up: bytecode and the OS's file cache
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = os.times()
        started = time.perf_counter()
        run_command(command)
        walls.append(time.perf_counter() - started)
        after = os.times()
        cpus.append(
            after.children_user - before.children_user + after.children_system - before.children_system
        )
    figure(name, statistics.median(walls), "s", target)
    figure("  cpu time (user + system) of the same", statistics.median(cpus), "s")
