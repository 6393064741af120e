"""Cameras per box (issue #15): how many RTSP cameras the runtime takes, against the limit.

Run with ``nox -s bench -- bench_cameras.py`` (``--quick`` for a short sweep). Needs the
GStreamer RTSP server (``ops/ci/rtsp_server.py`` under ``/usr/bin/python3``).

N cameras read one shared test stream (640x360 and 1280x720 H.264 at 15 fps) and feed
``motion_detector`` and then one ``sqlite_queue_sink`` with group commit. Two contenders run
one after the other at every N, in alternating order, ``--rounds`` times (see
``_camera_contenders.py``):

- **runtime**: one process, the engine on the graph (a camera list expanded by the loader);
- **limit**: N bare ``cv2.VideoCapture`` loops with the same motion detector, each in its
  own process, no runtime at all.

Per trial, after every camera streams and a 10 s warm-up (the first seconds after N cameras
open are turbulent: FFmpeg hands out the ~2 s it buffered while probing, and the shared test
stream stutters as clients join), over a window of ``--seconds``:

- **CPU**: CPU time of the contender's processes (all threads, from
  ``/proc/PID/task/*/schedstat``, nanoseconds) per second of window, in % of one core;
- **fps ratio**: frames each camera's motion detector took per second over the stream's
  rate; the table shows the worst camera;
- **frame age**: from the camera's timestamp of the frame (its RTCP sender reports map
  stream time to the camera's clock, here the machine's own; ``camera_time`` in the frame's
  and event's meta) to its event being committed in the queue (runtime; a poller reads the
  queue file every 10 ms, so the age is up to 10 ms late) or to the end of its detection
  (limit). It counts everything: the server's encoder, the network, the decoder, waiting
  for a thread, the queue's group commit. The table shows p50 and p95 over all cameras
  and the worst camera's p95.

A contender **keeps up** at N when, in the median round, every camera has fps ratio >= 0.98
and frame age p95 < 300 ms. Targets: the runtime's largest such N >= 90 % of the limit's,
at both sizes; at N = 8, 640x360, runtime CPU <= 1.15x the limit's (median of the rounds'
ratios).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from tests.support.rtsp import RtspServer

HERE = Path(__file__).resolve().parent
CONTENDERS = HERE / "_camera_contenders.py"
FPS = 15
FPS_RATIO_MIN = 0.98
AGE_P95_MAX_MS = 300.0
WARMUP_SEC = 10.0
OPEN_TIMEOUT_SEC = 90.0
GRIDS = {(640, 360): [1, 2, 4, 8, 12, 16, 24, 32, 48, 64], (1280, 720): [1, 2, 4, 6, 8, 12, 16, 24]}
QUICK_GRIDS = {(640, 360): [1, 8, 16], (1280, 720): [1, 4]}
#: Both contenders read the stream over TCP and keep their BLAS pools single-threaded.
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent / "src")}

GRAPH = """\
version: 2
cameras:
{cameras}
nodes:
  - {{id: cam, kind: source, plugin: rtsp_camera, each_camera: true, config: {{url: "{url}"}}}}
  - {{id: motion, kind: node, plugin: motion_detector, each_camera: true, config: {motion_config}}}
  - id: queue
    kind: sink
    plugin: sqlite_queue_sink
    config: {{path: "{queue}", commit_every: 256, commit_interval_ms: 50}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: queue}}
