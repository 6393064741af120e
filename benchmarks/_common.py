"""Shared helpers for the benchmark scripts: timing, peak memory, printing figures."""

from __future__ import annotations

import statistics
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
