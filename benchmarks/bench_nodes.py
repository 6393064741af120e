"""Throughput of the local nodes at 640x360, without the engine.

Prints packets/s of ``static_source -> identity`` and frames/s for:
- ``synthetic_camera`` alone (``realtime: false``);
- ``motion_detector`` on frames generated up front, at ``downscale`` 2 (default) and 1;
- ``synthetic_camera -> motion_detector -> jsonl_sink`` chained by a plain loop (target >= 300).

Run: ``uv run python benchmarks/bench_nodes.py [--frames N]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from schnitzel_stream.nodes.dev import Identity, StaticSource
from schnitzel_stream.nodes.files import JsonlSink
from schnitzel_stream.nodes.motion import MotionDetector
from schnitzel_stream.nodes.synthetic import SyntheticCamera
from schnitzel_stream.packet import Packet

_CAMERA = {"width": 640, "height": 360, "realtime": False, "loop": 130}


def _camera(frames: int) -> SyntheticCamera:
    return SyntheticCamera(node_id="cam", config={**_CAMERA, "frames": frames})


def bench_static_source(packets: int) -> float:
    """The source the engine's throughput benchmark runs on: its own share of the budget."""
    source = StaticSource(node_id="src", config={"packets": [{"payload": {"n": 1}}], "repeat": packets})
    identity = Identity(node_id="id", config={})
    started = time.perf_counter()
    for packet in source.run():
        identity.process(packet)
    return packets / (time.perf_counter() - started)


def bench_camera(frames: int) -> float:
    camera = _camera(frames)
    started = time.perf_counter()
    count = sum(1 for _ in camera.run())
    return count / (time.perf_counter() - started)


def bench_motion(frames: int, downscale: int = 2) -> tuple[float, int]:
    # Frames are made up front so only the detector is timed; a 260-frame clip (two loops of
    # the camera's schedule) is replayed to keep memory small (a 640x360 frame is 0.7 MB).
    clip: list[Packet] = list(_camera(min(frames, 260)).run())
    packets = [clip[n % len(clip)] for n in range(frames)]
    motion = MotionDetector(node_id="motion", config={"downscale": downscale})
    started = time.perf_counter()
    events = sum(len(list(motion.process(p))) for p in packets)
    return len(packets) / (time.perf_counter() - started), events


def bench_chain(frames: int, directory: Path) -> tuple[float, int]:
    camera = _camera(frames)
    motion = MotionDetector(node_id="motion", config={})
    sink = JsonlSink(node_id="out", config={"path": str(directory / "events.jsonl")})
    started = time.perf_counter()
    for frame in camera.run():
        for event in motion.process(frame):
            sink.process(event)
    sink.close()
    elapsed = time.perf_counter() - started
    return frames / elapsed, sink.metrics()["lines"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=1500, help="frames per measurement (default 1500)")
    frames = parser.parse_args().frames
    # One untimed pass warms up cv2's and numpy's first-call costs.
    bench_motion(20)

    static_pps = bench_static_source(200_000)
    camera_fps = bench_camera(frames)
    motion_fps, events = bench_motion(frames)
    full_fps, full_events = bench_motion(frames, downscale=1)
    with tempfile.TemporaryDirectory() as tmp:
        chain_fps, lines = bench_chain(frames, Path(tmp))
    rows = [
        ("static_source -> identity (no engine)", f"{static_pps:10.0f} packets/s", ""),
        ("synthetic_camera 640x360, realtime false", f"{camera_fps:10.0f} frames/s", ""),
        ("motion_detector, downscale 2", f"{motion_fps:10.0f} frames/s", f"{events} events"),
        ("motion_detector, downscale 1", f"{full_fps:10.0f} frames/s", f"{full_events} events"),
        (
            "camera -> motion -> jsonl_sink (no engine)",
            f"{chain_fps:10.0f} frames/s",
            f"{lines} lines; target >= 300",
        ),
    ]
    for name, figure, note in rows:
        print(f"{name:<44}{figure}  {note}".rstrip())


if __name__ == "__main__":
    main()