"""


@dataclass(frozen=True, slots=True)
class Trial:
    cpu_cores: float  # CPU seconds per second of window
    fps_ratios: dict[str, float]  # per camera
    ages_ms: dict[str, list[float]]  # per camera, of the frames done within the window

    @property
    def worst_fps(self) -> float:
        return min(self.fps_ratios.values(), default=0.0)

    @property
    def worst_p95(self) -> float:
        return max((_percentile(a, 0.95) for a in self.ages_ms.values() if a), default=float("inf"))

    def pooled(self, share: float) -> float:
        ages = [age for per_camera in self.ages_ms.values() for age in per_camera]
        return _percentile(ages, share) if ages else float("inf")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _cpu_ns(pids: list[int]) -> int:
    """CPU time of every thread of ``pids`` so far, in nanoseconds."""
    total = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread that ended
                total += int((task / "schedstat").read_text().split()[0])
    return total


def _ages(frames: list[tuple[float, float]], window: tuple[float, float]) -> list[float]:
    """Ages (ms) of the frames done within ``window``, from (camera time, done wall time) pairs."""
    return [1000 * (done - taken) for taken, done in frames if window[0] <= done < window[1]]


def _wait_line(proc: subprocess.Popen[str], prefix: str, timeout: float) -> str | None:
    """The next stdout line starting with ``prefix``; None on timeout or exit."""
    assert proc.stdout is not None
    found: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(prefix):
                found.append(line[len(prefix) :].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else None


def _measure_window(pids: list[int], seconds: float) -> tuple[float, float, float, float]:
    """Sleep through the window; (wall start, wall end, CPU cores used, window seconds)."""
    cpu0, mono0, wall0 = _cpu_ns(pids), time.monotonic(), time.time()
    time.sleep(seconds)
    cpu1, mono1, wall1 = _cpu_ns(pids), time.monotonic(), time.time()
    return wall0, wall1, (cpu1 - cpu0) / 1e9 / (mono1 - mono0), mono1 - mono0


def run_limit(url: str, count: int, seconds: float) -> Trial | None:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [sys.executable, str(CONTENDERS), "limit", url, str(count), tmp],
            stdout=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        try:
            pids_line = _wait_line(proc, "PIDS", 30)
            assert pids_line is not None, "limit: no PIDS line"
            pids = [int(pid) for pid in pids_line.split()]
            if _wait_line(proc, "STREAMING", OPEN_TIMEOUT_SEC) is None:
                return None
            time.sleep(WARMUP_SEC)
            wall0, wall1, cores, _ = _measure_window(pids, seconds)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        fps_ratios, ages = {}, {}
        for index in range(count):
            frames = [
                (float(t), float(d)) for t, d in json.loads((Path(tmp) / f"limit-{index}.json").read_text())
            ]
            ages[f"limit{index}"] = _ages(frames, (wall0, wall1))
            fps_ratios[f"limit{index}"] = len(ages[f"limit{index}"]) / (FPS * (wall1 - wall0))
        return Trial(cores, fps_ratios, ages)


class _QueuePoller:
    """Reads new rows of the queue file every 10 ms and notes when each was first visible."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: list[tuple[float, str]] = []  # (wall time seen, packet JSON)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.path.exists() and not self._stop.wait(0.01):
            pass
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        last = 0
        while not self._stop.wait(0.01):
            try:
                rows = conn.execute(
                    "SELECT seq, packet FROM queue WHERE seq > ? ORDER BY seq", (last,)
                ).fetchall()
            except sqlite3.OperationalError:
                continue  # the schema is being created
            now = time.time()
            if rows:
                last = rows[-1][0]
                self.seen.extend((now, packet) for _, packet in rows)
        conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class RuntimeProcess:
    """The runtime contender: one process running ``graph``; :meth:`sample` reads its counters."""

    def __init__(self, graph: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(CONTENDERS), "runtime", str(graph), *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**ENV, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def sample(self) -> dict[str, int]:
        """Frames each motion detector took so far, by node id."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("sample\n")
        self.proc.stdin.flush()
        line = _wait_line(self.proc, "SAMPLE", 30)
        assert line is not None, "runtime: no SAMPLE line"
        return {key: int(value) for key, value in json.loads(line).items()}

    def wait_streaming(self) -> bool:
        """Wait until every camera delivered a frame, then the warm-up; False if they never did."""
        deadline = time.monotonic() + OPEN_TIMEOUT_SEC
        while not all(self.sample().values()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return False
            time.sleep(0.2)
        time.sleep(WARMUP_SEC)
        return True

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        self.proc.wait(60)


def camera_graph(directory: Path, url: str, count: int, motion_config: str = "{}") -> tuple[Path, Path]:
    """The runtime's graph for ``count`` cameras, and its queue file."""
    queue = directory / "events.db"
    cameras = "\n".join(f"  - {{id: cam{index:02d}}}" for index in range(count))
    graph = directory / "cameras.yaml"
    text = GRAPH.format(cameras=cameras, url=url, queue=queue.as_posix(), motion_config=motion_config)
    graph.write_text(text, encoding="utf-8")
    return graph, queue


def run_runtime(url: str, count: int, seconds: float) -> Trial | None:
    with tempfile.TemporaryDirectory() as tmp:
        graph, queue = camera_graph(Path(tmp), url, count)
        poller = _QueuePoller(queue)
        runtime = RuntimeProcess(graph)
        try:
            if not runtime.wait_streaming():
                return None
            before = runtime.sample()
            wall0, wall1, cores, window = _measure_window([runtime.pid], seconds)
            after = runtime.sample()
        finally:
            runtime.close()
            poller.stop()
        fps_ratios = {node: (after[node] - before[node]) / (FPS * window) for node in after}
        frames: dict[str, dict[float, float]] = {}
        untimed = 0
        for seen_at, packet_json in poller.seen:
            packet = json.loads(packet_json)
            taken = packet["meta"].get("camera_time")
            if taken is None:
                untimed += 1  # the stream's start time was not known yet (no sender report)
                continue
            # Several events of one frame: its age is when the first of them was committed.
            frames.setdefault(packet["source_id"], {}).setdefault(float(taken), seen_at)
        ages = {camera: _ages(list(done.items()), (wall0, wall1)) for camera, done in frames.items()}
        if untimed:
            print(f"       ({untimed} events without camera_time)")
        return Trial(cores, fps_ratios, ages)


def _row(name: str, trials: list[Trial]) -> str:
    med = statistics.median
    return (
        f"{name:>8} {100 * med(t.cpu_cores for t in trials):7.1f} % {med(t.worst_fps for t in trials):6.3f} "
        f"{med(t.pooled(0.5) for t in trials):6.0f} {med(t.pooled(0.95) for t in trials):6.0f} "
        f"{med(t.worst_p95 for t in trials):8.0f}   {'yes' if _keeps_up(trials) else 'no':<4}"
    )


def _keeps_up(trials: list[Trial]) -> bool:
    """The medians of the rounds decide (the figures the table shows)."""
    worst_fps = statistics.median(t.worst_fps for t in trials)
    worst_p95 = statistics.median(t.worst_p95 for t in trials)
    return worst_fps >= FPS_RATIO_MIN and worst_p95 < AGE_P95_MAX_MS


def sweep(
    width: int, height: int, grid: list[int], seconds: float, rounds: int
) -> dict[int, dict[str, list[Trial]]]:
    results: dict[int, dict[str, list[Trial]]] = {}
    failed = {"limit": 0, "runtime": 0}
    print(f"\n## {width}x{height} H.264 at {FPS} fps, window {seconds:g} s, {rounds} round(s) per N")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    header = (
        f"{'N':>4} {'':>8} {'CPU':>9} {'fps min':>6} {'age p50':>6} {'p95':>6} {'worst p95':>8}   keeps up"
    )
    print(header)
    with RtspServer(width=width, height=height, fps=FPS) as server:
        for count in grid:
            if failed["limit"] >= 2 and failed["runtime"] >= 2:
                break  # both failed at the last two N: larger N only fail more
            trials: dict[str, list[Trial]] = {"limit": [], "runtime": []}
            for round_ in range(rounds):
                order = ["limit", "runtime"] if round_ % 2 == 0 else ["runtime", "limit"]
                for name in order:
                    run = run_limit if name == "limit" else run_runtime
                    trial = run(server.url, count, seconds)
                    if trial is not None:
                        trials[name].append(trial)
            results[count] = trials
            for name in ("limit", "runtime"):
                got = trials[name]
                kept = bool(got) and len(got) == rounds and _keeps_up(got)
                failed[name] = 0 if kept else failed[name] + 1
                print(f"{count:>4} {_row(name, got) if got else f'{name:>8} (cameras did not all open)'}")
            ratios = [
                r.cpu_cores / l.cpu_cores for l, r in zip(trials["limit"], trials["runtime"], strict=False)
            ]
            if ratios:
                print(f"{'':>4} {'CPU ratio runtime/limit':>30} {statistics.median(ratios):.3f}", flush=True)
    return results


def summary(size: tuple[int, int], results: dict[int, dict[str, list[Trial]]]) -> None:
    def largest(name: str) -> int:
        kept = [n for n, trials in results.items() if trials[name] and _keeps_up(trials[name])]
        return max(kept, default=0)

    limit_n, runtime_n = largest("limit"), largest("runtime")
    share = runtime_n / limit_n if limit_n else 0.0
    print(
        f"{size[0]}x{size[1]}: largest N that keeps up: runtime {runtime_n}, limit {limit_n} "
        f"-> {100 * share:.0f} % of the limit (target >= 90 %)"
    )
    if size == (640, 360) and 8 in results:
        trials = results[8]
        ratios = [r.cpu_cores / l.cpu_cores for l, r in zip(trials["limit"], trials["runtime"], strict=False)]
        if ratios:
            print(f"640x360, N = 8: total CPU runtime/limit {statistics.median(ratios):.3f} (target <= 1.15)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per trial")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both contenders per N")
    parser.add_argument("--quick", action="store_true", help="a short sweep (CI smoke)")
    parser.add_argument("--sizes", default="640x360,1280x720", help="frame sizes, comma-separated")
    parser.add_argument("--n", help="camera counts to measure, comma-separated (default: a grid per size)")
    args = parser.parse_args()
    grids = QUICK_GRIDS if args.quick else GRIDS
    sizes = [(int(w), int(h)) for w, h in (size.split("x") for size in args.sizes.split(","))]
    all_results: dict[tuple[int, int], dict[int, dict[str, list[Trial]]]] = {}
    for width, height in sizes:
        grid = [int(n) for n in args.n.split(",")] if args.n else grids[(width, height)]
        all_results[(width, height)] = sweep(width, height, grid, args.seconds, args.rounds)
    print("\n## Summary")
    for size, results in all_results.items():
        summary(size, results)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
