"""The watchdog: a node that hangs forever makes the runtime stop sending ``WATCHDOG=1``.

The runtime contract runs as a ``Type=notify`` service would: ``NOTIFY_SOCKET`` names a real
unix datagram socket that the test binds (under a short directory in /tmp, because socket
paths are limited to about 104 bytes), and ``WATCHDOG_USEC`` is 1 s, so a healthy runtime
pings every 0.5 s. The graph is a paced synthetic camera into the motion detector into a last
node: the camera's only object enters at frame 45 (3 s at 15 fps), so the last node gets its
first event after a healthy stretch.

- **hung**: the last node is ``tests.support.nodes:Hang`` with ``forever: true``; it never
  returns from ``process()``, not even when interrupted. The runtime must send ``READY=1``
  and pings while healthy, log that it withholds the ping once the node has been stuck for
  longer than the watchdog interval, and send no ping after that: systemd would kill and
  restart it. A graceful stop must still end it (exit 0), because a hung node cannot hold
  the stop sequence hostage.
- **hung, fused**: the same with ``tests.support.nodes:InlineHang``, which runs on the
  camera's thread (operator chaining): the watchdog still names the node that hangs.
- **healthy** (the control): the last node is ``tests.support.nodes:Collect``; pings go on for
  the whole observation, and nothing is withheld.
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

from tests.chaos._durable import REPO_ROOT
from tests.chaos._figures import Figures
from tests.support.proc import CliProcess, start_cli

WATCHDOG_USEC = 1_000_000
PING_EVERY = WATCHDOG_USEC / 1e6 / 2
#: How long the test listens after the hang was reported (or, in the control, after the same time).
QUIET_SEC = 3.0

GRAPH = """
version: 2
plugins: {{allow: [tests.support]}}
nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config:
      width: 320
      height: 180
      fps: 15
      frames: 0
      realtime: true
      objects: [{{id: box, x: 0, y: 60, w: 40, h: 40, dx: 4, dy: 0, enter: 45, color: [0, 0, 255]}}]
  - {{id: motion, kind: node, plugin: motion_detector}}
  - {{id: last, kind: sink, plugin: "tests.support.nodes:{last}", config: {{forever: true}}}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: last}}
"""


class _Listener:
    """A bound unix datagram socket that records every message with its arrival time."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.messages: list[tuple[float, str]] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            self.messages.append((time.monotonic(), data.decode("utf-8", "replace")))

    def first(self, prefix: str) -> float | None:
        return next((t for t, m in list(self.messages) if m.startswith(prefix)), None)

    def pings(self, start: float, end: float = float("inf")) -> int:
        return sum(1 for t, m in list(self.messages) if m == "WATCHDOG=1" and start <= t < end)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    short = Path(tempfile.mkdtemp(prefix="sd-", dir="/tmp"))
    notify = _Listener(short / "notify.sock")
    yield notify
    notify.close()
    shutil.rmtree(short, ignore_errors=True)


def _start(tmp_path: Path, socket_path: str, last: str) -> CliProcess:
    graph = tmp_path / "graph.yaml"
    graph.write_text(GRAPH.format(last=last), encoding="utf-8")
    env: dict[str, str | None] = {
        "NO_COLOR": "1",
        "PYTHONPATH": str(REPO_ROOT),
        "NOTIFY_SOCKET": socket_path,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "WATCHDOG_PID": None,
        "SCHNITZEL_STREAM_CONFIG_DIR": str(tmp_path / "config"),
        "SCHNITZEL_STREAM_LOGS_DIR": str(tmp_path / "logs"),
    }
    args = ("--graph", str(graph), "--state-dir", str(tmp_path / "state"))
    return start_cli(*args, log_dir=tmp_path / "proc", cwd=REPO_ROOT, env=env)


@pytest.mark.parametrize(
    ("last", "hangs"),
    [
        pytest.param("Hang", True, id="hung-node-stops-pings"),
        # InlineHang does not block on I/O by its spec, so it runs on the camera's thread,
        # fused after the motion detector: the watchdog must still name it.
        pytest.param("InlineHang", True, id="hung-fused-node-stops-pings"),
        pytest.param("Collect", False, id="healthy-graph-keeps-pinging"),
    ],
)
def test_watchdog_pings_stop_when_a_node_hangs(
    tmp_path: Path, listener: _Listener, figures: Figures, last: str, hangs: bool
) -> None:
    with _start(tmp_path, listener.path, last) as proc:
        proc.wait_until(lambda: listener.first("READY=1") is not None, timeout=60, what="READY=1")
        ready = listener.first("READY=1")
        assert ready is not None
        # The object enters 3 s after the camera starts; the watchdog notices 1 s later.
        if hangs:
            proc.wait_for_stderr("withholding watchdog ping", timeout=30)
        else:
            assert proc.runs_for(3.0 + WATCHDOG_USEC / 1e6 + 1.0), proc.stderr()
        mark = time.monotonic()
        assert proc.runs_for(QUIET_SEC), proc.stderr()
        quiet_end = time.monotonic()
        stopped = proc.stop()

    healthy_pings = listener.pings(ready, mark)
    later_pings = listener.pings(mark, quiet_end)
    figures.add("node", last)
    figures.add("pings_before", healthy_pings)
    figures.add("pings_in_last_3s", later_pings)
    figures.add("stop_seconds", round(stopped.seconds, 2))

    assert stopped.returncode == 0, stopped.describe()
    assert listener.first("STOPPING=1") is not None, listener.messages
    # While healthy it pings every 0.5 s: at least a few over the 3+ s before the hang.
    assert healthy_pings >= 3, listener.messages
    if hangs:
        assert "node 'last' has been inside process()" in stopped.stderr, stopped.stderr
        assert later_pings == 0, listener.messages
    else:
        assert "withholding" not in stopped.stderr, stopped.stderr
        # A responsive runtime sends ~6 in 3 s; half of that leaves room for a loaded machine.
        assert later_pings >= QUIET_SEC / PING_EVERY / 2, listener.messages
