"""A real RTSP camera for the integration tests and benchmarks, and a thread to run sources.

The camera is GStreamer's RTSP server (``ops/ci/rtsp_server.py``) started as a subprocess of
Debian's ``/usr/bin/python3``, because the GObject bindings only exist there. When GStreamer
is missing the fixture FAILS with the install command: these tests are never skipped.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest

from schnitzel_stream.nodes.base import Source
from schnitzel_stream.packet import Packet
from tests.support.net import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / "ops" / "ci" / "rtsp_server.py"
#: The interpreter with the GStreamer bindings; override for unusual machines.
SYSTEM_PYTHON = os.environ.get("SCHNITZEL_STREAM_GST_PYTHON", "/usr/bin/python3")
INSTALL_HINT = (
    "apt-get install -y gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"
)


class RtspServerError(RuntimeError):
    """The test camera did not start; the message says why and how to fix the machine."""


class RtspServer:
    """One GStreamer RTSP server process serving ``rtsp://127.0.0.1:PORT/cam``.

    ``kill()`` then ``start()`` on the same port is a camera outage; ``pause()``/``resume()``
    (SIGSTOP/SIGCONT) is a camera that keeps its connections open but stops sending.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 15,
        pattern: str = "ball",
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.port = port or free_port()
        self.width, self.height, self.fps = width, height, fps
        self._args = ["--width", str(width), "--height", str(height), "--fps", str(fps), "--pattern", pattern]
        if user and password:
            self._args += ["--user", user, "--password", password]
        self._process: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=50)
        self._paused = False
        #: One note per server process that ended without ``kill()``: exit status and output.
        self.deaths: list[str] = []

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def url_with(self, user: str, password: str) -> str:
        return f"rtsp://{user}:{password}@127.0.0.1:{self.port}/cam"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start the server and wait for its READY line."""
        if self.running:
            raise RuntimeError("the RTSP server is already running")
        if not Path(SYSTEM_PYTHON).exists():
            raise RtspServerError(
                f"{SYSTEM_PYTHON} not found; the RTSP tests need Debian's python3 and: {INSTALL_HINT}"
            )
        self._output.clear()
        process = subprocess.Popen(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port), *self._args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._process = process
        ready = threading.Event()
        self._drainer = threading.Thread(target=self._drain, args=(process, ready), daemon=True)
        self._drainer.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                output = "\n".join(self._output) or "(no output)"
                raise RtspServerError(
                    f"the GStreamer RTSP test server did not start (exit {process.returncode}); "
                    f"CI installs it with: {INSTALL_HINT}\n{output}"
                )
        self._paused = False

    def _drain(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        # Keep reading so that GStreamer warnings never fill the pipe and block the server.
        assert process.stdout is not None
        for line in process.stdout:
            self._output.append(line.rstrip())
            if line.startswith("READY "):
                ready.set()

    def kill(self) -> None:
        """SIGKILL the server: every connection drops at once, like a camera losing power."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is not None:
            self.deaths.append(self._death_note(process.returncode))
        if self._paused:
            process.send_signal(signal.SIGCONT)  # a stopped process still dies, but be tidy
            self._paused = False
        process.kill()
        process.wait(timeout=10)

    def _death_note(self, returncode: int) -> str:
        if self._drainer is not None:
            self._drainer.join(timeout=5)  # the output up to the end, not a racing snapshot
        status = f"exit {returncode}"
        if returncode < 0:
            with contextlib.suppress(ValueError):
                status += f" ({signal.Signals(-returncode).name})"
        output = "\n".join(self._output) or "(no output)"
        return f"{status}; its last output:\n{output}"

    def _deaths_report(self) -> str | None:
        if not self.deaths:
            return None
        return f"the RTSP test server at {self.url} died on its own: " + "\n".join(self.deaths)

    def fail_if_it_died(self) -> None:
        """Kill the server; fail the test if a server process had ended on its own before."""
        self.kill()
        report = self._deaths_report()
        if report is not None:
            pytest.fail(report, pytrace=False)

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: connections stay open, but no frame (and no RTSP reply) is sent."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)
        self._paused = False

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        """Kill the server; a death on its own is an error (benchmark figures would be wrong)."""
        self.kill()
        report = self._deaths_report()
        if report is not None and exc_type is None:
            raise RtspServerError(report)


def start_rtsp_server(**kwargs: Any) -> RtspServer:
    """A started server; the test FAILS (never skips) when GStreamer is unavailable."""
    server = RtspServer(**kwargs)
    try:
        server.start()
    except RtspServerError as exc:
        failure = str(exc)
    else:
        return server
    pytest.fail(failure, pytrace=False)  # outside the except block: no chained traceback


@pytest.fixture
def rtsp_server() -> Iterator[RtspServer]:
    """A 640x360, 15 fps H.264 camera on a free loopback port, killed after the test."""
    server = start_rtsp_server()
    try:
        yield server
    finally:
        server.fail_if_it_died()


@dataclass(frozen=True, slots=True)
class Received:
    """What a test keeps of a packet: meta, shape and age, not the pixels (memory)."""

    meta: dict[str, Any]
    shape: tuple[int, ...]
    received_mono: float

    @property
    def age_at_receipt(self) -> float:
        return self.received_mono - float(self.meta["captured_mono"])


class SourceRunner:
    """Iterates ``source.run()`` on a thread, like the engine, and records what came out.

    ``work`` runs for every packet (a slow consumer sleeps there). ``error`` holds what
    ``run()`` raised. Always ``close()`` it: that stops the source and closes it.
    """

    def __init__(self, source: Source, work: Callable[[Packet], None] | None = None) -> None:
        self.source = source
        self.received: list[Received] = []
        self.error: BaseException | None = None
        self.finished_at: float | None = None
        self._work = work
        self._thread = threading.Thread(target=self._run, name=f"runner-{source.node_id}", daemon=True)

    def start(self) -> SourceRunner:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            for packet in self.source.run():
                self.received.append(
                    Received(dict(packet.meta), tuple(packet.payload.shape), time.monotonic())
                )
                if self._work is not None:
                    self._work(packet)
        except BaseException as exc:  # noqa: BLE001 - recorded for the test to assert on
            self.error = exc
        finally:
            self.finished_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def count(self) -> int:
        return len(self.received)

    def metric(self, name: str) -> int:
        return self.source.metrics()[name]

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Poll ``condition`` until it holds or ``timeout`` passes; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.02)
        return condition()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> float:
        """``stop()`` the source; seconds until ``run()`` returned (``inf`` if it did not)."""
        began = time.monotonic()
        self.source.stop()
        if not self.join(timeout):
            return float("inf")
        return time.monotonic() - began

    def close(self) -> None:
        self.source.stop()
        self.join(10.0)
        self.source.close()
