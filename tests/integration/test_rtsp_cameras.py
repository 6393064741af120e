"""Several RTSP cameras in one graph, against real GStreamer RTSP servers on loopback ports.

A camera list expands to one ``rtsp_camera`` and one ``motion_detector`` per camera, all
feeding one durable queue with group commit; each camera keeps its own reader, reconnects
and counters, and one camera's trouble (an outage, an open that hangs) never holds up the
others.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
import weakref
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text
from schnitzel_stream.nodes.video import OpenCvRtspSource
from schnitzel_stream.packet import Packet
from schnitzel_stream.runtime.inproc import Engine, EngineOptions, RunResult
from schnitzel_stream.runtime.sdnotify import Notifier
from tests.support.rtsp import RtspServer, SourceRunner, rtsp_server, start_rtsp_server

__all__ = ["rtsp_server"]  # the fixture, imported for pytest

# Generous enough for OpenCV's ~2 s open on a loaded 2-core machine.
OPEN_WAIT_SEC = 10.0


def _graph(tmp_path: Path, cameras: list[str], camera_config: str, **extra: str) -> str:
    entries = "\n".join(f"  - {{id: {camera}{extra.get(camera, '')}}}" for camera in cameras)
    return f"""\
version: 2
cameras:
{entries}
nodes:
  - {{id: cam, kind: source, plugin: rtsp_camera, each_camera: true, config: {camera_config}}}
  - {{id: motion, kind: node, plugin: motion_detector, each_camera: true}}
  - id: queue
    kind: sink
    plugin: sqlite_queue_sink
    config: {{path: "{(tmp_path / "events.db").as_posix()}", commit_every: 64, commit_interval_ms: 50}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: queue}}
