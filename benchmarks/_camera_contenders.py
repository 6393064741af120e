"""The two contenders of ``bench_cameras.py``, each run as a process of its own.

- **limit**: ``python _camera_contenders.py limit URL N OUT_DIR`` imports OpenCV and the
  motion detector once, then forks N bare loops: ``cv2.VideoCapture`` with OpenCV's defaults
  (RTP over TCP, like the runtime), ``read()``, the motion detector's detection, repeat. No
  runtime at all: no threads of ours, no packets, no queue. Each loop records, per frame, the
  camera's time of the frame (RTCP start time plus stream time, as ``rtsp_camera`` reports
  it in ``camera_time``) and the wall time its detection ended, and writes them to
  ``OUT_DIR/limit-<i>.json`` when it gets SIGTERM. Prints ``PIDS ...``
  and, once every loop had a frame, ``STREAMING``.
- **runtime**: ``python _camera_contenders.py runtime GRAPH [--no-frame-pool]`` runs the
  graph through the engine; ``sample`` on stdin prints ``SAMPLE {json}`` with the frames each
  motion detector took so far, and ``stop`` asks for a graceful stop, as SIGTERM does.
  ``--no-frame-pool`` makes the camera readers allocate every frame (``bench_frame_path``).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _bare_loop(url: str, index: int, out_dir: Path, started_fd: int) -> None:
    import cv2

    from schnitzel_stream.nodes.motion import MotionDetector

    detect = MotionDetector(node_id=f"limit{index}", config={})._detect
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    records: list[tuple[float, float]] = []
    pos_msec, start_usec = cv2.CAP_PROP_POS_MSEC, cv2.CAP_PROP_STREAM_OPEN_TIME_USEC
    wall = time.time
    start = 0.0
    while not stop.is_set():
        ok, image = capture.read()
        if not ok:
            break
        if start <= 0:  # unknown until the camera's first RTCP sender report (FFmpeg: 0 or negative)
            start = capture.get(start_usec) / 1e6
        camera_time = start + capture.get(pos_msec) / 1000
        detect(image)  # type: ignore[arg-type]  # cv2 types every image as a generic Mat
        if start > 0:
            records.append((camera_time, wall()))
            if len(records) == 1:
                os.write(started_fd, b"x")
    capture.release()
    (out_dir / f"limit-{index}.json").write_text(json.dumps(records), encoding="utf-8")


def limit(url: str, count: int, out_dir: Path) -> None:
    # Import before forking, so N loops do not each pay for it; no OpenCV call that starts
    # its thread pool runs before the fork.
    import cv2  # noqa: F401

    import schnitzel_stream.nodes.motion  # noqa: F401

    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = "rtsp_transport;tcp"
    started_r, started_w = os.pipe()
    pids: list[int] = []
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            os.close(started_r)
            code = 0
            try:
                _bare_loop(url, index, out_dir, started_w)
            except BaseException:  # noqa: BLE001 - a child must never return into the parent's code
                code = 1
            os._exit(code)
        pids.append(pid)
    os.close(started_w)
    print("PIDS", *pids, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    seen = 0
    while seen < count and not stop.is_set():
        ready, _, _ = select.select([started_r], [], [], 0.2)
        if ready:
            seen += len(os.read(started_r, count))
    if seen >= count:
        print("STREAMING", flush=True)
    stop.wait()
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    for pid in pids:
        os.waitpid(pid, 0)


def runtime(graph_path: str, *options: str) -> None:
    from schnitzel_stream.graph.validate import ValidateOptions, load_graph
    from schnitzel_stream.nodes.video import _capture

    if "--no-frame-pool" in options:
        _capture._POOL_SIZE = 0

    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.runtime.sdnotify import Notifier

    graph = load_graph(graph_path, ValidateOptions.from_environment())
    engine = Engine(graph, EngineOptions(status_interval=0), notifier=Notifier(None))

    def commands() -> None:
        for line in sys.stdin:
            if line.strip() == "sample":
                counts: dict[str, Any] = {
                    runner.decl.id: runner.n_in
                    for runner in engine._runners
                    if runner.decl.plugin == "motion_detector"
                }
                print("SAMPLE", json.dumps(counts), flush=True)
            elif line.strip() == "stop":
                engine.stop_requested = "SIGTERM"
                return

    threading.Thread(target=commands, daemon=True).start()
    result = engine.run()
    print("DONE", json.dumps({"reason": result.reason}), flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "limit":
        limit(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    elif mode == "runtime":
        runtime(sys.argv[2], *sys.argv[3:])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
