"""The test camera itself (``ops/ci/rtsp_server.py``): clients that start at once never kill it.

Every camera test shares one GStreamer media between its clients. gst-rtsp-server 1.22 ran a
flushing seek of that shared pipeline for each ``PLAY`` (FFmpeg always sends ``Range:
npt=0.000-``, and ``videotestsrc`` says it can seek even when live); a ``PLAY`` that arrived
between such a flush and the next frame aborted the server (``gst_rtsp_media_get_rates:
assertion failed``). Three cameras of one graph opening together hit that about once in
fifteen runs. This test hits the same window on purpose, with a minimal RTSP client that
sends the ``PLAY`` of three sessions back to back: the unfixed server died within the first
ten rounds in ten runs out of ten, and the ``rtsp_server`` fixture reports such a death with
the server's exit status and output.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass, field

import pytest

from tests.support.rtsp import RtspServer, RtspServerError, rtsp_server, start_rtsp_server

__all__ = ["rtsp_server"]  # the fixture, imported for pytest

ROUNDS = 100  # about 4 s here; the unfixed server never lasted 10 rounds
CLIENTS = 3


@dataclass
class _RawClient:
    """Just enough RTSP over one TCP connection: requests out, responses in, RTP skipped."""

    sock: socket.socket
    base: str
    cseq: int = 0
    pending: bytes = field(default=b"", repr=False)

    def send(self, method: str, url: str, *headers: str) -> None:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", *headers, "", ""]
        self.sock.sendall("\r\n".join(lines).encode())

    def receive(self) -> tuple[str, dict[str, str]]:
        """The next response's status line and headers, skipping interleaved RTP/RTCP frames."""
        while self._fill(4) and self.pending[:1] == b"$":  # '$', channel, 16-bit length
            size = 4 + int.from_bytes(self.pending[2:4], "big")
            self._fill(size)
            self.pending = self.pending[size:]
        while b"\r\n\r\n" not in self.pending:
            self._fill(len(self.pending) + 1)
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        body = int(headers.get("content-length", "0"))
        self._fill(body)
        self.pending = self.pending[body:]  # the SDP of a DESCRIBE: not needed here
        return status, headers

    def _fill(self, size: int) -> bool:
        while len(self.pending) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"the server closed the connection (after {self.cseq} requests)")
            self.pending += chunk
        return True


def _set_up(server: RtspServer) -> tuple[_RawClient, str]:
    """A client that has DESCRIBEd and SETUP the camera's stream: ready to PLAY."""
    client = _RawClient(socket.create_connection(("127.0.0.1", server.port), timeout=10), server.url)
    client.send("DESCRIBE", client.base, "Accept: application/sdp")
    status, _ = client.receive()
    assert " 200 " in status, status
    client.send("SETUP", f"{client.base}/stream=0", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1")
    status, headers = client.receive()
    assert " 200 " in status, status
    return client, headers["session"].split(";")[0]


def test_clients_that_play_at_once_never_crash_the_shared_camera(rtsp_server: RtspServer) -> None:
    for round_ in range(ROUNDS):
        sessions = [_set_up(rtsp_server) for _ in range(CLIENTS)]
        try:
            for client, session in sessions:  # all PLAYs before any answer: the racing window
                client.send("PLAY", f"{client.base}/", f"Session: {session}", "Range: npt=0.000-")
            answers = [client.receive()[0] for client, _ in sessions]
        finally:
            for client, _ in sessions:
                client.sock.close()
        assert all(" 200 " in answer for answer in answers), f"round {round_}: {answers}"
        assert rtsp_server.running, f"round {round_}: the camera died"


def test_a_camera_that_dies_on_its_own_is_reported_with_its_signal_and_output() -> None:
    server = start_rtsp_server()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGABRT)  # what GStreamer's failed assertions do
    _wait_until_dead(server)
    with pytest.raises(pytest.fail.Exception) as failed:
        server.fail_if_it_died()
    assert "died on its own: exit -6 (SIGABRT)" in str(failed.value)
    assert f"READY {server.url}" in str(failed.value)  # its output, up to the end


def test_a_camera_killed_by_the_test_is_not_a_death() -> None:
    with RtspServer() as server:
        server.kill()  # an outage the test made
        server.start()
    assert server.deaths == []


def test_a_benchmark_s_camera_that_died_raises_at_exit() -> None:
    with pytest.raises(RtspServerError, match=r"exit -9 \(SIGKILL\)"), RtspServer() as server:
        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        _wait_until_dead(server)


def _wait_until_dead(server: RtspServer) -> None:
    deadline = time.monotonic() + 10
    while server.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.running
