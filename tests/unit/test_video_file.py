"""video_file on real video files written with OpenCV into a temporary directory."""

from __future__ import annotations

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


class FakeTime:
    """The pacing clock: a pause moves it forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = 100.0
        self.pauses: list[float] = []

    def clock(self) -> float:
        return self.now

    def pause(self, seconds: float) -> bool:
        self.pauses.append(seconds)
        self.now += seconds
        return False


def test_realtime_paces_at_the_files_frame_rate(clip: Path) -> None:
    source = _source({"path": str(clip), "realtime": True, "max_frames": 16})
    fake = FakeTime()
    source.clock, source.pause = fake.clock, fake.pause
    assert len(list(source.run())) == 16
    # The first frame goes at once, each of the other 15 one frame interval later.
    assert fake.pauses == pytest.approx([1 / FPS] * 15)


def test_a_consumer_far_behind_restarts_the_pace_instead_of_a_burst(clip: Path) -> None:
    source = _source({"path": str(clip), "realtime": True, "max_frames": 6})
    fake = FakeTime()
    source.clock, source.pause = fake.clock, fake.pause
    for index, _packet in enumerate(source.run()):
        if index == 2:
            fake.now += 5.0  # the consumer held frame 2 for five seconds
    # Frame 3 goes at once (no wait is negative), then the pace starts over from it.
    assert fake.pauses == pytest.approx([1 / FPS] * 2 + [1 / FPS] * 2)


def test_stop_ends_a_realtime_run(clip: Path) -> None:
    source = _source({"path": str(clip), "realtime": True, "loop": True})
    seen: list[int] = []

    def consume() -> None:
        for packet in source.run():
            seen.append(packet.meta["frame_index"])

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    source.stop()
    # A looping source never ends by itself: ending at all proves stop() ends the wait.
    thread.join(30)
    assert not thread.is_alive() and len(seen) >= 3


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
    assert problem.code == "video.path" and problem.path == "nodes.clip.config.path"
    assert "does not exist" in problem.message
    assert str(missing) in str(caught.value)


def test_a_file_that_is_not_video_fails_with_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n")
    with pytest.raises(NodeError, match="cannot be opened by OpenCV's FFmpeg backend") as caught:
        _read_all(_source({"path": str(bogus)}))
    assert str(bogus) in str(caught.value)
