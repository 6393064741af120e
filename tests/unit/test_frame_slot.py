"""FrameSlot, the hand-off from an RTSP reader thread to ``run()``, with real threads; and LiveEdgeLag.

Latest-frame mode must account for every frame (taken or counted as dropped) and always hand
on the newest; every-frame mode must deliver all frames in order; neither may leave a thread
waiting after a stop.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from schnitzel_stream.nodes.video import _frame_slot
from schnitzel_stream.nodes.video._capture import LiveEdgeLag
from schnitzel_stream.nodes.video._frame_slot import CapturedFrame, FrameSlot

# No bound here depends on the machine's speed: a wait that should end at once is given a
# 30 s alternative (the take timeout, the put's re-check interval), and "at once" is anything
# under a third of that.
LONG_WAIT_SEC = 30.0
PROMPT_SEC = LONG_WAIT_SEC / 3


def _frame(index: int) -> CapturedFrame:
    image: Any = None  # the slot never looks at the image; wall_ns ([2]) carries the index
    return (image, float(index), index, float(index))


def test_latest_frame_keeps_only_the_newest_and_counts_the_rest() -> None:
    slot = FrameSlot(overwrite=True)
    never = threading.Event()
    for index in range(3):
        assert slot.put(_frame(index), never)

    taken = slot.take(1.0)

    assert taken is not None and taken[2] == 2
    assert slot.dropped == 2
    assert slot.take(0) is None


def test_take_times_out_without_a_frame() -> None:
    slot = FrameSlot(overwrite=True)
    began = time.monotonic()
    assert slot.take(0.05) is None
    assert time.monotonic() - began >= 0.04  # a timed wait never ends early


def test_wake_ends_a_waiting_take_at_once() -> None:
    slot = FrameSlot(overwrite=True)
    results: list[CapturedFrame | None] = []
    waiter = threading.Thread(target=lambda: results.append(slot.take(LONG_WAIT_SEC)))
    waiter.start()
    time.sleep(0.05)  # let it block

    began = time.monotonic()
    slot.wake()
    waiter.join(LONG_WAIT_SEC)

    assert not waiter.is_alive() and results == [None]
    assert time.monotonic() - began < PROMPT_SEC


def test_a_frame_put_while_take_waits_is_handed_over() -> None:
    slot = FrameSlot(overwrite=True)
    results: list[CapturedFrame | None] = []
    waiter = threading.Thread(target=lambda: results.append(slot.take(30.0)))
    waiter.start()
    time.sleep(0.05)

    assert slot.put(_frame(7), threading.Event())
    waiter.join(5)

    assert [frame[2] for frame in results if frame is not None] == [7]


def test_latest_frame_under_contention_loses_no_frame_unaccounted() -> None:
    slot = FrameSlot(overwrite=True)
    total = 20_000
    never = threading.Event()
    taken: list[int] = []
    finished = threading.Event()

    def consume() -> None:
        while True:
            frame = slot.take(0.01)
            if frame is not None:
                taken.append(frame[2])
            elif finished.is_set():
                return

    consumer = threading.Thread(target=consume)
    consumer.start()
    for index in range(total):
        slot.put(_frame(index), never)
    finished.set()
    consumer.join(10)

    assert not consumer.is_alive()
    assert len(taken) + slot.dropped == total
    assert taken == sorted(set(taken))  # newest first never goes backwards, nothing twice
    assert taken[-1] == total - 1  # the last frame is never lost


def test_every_frame_mode_delivers_all_frames_in_order() -> None:
    slot = FrameSlot(overwrite=False)
    total = 2_000
    never = threading.Event()

    def produce() -> None:
        for index in range(total):
            assert slot.put(_frame(index), never)

    producer = threading.Thread(target=produce)
    producer.start()
    taken: list[int] = []
    while len(taken) < total:
        frame = slot.take(5.0)
        assert frame is not None, f"no frame after {len(taken)}"
        taken.append(frame[2])
    producer.join(5)

    assert taken == list(range(total))
    assert slot.dropped == 0


def _blocked_put(slot: FrameSlot, cancelled: threading.Event) -> tuple[threading.Thread, list[bool]]:
    """A second put() on a thread, waiting because the first frame was not taken."""
    assert slot.put(_frame(0), cancelled)
    results: list[bool] = []
    blocked = threading.Thread(target=lambda: results.append(slot.put(_frame(1), cancelled)))
    blocked.start()
    time.sleep(0.1)
    assert blocked.is_alive(), "put() did not wait for the untaken frame"
    return blocked, results


def test_every_frame_put_waits_for_room_until_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_frame_slot, "_ROOM_POLL_SEC", LONG_WAIT_SEC)  # only close() can end it soon
    slot = FrameSlot(overwrite=False)
    blocked, results = _blocked_put(slot, threading.Event())

    began = time.monotonic()
    slot.close()
    blocked.join(LONG_WAIT_SEC)

    assert results == [False]
    assert time.monotonic() - began < PROMPT_SEC
    taken = slot.take(0)
    assert taken is not None and taken[2] == 0  # the waiting frame is still there


def test_every_frame_put_gives_up_when_cancelled() -> None:
    slot = FrameSlot(overwrite=False)
    cancelled = threading.Event()
    blocked, results = _blocked_put(slot, cancelled)

    cancelled.set()
    blocked.join(5)  # the put re-checks the cancel at least every 0.5 s

    assert results == [False]


# -- LiveEdgeLag: the lag behind the camera's live edge, from (read time, stream time) pairs --

FPS = 15


def _feed(lag: LiveEdgeLag, frames: list[tuple[float, float]]) -> list[bool]:
    return [lag.observe(mono, stream_ms) for mono, stream_ms in frames]


def _stream(seconds: float, speed: float, start: float = 100.0) -> list[tuple[float, float]]:
    """Frames of a 15 fps camera decoded at ``speed`` times real time (1.0 keeps up)."""
    count = int(seconds * FPS)
    return [(start + i / FPS / min(speed, 1.0), 1000 * i / FPS) for i in range(count)]


def test_a_decoder_that_keeps_up_never_lags() -> None:
    lag = LiveEdgeLag(settle_sec=10, warn_sec=2)
    warnings = _feed(lag, _stream(60, speed=1.0))
    assert not any(warnings)
    assert lag.lag_sec < 1e-6


def test_a_decoder_slower_than_the_camera_warns_after_settling() -> None:
    lag = LiveEdgeLag(settle_sec=10, warn_sec=2)
    frames = _stream(120, speed=0.8)  # 0.25 s of lag per second of stream
    warnings = _feed(lag, frames)
    first = warnings.index(True)
    mono, stream_ms = frames[first]
    assert mono - frames[0][0] >= 10  # not before the session settled
    assert 2.0 < mono - stream_ms / 1000 - frames[0][0] < 2.2  # as soon as the lag passed 2 s
    assert lag.lag_sec > 20


def test_the_probe_burst_is_not_a_lag() -> None:
    # FFmpeg hands out the ~2 s it buffered while probing within 0.1 s, then frames arrive live.
    burst = [(100 + 0.1 * i / 30, 1000 * i / FPS) for i in range(30)]
    live = [(100.1 + i / FPS, 2000 + 1000 * i / FPS) for i in range(1, 600)]
    lag = LiveEdgeLag(settle_sec=10, warn_sec=2)
    warnings = _feed(lag, burst + live)
    assert not any(warnings)
    assert lag.lag_sec < 0.01


def test_a_stream_without_timestamps_is_never_judged() -> None:
    lag = LiveEdgeLag(settle_sec=10, warn_sec=2)
    warnings = _feed(lag, [(100 + i / FPS, 0.0) for i in range(900)])
    assert not any(warnings)
    assert lag.lag_sec > 50  # the gauge still shows it, but no warning claims a slow decoder
