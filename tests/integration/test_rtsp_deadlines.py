"""Total deadlines of the RTSP path against hostile servers (issue 11, class 4).

OpenCV enforces ``open_timeout_sec`` and ``read_timeout_sec`` through FFmpeg's interrupt
callback, which measures each open and each read from its start: they are total deadlines,
not per-socket-read timeouts. These tests hold them to it with socket servers that speak
just enough RTSP to be hostile: one that never answers, one that trickles its answer a byte
at a time, and one that answers OPTIONS, DESCRIBE, SETUP and PLAY and then trickles
interleaved garbage that never decodes into a frame. The bounds are generous (the 2 s
deadlines plus several seconds) so that a busy machine cannot fail them; without total
deadlines each case would hold the reader for as long as the server liked.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from schnitzel_stream.nodes.video import OpenCvRtspSource
from schnitzel_stream.nodes.video._capture import open_ffmpeg, rtsp_options
from tests.support.raw_servers import Behaviour, HostileServer, read_request, silent

TIMEOUT = 2.0
BOUND = 15.0
_SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hostile\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
)


def trickle_answer(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer OPTIONS one byte every 0.1 s, without end."""
    read_request(sock)
    for byte in b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX-Slow: " + b"a" * 100000:
        if stopping.wait(0.1):
            return
        sock.sendall(bytes([byte]))


def play_then_garbage(sock: socket.socket, stopping: threading.Event) -> None:
    """A session that sets up and plays, then sends interleaved bytes that are no video."""
    while not stopping.is_set():
        request = read_request(sock).decode("latin-1")
        if not request:
            return
        cseq = next(
            (
                line.split(":", 1)[1].strip()
                for line in request.split("\r\n")
                if line.lower().startswith("cseq")
            ),
            "0",
        )
        method = request.split(" ", 1)[0]
        head = f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n"
        if method == "OPTIONS":
            sock.sendall(f"{head}Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n\r\n".encode())
        elif method == "DESCRIBE":
            sock.sendall(
                f"{head}Content-Type: application/sdp\r\nContent-Length: {len(_SDP)}\r\n\r\n{_SDP}".encode()
            )
        elif method == "SETUP":
            sock.sendall(
                f"{head}Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 77\r\n\r\n".encode()
            )
        elif method == "PLAY":
            sock.sendall(f"{head}Session: 77\r\n\r\n".encode())
            while not stopping.wait(0.1):
                sock.sendall(b"$\x00\x00\x04junk")
            return
        else:
            return


def on_thread(action: Any) -> tuple[float, list[Any]]:
    results: list[Any] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: results.append(action()), daemon=True)
    worker.start()
    worker.join(BOUND * 3)
    assert not worker.is_alive(), f"still blocked after {time.monotonic() - started:.0f}s"
    return time.monotonic() - started, results


def open_camera(port: int) -> Any:
    return open_ffmpeg(
        f"rtsp://127.0.0.1:{port}/cam",
        options=rtsp_options("tcp"),
        open_timeout_sec=TIMEOUT,
        read_timeout_sec=TIMEOUT,
    )


@pytest.mark.parametrize("behaviour", [silent, trickle_answer], ids=["never-answers", "trickles"])
def test_an_open_never_outlasts_its_deadline(behaviour: Behaviour) -> None:
    with HostileServer(behaviour) as server:
        elapsed, (capture,) = on_thread(lambda: open_camera(server.port))
    assert capture is None and elapsed < BOUND


def test_a_read_never_outlasts_its_deadline() -> None:
    with HostileServer(play_then_garbage) as server:
        elapsed, (capture,) = on_thread(lambda: open_camera(server.port))
        # FFmpeg's stream probe gives up at the open deadline and opens the stream anyway.
        assert capture is not None and elapsed < BOUND
        try:
            for _ in range(2):
                elapsed, (read,) = on_thread(lambda: capture.read()[0])
                assert read is False and elapsed < BOUND
        finally:
            capture.release()


def test_the_camera_node_keeps_reconnecting_to_a_server_that_trickles() -> None:
    with HostileServer(trickle_answer) as server:
        camera = OpenCvRtspSource(
            node_id="cam",
            config={
                "url": f"rtsp://127.0.0.1:{server.port}/cam",
                "open_timeout_sec": TIMEOUT,
                "read_timeout_sec": TIMEOUT,
                "stall_timeout_sec": TIMEOUT,
                "reconnect_backoff_sec": 0.05,
                "reconnect_backoff_max_sec": 0.1,
            },
        )
        frames = camera.run()
        worker = threading.Thread(target=lambda: next(frames, None), daemon=True)
        worker.start()
        deadline = time.monotonic() + 3 * BOUND
        while server.connections < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        camera.stop()
        worker.join(BOUND)
        camera.close()
    assert server.connections >= 3
    assert camera.metrics()["open_failures"] >= 2
