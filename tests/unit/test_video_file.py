"""video_file on real video files written with OpenCV into a temporary directory."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from schnitzel_stream.errors import ConfigError, NodeError
from schnitzel_stream.nodes.video import OpenCvVideoFileSource
from schnitzel_stream.packet import Packet

FPS = 15
FRAMES = 30  # 2 s at 15 fps
SIZE = (320, 240)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s, 320x240, 15 fps clip whose frames get brighter, so that order is visible."""
    path = tmp_path_factory.mktemp("video") / "ramp.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, SIZE)
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for index in range(FRAMES):
        writer.write(np.full((SIZE[1], SIZE[0], 3), 8 * index, dtype=np.uint8))
    writer.release()
    return path


def _source(config: dict[str, Any]) -> OpenCvVideoFileSource:
    return OpenCvVideoFileSource(node_id="clip", config=config)


def _read_all(source: OpenCvVideoFileSource) -> list[Packet]:
    return list(source.run())


def test_reads_every_frame_once_in_order(clip: Path) -> None:
    source = _source({"path": str(clip)})
    packets = _read_all(source)

    assert len(packets) == FRAMES
    assert all(p.kind == "frame" and p.payload.shape == (240, 320, 3) for p in packets)
    assert [p.meta["frame_index"] for p in packets] == list(range(FRAMES))
    assert [p.meta["file_frame"] for p in packets] == list(range(FRAMES))
    brightness = [float(p.payload.mean()) for p in packets]
    assert brightness == sorted(brightness) and brightness[-1] - brightness[0] > 200
    assert packets[0].source_id == "clip" and (packets[0].meta["width"], packets[0].meta["height"]) == SIZE
    assert source.metrics() == {"frames": FRAMES, "loops": 0}


def test_loop_starts_over_until_max_frames(clip: Path) -> None:
    source = _source({"path": str(clip), "loop": True, "max_frames": 2 * FRAMES + 5})
    packets = _read_all(source)

    assert len(packets) == 2 * FRAMES + 5
    assert [p.meta["file_frame"] for p in packets[FRAMES - 1 : FRAMES + 1]] == [FRAMES - 1, 0]
    assert packets[2 * FRAMES].meta["file_frame"] == 0
    assert source.metrics() == {"frames": 2 * FRAMES + 5, "loops": 2}


def test_max_frames_stops_early(clip: Path) -> None:
    assert len(_read_all(_source({"path": str(clip), "max_frames": 7}))) == 7


def test_realtime_paces_at_the_files_frame_rate(clip: Path) -> None:
    source = _source({"path": str(clip), "realtime": True, "max_frames": 16})
    arrivals: list[float] = []
    for _packet in source.run():
        arrivals.append(time.monotonic())

    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # Pacing only ever waits, so these lower bounds hold however loaded the machine is (an
    # upper bound would test the machine's speed, not the pacing).
    assert arrivals[-1] - arrivals[0] >= 15 / FPS * 0.95
    assert statistics.median(gaps) >= 0.9 / FPS


def test_stop_ends_a_realtime_run_promptly(clip: Path) -> None:
    source = _source({"path": str(clip), "realtime": True, "loop": True})
    seen: list[int] = []
    stopped_after: list[float] = []

    def consume() -> None:
        for packet in source.run():
            seen.append(packet.meta["frame_index"])
        stopped_after.append(time.monotonic())

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    at_stop = len(seen)
    source.stop()
    thread.join(30)
    # A looping realtime clip never ends by itself: only stop() can have ended it, and at once,
    # without playing on (at most the frame already on its way).
    assert not thread.is_alive() and stopped_after
    assert at_stop >= 3 and len(seen) <= at_stop + 1


def test_idempotency_keys_differ_across_restarts(clip: Path) -> None:
    first = _read_all(_source({"path": str(clip), "max_frames": 5}))
    again = _read_all(_source({"path": str(clip), "max_frames": 5}))  # a restarted process

    assert [p.meta["frame_index"] for p in first] == [p.meta["frame_index"] for p in again]
    keys = [p.meta["idempotency_key"] for p in first + again]
    assert len(set(keys)) == 10


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(ConfigError) as caught:
        _source({"path": str(missing)})
    problem = caught.value.problems[0]
    assert problem.code == "video.missing" and problem.path == "clip.config.path"
    assert str(missing) in str(caught.value)


def test_a_file_that_is_not_video_fails_with_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n")
    with pytest.raises(NodeError, match="cannot be opened by OpenCV's FFmpeg backend") as caught:
        _read_all(_source({"path": str(bogus)}))
    assert str(bogus) in str(caught.value)
