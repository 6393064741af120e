"""rtsp_camera against a real GStreamer RTSP server on a loopback port.

Outages are real: the server process is killed and started again on the same port, or
stopped with SIGSTOP so that the connection stays open while nothing is sent.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

import cv2
import pytest

from schnitzel_stream import redact
from schnitzel_stream.errors import NodeError
from schnitzel_stream.nodes.video import OpenCvRtspSource
from schnitzel_stream.nodes.video._capture import open_ffmpeg
from schnitzel_stream.nodes.video._ffmpeg_env import OPTIONS_ENV
from schnitzel_stream.packet import Packet
from tests.support.net import free_port
from tests.support.rtsp import RtspServer, SourceRunner, rtsp_server, start_rtsp_server

__all__ = ["rtsp_server"]  # the fixture, imported for pytest

# Generous enough for OpenCV's ~2 s open on a loaded 2-core machine, small enough to fail fast.
OPEN_WAIT_SEC = 8.0


@pytest.fixture
def runners() -> Iterator[list[SourceRunner]]:
    """Runners a test starts; all are stopped and closed, also when the test fails."""
    started: list[SourceRunner] = []
    yield started
    for runner in started:
        runner.close()


def _run(runners: list[SourceRunner], config: dict[str, Any], **kwargs: Any) -> SourceRunner:
    runner = SourceRunner(OpenCvRtspSource(node_id="cam", config=config), **kwargs).start()
    runners.append(runner)
    return runner


@pytest.mark.parametrize(
    ("extra", "shape"),
    [
        pytest.param({}, (360, 640, 3), id="tcp-latest-frame"),
        pytest.param({"latest_frame": False}, (360, 640, 3), id="every-frame"),
        pytest.param({"transport": "udp", "width": 320}, (180, 320, 3), id="udp-resize-keeps-aspect"),
    ],
)
def test_reads_frames_until_max_frames(
    rtsp_server: RtspServer, runners: list[SourceRunner], extra: dict[str, Any], shape: tuple[int, ...]
) -> None:
    runner = _run(runners, {"url": rtsp_server.url, "max_frames": 12, **extra})

    assert runner.join(OPEN_WAIT_SEC + 3), "run() did not end after max_frames"
    assert runner.error is None
    assert [r.shape for r in runner.received] == [shape] * 12
    assert [r.meta["frame_index"] for r in runner.received] == list(range(12))
    first = runner.received[0].meta
    assert (first["height"], first["width"]) == shape[:2]
    assert abs(first["captured_at"] - time.time()) < 60
    stream_times = [r.meta["stream_ms"] for r in runner.received]
    assert stream_times == sorted(stream_times) and stream_times[-1] > stream_times[0]
    keys = {r.meta["idempotency_key"] for r in runner.received}
    assert len(keys) == 12
    assert all(key.startswith("cam:") for key in keys)
    assert runner.source.metrics()["frames"] == 12
    expected_transport = f"rtsp_transport;{extra.get('transport', 'tcp')}"
    assert os.environ[OPTIONS_ENV].endswith(expected_transport)


def test_outage_reconnects_and_frames_resume(rtsp_server: RtspServer, runners: list[SourceRunner]) -> None:
    backoff_max = 1.0
    runner = _run(
        runners,
        {
            "url": rtsp_server.url,
            "reconnect_backoff_sec": 0.2,
            "reconnect_backoff_max_sec": backoff_max,
            "open_timeout_sec": 3,
            "read_timeout_sec": 2,
            "stall_timeout_sec": 4,
        },
    )
    assert runner.wait_until(lambda: runner.count >= 5, OPEN_WAIT_SEC)

    rtsp_server.kill()

    def retrying() -> bool:
        lost = runner.metric("disconnects") + runner.metric("stalls")
        return lost >= 1 and runner.metric("reconnect_attempts") >= 2

    assert runner.wait_until(retrying, 6.0)
    assert runner.alive and runner.error is None, "the source gave up during the outage"
    assert runner.metric("open_failures") >= 1
    assert runner.metric("reconnects") == 0
    before = runner.count

    rtsp_server.start()
    restarted = time.monotonic()
    assert runner.wait_until(lambda: runner.count > before + 3, backoff_max + 3.0), (
        f"frames did not resume within {backoff_max + 3.0}s of the restart: {runner.source.metrics()}"
    )
    assert runner.received[before].received_mono - restarted < backoff_max + 3.0
    assert runner.metric("reconnects") == 1
    indexes = [r.meta["frame_index"] for r in runner.received]
    assert indexes == list(range(len(indexes))), "frame_index must continue across the reconnect"
    assert len({r.meta["idempotency_key"] for r in runner.received}) == len(runner.received)


@pytest.mark.parametrize(
    ("timeouts", "reason"),
    [
        pytest.param(
            {"read_timeout_sec": 1.5, "stall_timeout_sec": 3}, "no data for 1.5s", id="ffmpeg-read-timeout"
        ),
        # FFmpeg's own timeout set far out: the watchdog must abandon the blocked reader.
        pytest.param(
            {"read_timeout_sec": 6, "stall_timeout_sec": 1}, "no frame for 1s (watchdog)", id="watchdog"
        ),
    ],
)
def test_silent_camera_counts_a_stall_and_recovers(
    rtsp_server: RtspServer,
    runners: list[SourceRunner],
    caplog: pytest.LogCaptureFixture,
    timeouts: dict[str, float],
    reason: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="schnitzel_stream")
    config = {"url": rtsp_server.url, "reconnect_backoff_sec": 0.2, "reconnect_backoff_max_sec": 0.5}
    runner = _run(runners, {**config, "open_timeout_sec": 2, **timeouts})
    assert runner.wait_until(lambda: runner.count >= 5, OPEN_WAIT_SEC)

    rtsp_server.pause()  # the TCP connection stays up, but nothing arrives
    assert runner.wait_until(lambda: runner.metric("stalls") >= 1, 4.0), runner.source.metrics()
    assert runner.alive and runner.error is None
    assert reason in caplog.text
    rtsp_server.resume()
    before = runner.count
    assert runner.wait_until(lambda: runner.count > before + 3, OPEN_WAIT_SEC), runner.source.metrics()
    assert runner.metric("reconnects") >= 1


@pytest.mark.parametrize(
    ("policy", "opens"),
    [
        pytest.param({"reconnect_max_attempts": 2}, 3, id="two-attempts-then-error"),
        pytest.param({"reconnect": False}, 1, id="reconnect-off"),
    ],
)
def test_unavailable_camera_raises_node_error_with_masked_url(
    runners: list[SourceRunner], caplog: pytest.LogCaptureFixture, policy: dict[str, Any], opens: int
) -> None:
    port = free_port()  # nothing listens here
    password = "never-log-this-pw"
    caplog.set_level(logging.DEBUG, logger="schnitzel_stream")
    runner = _run(
        runners,
        {
            "url": f"rtsp://admin:{password}@127.0.0.1:{port}/cam",
            "reconnect_backoff_sec": 0.05,
            "reconnect_backoff_max_sec": 0.1,
            "open_timeout_sec": 2,
            **policy,
        },
    )

    assert runner.join(6.0), "run() kept retrying past reconnect_max_attempts"
    assert isinstance(runner.error, NodeError)
    message = str(runner.error)
    assert f"rtsp://admin:***@127.0.0.1:{port}/cam" in message
    assert password not in message
    assert runner.error.problems[0].code == "rtsp.unavailable"
    assert runner.metric("open_failures") == opens
    assert runner.metric("reconnect_attempts") == opens - 1
    assert runner.count == 0
    assert f"rtsp://admin:***@127.0.0.1:{port}/cam" in caplog.text
    assert password not in caplog.text
    # Registered as a secret, so free text (exception chains, library messages) hides it too.
    assert password not in redact.redact(f"ffmpeg said: bad password {password}")


@pytest.mark.parametrize(
    ("config", "threads"),
    [
        pytest.param({}, 1, id="default-one-thread"),
        pytest.param({"decode_threads": 3}, 3, id="frame-threading"),
        pytest.param({"decode_threads": 0}, None, id="opencv-chooses"),
    ],
)
def test_decode_threads_reach_ffmpeg(
    rtsp_server: RtspServer,
    runners: list[SourceRunner],
    caplog: pytest.LogCaptureFixture,
    config: dict[str, Any],
    threads: int | None,
) -> None:
    if threads is None:  # what OpenCV picks when not told: ask it, on a capture of our own
        capture = open_ffmpeg(rtsp_server.url, open_timeout_sec=OPEN_WAIT_SEC)
        assert capture is not None
        threads = int(capture.get(cv2.CAP_PROP_N_THREADS))
        capture.release()
        assert threads >= 1
    caplog.set_level(logging.INFO, logger="schnitzel_stream")
    runner = _run(runners, {"url": rtsp_server.url, "max_frames": 3, **config})

    assert runner.join(OPEN_WAIT_SEC + 3), "run() did not end after max_frames"
    assert runner.error is None and len(runner.received) == 3
    plural = "" if threads == 1 else "s"
    assert f"{threads} decoder thread{plural})" in caplog.text, caplog.text


@pytest.mark.parametrize(
    "latest_frame",
    [pytest.param(True, id="latest-frame-bounds-age"), pytest.param(False, id="every-frame-lets-age-grow")],
)
def test_slow_consumer_frame_age(
    rtsp_server: RtspServer, runners: list[SourceRunner], latest_frame: bool
) -> None:
    done: list[tuple[float, dict[str, Any]]] = []

    def slow(packet: Packet) -> None:
        time.sleep(0.1)  # 10 frames/s of processing against a 15 frames/s camera
        done.append((time.monotonic(), packet.meta))

    runner = _run(runners, {"url": rtsp_server.url, "latest_frame": latest_frame}, work=slow)
    assert runner.wait_until(lambda: len(done) >= 40, OPEN_WAIT_SEC + 7)

    # Age behind the camera's live edge: stream time tells how late a frame is even when it
    # was read late (the edge is the least-delayed read). No bound here is on the machine's
    # speed (bench_rtsp.py measures the figures): latest-frame mode keeps the age flat, every
    # frame mode lets it grow by a third of a second per second (10 of 15 frames processed).
    edge = min(float(m["captured_mono"]) - float(m["stream_ms"]) / 1000 for _, m in done)
    processed = done[10:40]  # after the burst of frames FFmpeg buffered while probing the stream
    ages = [t - float(m["stream_ms"]) / 1000 - edge for t, m in processed]
    early, late = statistics.median(ages[:10]), statistics.median(ages[-10:])
    figures = f"live-edge age: median {early:.3f}s early, {late:.3f}s late"
    gauge_ms = runner.metric("live_edge_lag_ms")  # the source's own measure of the same lag
    if latest_frame:
        assert late < early + 0.5, figures
        assert runner.metric("dropped_frames") > 0
        assert gauge_ms < 500 + 1000 * (late - early), gauge_ms
    else:
        assert late > early + 0.5, figures
        assert runner.metric("dropped_frames") == 0
        assert gauge_ms > 500, gauge_ms


def test_stop_ends_run_during_backoff_wait(runners: list[SourceRunner]) -> None:
    runner = _run(
        runners,
        {
            "url": f"rtsp://127.0.0.1:{free_port()}/cam",
            "reconnect_backoff_sec": 120,
            "reconnect_backoff_max_sec": 120,
        },
    )
    assert runner.wait_until(lambda: runner.metric("open_failures") >= 1, 5.0)
    time.sleep(0.1)  # into the backoff wait (a uniform draw from [0, 120] s)

    # Waiting out the backoff would take longer than this bound 11 times in 12.
    assert runner.stop() < 10.0
    assert runner.error is None


def test_stop_ends_run_during_blocked_read(rtsp_server: RtspServer, runners: list[SourceRunner]) -> None:
    read_timeout = 8.0
    runner = _run(
        runners, {"url": rtsp_server.url, "read_timeout_sec": read_timeout, "stall_timeout_sec": 20}
    )
    assert runner.wait_until(lambda: runner.count >= 3, OPEN_WAIT_SEC)
    rtsp_server.pause()
    time.sleep(0.5)  # the reader drains what was buffered and blocks in FFmpeg's read
    frames = runner.metric("frames")

    # The read would only end at its timeout: stop() must not wait for it.
    assert runner.stop() < read_timeout / 2
    assert runner.error is None
    assert runner.metric("frames") <= frames + 1
    began = time.monotonic()
    runner.source.close()
    assert time.monotonic() - began < read_timeout + 2, "close() waited past the read timeout"
    rtsp_server.resume()


def test_url_from_env_authenticates_and_registers_the_secret(
    runners: list[SourceRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "env-only-Pa55"
    server = start_rtsp_server(user="viewer", password=password)
    try:
        monkeypatch.setenv("TEST_CAM_URL", server.url_with("viewer", password))
        runner = _run(runners, {"url_from_env": "TEST_CAM_URL", "max_frames": 3})
        assert runner.join(OPEN_WAIT_SEC + 3)
        assert runner.error is None
        assert runner.count == 3
        assert password not in redact.redact(f"leaked {password} and {server.url_with('viewer', password)}")

        # The server really checks the password: a wrong one is refused, and masked in the error.
        monkeypatch.setenv("TEST_CAM_URL", server.url_with("viewer", "wrong-Pa55"))
        refused = _run(runners, {"url_from_env": "TEST_CAM_URL", "reconnect": False})
        assert refused.join(OPEN_WAIT_SEC)
        assert isinstance(refused.error, NodeError)
        assert "viewer:***@" in str(refused.error)
        assert "wrong-Pa55" not in str(refused.error)
    finally:
        server.fail_if_it_died()
