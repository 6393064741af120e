"""What each change of the frame path buys (issue #15), measured side by side.

Run with ``nox -s bench -- bench_frame_path.py``. Needs the GStreamer RTSP server.

The graph is ``bench_cameras.py``'s: N cameras (a camera list) reading one shared test stream,
a motion detector each, one queue with group commit. Two contenders run AT THE SAME TIME on
the same stream, each in its own process, and differ in one thing only:

1. **operator chaining**: the motion detector on its camera's thread (the default) against a
   hand-off to a thread of its own in front of it, which is how every node ran before
   (``__runtime__: {inbox_max: 8}`` on the detector asks the engine for that inbox);
2. **frame buffer reuse**: the camera reader decoding into buffers it reuses (the default)
   against a new array for every frame;
3. **OpenCV threads**: OpenCV's own worker pool (one thread per CPU, its default) against
   ``OPENCV_FOR_THREADS_NUM=1``, which an operator may set in the service's environment: with
   more cameras than cores, splitting each small image operation over the pool costs more
   than it saves.

Per round, each contender's CPU time (every thread, from ``/proc/PID/task/*/schedstat``) per
frame the detectors took, over the same window; the figure is the median of the rounds'
ratios. The machine is shared, so only ratios measured at the same time mean much.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support

from bench_cameras import FPS, RuntimeProcess, _cpu_ns, camera_graph

from tests.support.rtsp import RtspServer

HAND_OFF = "{__runtime__: {inbox_max: 8}}"
#: A contender: its name, the motion detector's config, contender options, environment.
Contender = tuple[str, str, tuple[str, ...], dict[str, str]]
COMPARISONS: dict[str, tuple[Contender, Contender]] = {
    "operator chaining": (("fused (default)", "{}", (), {}), ("hand-off before motion", HAND_OFF, (), {})),
    "frame buffer reuse": (
        ("reused (default)", "{}", (), {}),
        ("new array per frame", "{}", ("--no-frame-pool",), {}),
    ),
    "OpenCV threads": (
        ("OpenCV's pool (default)", "{}", (), {}),
        ("OPENCV_FOR_THREADS_NUM=1", "{}", (), {"OPENCV_FOR_THREADS_NUM": "1"}),
    ),
}


def _round(url: str, cameras: int, seconds: float, contenders: tuple[Contender, Contender]) -> list[float]:
    """CPU ms per frame of each contender, measured over the same window."""
    with tempfile.TemporaryDirectory() as tmp:
        running: list[RuntimeProcess] = []
        try:
            for index, (_, motion_config, extra, env) in enumerate(contenders):
                directory = Path(tmp) / str(index)
                directory.mkdir()
                graph, _ = camera_graph(directory, url, cameras, motion_config)
                running.append(RuntimeProcess(graph, *extra, env=env))
            if not all(runtime.wait_streaming() for runtime in running):
                raise SystemExit("cameras did not all open")
            before = [(_cpu_ns([r.pid]), sum(r.sample().values())) for r in running]
            time.sleep(seconds)
            after = [(_cpu_ns([r.pid]), sum(r.sample().values())) for r in running]
        finally:
            for runtime in running:
                runtime.close()
    return [(c1 - c0) / 1e6 / max(1, f1 - f0) for (c0, f0), (c1, f1) in zip(before, after, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cameras", type=int, default=4, help="cameras per contender")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per comparison")
    parser.add_argument("--only", choices=list(COMPARISONS), help="run this comparison alone")
    parser.add_argument("--sizes", default="640x360,1280x720", help="frame sizes, comma-separated")
    args = parser.parse_args()
    sizes = [(int(w), int(h)) for w, h in (size.split("x") for size in args.sizes.split(","))]
    for width, height in sizes:
        with RtspServer(width=width, height=height, fps=FPS) as server:
            for title, contenders in COMPARISONS.items():
                if args.only and title != args.only:
                    continue
                rounds = [
                    _round(server.url, args.cameras, args.seconds, contenders) for _ in range(args.rounds)
                ]
                (new_name, *_), (old_name, *_) = contenders
                new = statistics.median(r[0] for r in rounds)
                old = statistics.median(r[1] for r in rounds)
                ratio = statistics.median(r[0] / r[1] for r in rounds)
                print(
                    f"{width}x{height}, {args.cameras} cameras, {title}: {new_name} {new:.3f} ms/frame, "
                    f"{old_name} {old:.3f} ms/frame, ratio {ratio:.3f} ({args.rounds} rounds of "
                    f"{args.seconds:g} s side by side)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