"""


def _engine(text: str, **options: Any) -> Engine:
    # Cameras reconnect forever: if the test server dies, the run must end (and fail) instead
    # of hanging the suite.
    options.setdefault("duration", 120.0)
    graph = load_graph_text(text, "cameras.yaml", ValidateOptions.from_environment())
    return Engine(graph, EngineOptions(status_interval=0, **options), notifier=Notifier(None))


def _events(tmp_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(tmp_path / "events.db") as conn:
        return [json.loads(row[0]) for row in conn.execute("SELECT packet FROM queue ORDER BY seq")]


#: Four seconds of video: the camera's first RTCP sender report arrives within them.
FRAMES = 60


def test_a_camera_list_runs_every_camera_with_its_own_counters_into_one_queue(
    rtsp_server: RtspServer, tmp_path: Path
) -> None:
    cameras = ["gate", "yard", "door"]
    engine = _engine(_graph(tmp_path, cameras, f'{{url: "{rtsp_server.url}", max_frames: {FRAMES}}}'))
    result = engine.run()

    assert result.reason == "completed", result.error
    report = result.report["nodes"]
    for camera in cameras:
        assert report[f"{camera}.cam"]["out"] == FRAMES
        assert report[f"{camera}.cam"]["metrics"]["frames"] == FRAMES
        assert report[f"{camera}.motion"]["in"] == FRAMES
    # Each camera's detector runs on its camera's thread; the queue, fed by all, has its own.
    assert sorted(chain.name for chain in engine._chains) == [
        "door.cam -> door.motion",
        "gate.cam -> gate.motion",
        "queue",
        "yard.cam -> yard.motion",
    ]
    events = _events(tmp_path)
    assert report["queue"]["in"] == len(events) == sum(report[f"{c}.motion"]["out"] for c in cameras)
    assert {event["source_id"] for event in events} == set(cameras)  # the camera id, stable
    keys = [event["meta"]["idempotency_key"] for event in events]
    assert len(set(keys)) == len(keys)
    assert all(key.split(":")[0] in cameras for key in keys)
    # The camera's own clock, from its RTCP sender reports, travels with each event from the
    # camera's first sender report on (frames decoded before it cannot know their time).
    for camera in cameras:
        timed = ["camera_time" in event["meta"] for event in events if event["source_id"] == camera]
        assert timed == sorted(timed), f"{camera}: an event lost camera_time once it was known"
    times = [event["meta"]["camera_time"] for event in events if "camera_time" in event["meta"]]
    assert times and all(abs(taken - time.time()) < 120 for taken in times)


def _run_in_background(engine: Engine) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(engine.run()), daemon=True)
    thread.start()
    return thread, results


def _frames(engine: Engine, node_id: str) -> int:
    """Frames ``node_id`` handed on so far (0 while the engine is still building its nodes)."""
    return next((runner.n_out for runner in engine._runners if runner.decl.id == node_id), 0)


def _metric(engine: Engine, node_id: str, name: str) -> int:
    return next((r.node.metrics()[name] for r in engine._runners if r.decl.id == node_id), 0)


def _wait(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_one_camera_s_outage_leaves_the_others_streaming(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        down, up = start_rtsp_server(), start_rtsp_server()
        stack.callback(down.fail_if_it_died)
        stack.callback(up.fail_if_it_died)
        config = "{reconnect_backoff_sec: 0.2, reconnect_backoff_max_sec: 1, open_timeout_sec: 3, read_timeout_sec: 2}"
        text = _graph(tmp_path, ["down", "up"], config, down=f', url: "{down.url}"', up=f', url: "{up.url}"')
        engine = _engine(text)
        thread, results = _run_in_background(engine)
        stack.callback(thread.join, 30)
        stack.callback(setattr, engine, "stop_requested", "SIGTERM")
        assert _wait(lambda: _frames(engine, "down.cam") > 5 and _frames(engine, "up.cam") > 5, OPEN_WAIT_SEC)

        down.kill()
        assert _wait(lambda: _metric(engine, "down.cam", "reconnect_attempts") >= 1, 10)
        during = _frames(engine, "up.cam")
        assert _wait(lambda: _frames(engine, "up.cam") > during + 30, 10), "the other camera stalled"

        down.start()
        before = _frames(engine, "down.cam")
        assert _wait(lambda: _frames(engine, "down.cam") > before + 5, OPEN_WAIT_SEC)
    (result,) = results
    assert result.reason == "stopped"
    metrics = {node: result.report["nodes"][f"{node}.cam"]["metrics"] for node in ("down", "up")}
    assert (
        metrics["down"]["reconnects"] == 1 and metrics["down"]["disconnects"] + metrics["down"]["stalls"] >= 1
    )
    assert metrics["up"]["reconnects"] == 0 and metrics["up"]["disconnects"] == 0


@pytest.fixture
def silent_rtsp_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: an RTSP open hangs there."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_camera_whose_open_hangs_does_not_hold_up_the_others(
    rtsp_server: RtspServer, silent_rtsp_port: int
) -> None:
    hanging_timeout = 30.0
    hanging = SourceRunner(
        OpenCvRtspSource(
            node_id="hanging",
            config={"url": f"rtsp://127.0.0.1:{silent_rtsp_port}/cam", "open_timeout_sec": hanging_timeout},
        )
    ).start()
    healthy = SourceRunner(OpenCvRtspSource(node_id="healthy", config={"url": rtsp_server.url}))
    try:
        time.sleep(1.0)  # the hanging camera is inside its open now
        healthy.start()
        # Opens one at a time (OpenCV's own lock) would keep this camera waiting for the
        # other one's whole open timeout.
        assert healthy.wait_until(lambda: healthy.count >= 3, hanging_timeout / 2), healthy.source.metrics()
        assert hanging.count == 0 and hanging.metric("open_failures") == 0  # still opening
    finally:
        healthy.close()
        hanging.close()


def test_frame_buffers_are_reused_and_never_overwritten_while_held(rtsp_server: RtspServer) -> None:
    held: list[tuple[np.ndarray[Any, Any], int]] = []  # frames the test keeps, with a checksum
    seen: list[weakref.ref[Any]] = []
    reused: list[int] = []

    def consume(packet: Packet) -> None:
        image = packet.payload
        if any(ref() is image for ref in seen):
            reused.append(packet.meta["frame_index"])
        seen.append(weakref.ref(image))
        if packet.meta["frame_index"] in (20, 21, 22):
            held.append((image, zlib.crc32(image.tobytes())))

    runner = SourceRunner(
        OpenCvRtspSource(node_id="cam", config={"url": rtsp_server.url, "max_frames": 60}), work=consume
    ).start()
    try:
        assert runner.join(OPEN_WAIT_SEC + 10) and runner.error is None
    finally:
        runner.close()
    assert len(seen) == 60
    assert len(reused) > 30, "the reader allocated a new array for most frames"
    # The pattern moves every frame: a held frame written over would change its checksum.
    assert [zlib.crc32(image.tobytes()) for image, _ in held] == [crc for _, crc in held]
    assert len({id(image) for image, _ in held}) == 3
