"""Soak: the durable synthetic graph in real time, watched for slow leaks.

``ops/graphs/synthetic_to_http_durable.yaml`` runs through the CLI against the local test
backend for ``SCHNITZEL_STREAM_SOAK_MINUTES`` (default 10; fractions such as 0.5 make a quick
check). Every ``SCHNITZEL_STREAM_SOAK_SAMPLE_SEC`` (default 10) the test reads the runtime
process's resident memory, open file descriptors and threads from ``/proc/<pid>``.

Warm-up is the first 60 s, or the first half of a run shorter than two minutes: imports,
allocator arenas, SQLite's page cache and the HTTP connection settle there. The baseline is
the last warm-up sample; every later sample is compared with it:

- resident memory may exceed the baseline by at most 10 MiB;
- open descriptors and threads may not exceed it at all. The graph's descriptors are fixed
  (three SQLite connections with their WAL and shared-memory files, one keep-alive HTTP
  connection, the tap file, stdio), and its threads are one per source and node, so any
  growth is a leak, not noise.

At the end the runtime is stopped gracefully, a drain run delivers what was still queued
(what a restart does), and every event the queue committed must be at the backend. The lane,
its tap (the queue node forwards each packet after its commit to a JSONL file, the ground
truth of what was committed) and the drain are the chaos suite's (``tests/chaos/_durable.py``).

The sampling is Linux-only by design (``/proc``; psutil is not a dependency): the soak
session runs on Linux, and on any other OS this test fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chaos._durable import Accounting, DurableLane, process_accepted_keys
from tests.chaos._figures import Figures
from tests.support.http_backend import BackendProcess, backend_process
from tests.support.proc import CliProcess

pytestmark = pytest.mark.soak

MINUTES = float(os.environ.get("SCHNITZEL_STREAM_SOAK_MINUTES", "10"))
SAMPLE_SEC = float(os.environ.get("SCHNITZEL_STREAM_SOAK_SAMPLE_SEC", "10"))
#: Warm-up ends after this long, or after half the run when that is shorter.
WARMUP_SEC = 60.0
MiB = 1024 * 1024
RSS_DRIFT_MAX = 10 * MiB


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at the runtime process (and how far delivery had come)."""

    t: float
    rss: int
    fds: int
    threads: int
    committed: int
    delivered: int


def _read_proc(pid: int) -> tuple[int, int, int]:
    """Resident bytes, open descriptors and threads of ``pid`` from /proc."""
    rss = threads = -1
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        name, _, value = line.partition(":")
        if name == "VmRSS":
            rss = int(value.split()[0]) * 1024  # always reported in kB
        elif name == "Threads":
            threads = int(value)
    fds = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    if rss < 0 or threads < 0:
        raise AssertionError(f"/proc/{pid}/status lacks VmRSS or Threads")
    return rss, fds, threads


def _count_lines(path: Path) -> int:
    if not path.is_file():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _sample_run(cli: CliProcess, seconds: float, lane: DurableLane, backend: BackendProcess) -> list[Sample]:
    samples: list[Sample] = []
    started = time.monotonic()
    next_at = started
    while True:
        now = time.monotonic()
        if now >= next_at:
            if not cli.running():
                raise AssertionError(f"the runtime exited during the soak:\n{cli.stderr()[-4000:]}")
            rss, fds, threads = _read_proc(cli.pid)
            delivered = int(backend.stats()["accepted"])
            samples.append(Sample(now - started, rss, fds, threads, _count_lines(lane.tap_file), delivered))
            next_at += SAMPLE_SEC
        if now - started >= seconds:
            return samples
        time.sleep(max(0.0, min(next_at, started + seconds) - time.monotonic()))


def _print_samples(samples: list[Sample], baseline_index: int) -> None:
    print(f"\n{'t (s)':>7} {'RSS MiB':>8} {'fds':>4} {'threads':>7} {'committed':>9} {'delivered':>9}")
    for index, s in enumerate(samples):
        mark = "  <- baseline (end of warm-up)" if index == baseline_index else ""
        print(
            f"{s.t:7.0f} {s.rss / MiB:8.1f} {s.fds:4d} {s.threads:7d} {s.committed:9d} {s.delivered:9d}{mark}"
        )


def test_soak_durable_http(tmp_path: Path, figures: Figures) -> None:
    if not sys.platform.startswith("linux"):
        pytest.fail("the soak samples /proc/<pid>; run it on Linux (nox -s soak)", pytrace=False)
    seconds = MINUTES * 60
    warmup = min(WARMUP_SEC, seconds / 2)
    report = tmp_path / "report.json"

    with backend_process("--max-seconds", str(seconds + 900)) as backend:
        lane = DurableLane.create(tmp_path / "lane", backend.url)
        with lane.start("--report-json", str(report), label="soak") as cli:
            cli.wait_for_stderr("started", timeout=60)
            samples = _sample_run(cli, seconds, lane, backend)
            finished = cli.stop()
        lane.drain(timeout=300)
        books = Accounting.of(lane.tapped(), process_accepted_keys(backend))

    later = [s for s in samples if s.t > warmup]
    baseline_index = max(i for i, s in enumerate(samples) if s.t <= warmup)
    base = samples[baseline_index]
    _print_samples(samples, baseline_index)
    rss_max = max((s.rss for s in later), default=base.rss)
    fds_max = max((s.fds for s in later), default=base.fds)
    threads_max = max((s.threads for s in later), default=base.threads)

    figures.add("minutes", MINUTES)
    figures.add("samples", len(samples))
    figures.add("warmup_s", warmup)
    figures.add("rss_baseline_mib", round(base.rss / MiB, 1))
    figures.add("rss_max_mib", round(rss_max / MiB, 1))
    figures.add("rss_drift_mib", round((rss_max - base.rss) / MiB, 2))
    figures.add("fds", f"{base.fds}->{fds_max}")
    figures.add("threads", f"{base.threads}->{threads_max}")
    figures.add("committed", len(books.tapped))
    figures.add("delivered_unique", len(books.received))
    figures.add("duplicates", books.duplicates)
    figures.add("lost", len(books.lost))
    figures.add("stop_s", round(finished.seconds, 2))

    assert later, f"no sample after the {warmup:.0f} s warm-up: run longer than {SAMPLE_SEC * 2:.0f} s"
    assert finished.returncode == 0, finished.describe()
    assert json.loads(report.read_text(encoding="utf-8"))["reason"] == "stopped", "the soak run ended early"
    assert books.tapped, "the detector committed no event during the soak"
    assert not books.lost, (
        f"{len(books.lost)} committed events never reached the backend: {sorted(books.lost)[:5]}"
    )
    assert rss_max - base.rss <= RSS_DRIFT_MAX, (
        f"resident memory grew by {(rss_max - base.rss) / MiB:.1f} MiB after warm-up (at most 10 MiB)"
    )
    assert fds_max <= base.fds, f"open descriptors grew from {base.fds} to {fds_max}"
    assert threads_max <= base.threads, f"threads grew from {base.threads} to {threads_max}"
