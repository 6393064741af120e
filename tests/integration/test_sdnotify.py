"""sd_notify over a real unix datagram socket, as systemd listens for it (Linux lane).

The socket lives under a short temporary directory: unix socket paths are limited to about
104 bytes on macOS and 108 on Linux, and pytest's tmp_path can be longer.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schnitzel_stream.runtime.inproc import Engine, EngineOptions
from schnitzel_stream.runtime.sdnotify import Notifier
from tests.unit.test_engine import make_graph


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="sd-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _listen(path: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(0.05)
    return server


def _messages(server: socket.socket, seconds: float) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got.append(server.recv(4096).decode())
        except TimeoutError:
            continue
    return got


@pytest.mark.parametrize(
    ("cls_name", "expect_pings"),
    [
        pytest.param("Backoff", True, id="backoff-counts-as-alive"),
        pytest.param("Hang", False, id="hang-withholds"),
    ],
)
def test_watchdog_pings_only_while_nodes_are_responsive(
    short_dir: Path, cls_name: str, expect_pings: bool
) -> None:
    sock_path = short_dir / "notify.sock"
    server = _listen(sock_path)
    graph = make_graph(
        [("src", "source", "Counter", {"count": 1}), ("node", "sink", cls_name, {"seconds": 30})],
        [("src", "node")],
    )
    # 0.4 s watchdog: pings every 0.2 s; a node stuck longer than 0.4 s withholds them.
    engine = Engine(
        graph, EngineOptions(drain_timeout=0.2, stop_grace=0.2), Notifier(str(sock_path), 400_000)
    )
    worker = threading.Thread(target=engine.run)
    worker.start()
    try:
        first = _messages(server, 0.5)
        later = _messages(server, 1.5)
    finally:
        engine.stop_requested = "SIGTERM"
        worker.join(5)
        server.close()
    assert any(m.startswith("READY=1") for m in first)
    pings = later.count("WATCHDOG=1")
    # Pings every 0.2 s for 1.5 s: a responsive graph sends about seven, a hung one none.
    assert (pings >= 5) is expect_pings, later
    assert (pings == 0) is not expect_pings, later


def test_notifier_sends_ready_watchdog_and_stopping_over_a_real_socket(short_dir: Path) -> None:
    path = short_dir / "n.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    assert notifier.watchdog_interval == 2.0
    notifier.ready("up")
    assert notifier.watchdog_due(0.0)
    notifier.watchdog(0.0)
    assert not notifier.watchdog_due(0.5)
    assert notifier.watchdog_due(1.0)
    notifier.stopping()
    got = [server.recv(100).decode() for _ in range(3)]
    notifier.close()
    server.close()
    assert got == ["READY=1\nSTATUS=up", "WATCHDOG=1", "STOPPING=1"]
