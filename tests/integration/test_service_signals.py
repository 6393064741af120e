"""What a POSIX service manager sees: SIGHUP is a graceful stop, /healthz and the systemd
watchdog judge a hung node the same way, and on the journal stream every line carries its
syslog priority. Real processes, a real notify socket, a real stderr file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.test_observability import (
    ENV,
    REPO,
    _get,
    _graph,
    _jsonl_graph,
    _metrics,
    _start,
    _until,
    _value,
)
from tests.support.net import free_port


def test_healthz_and_the_watchdog_agree_on_a_hung_node(tmp_path: Path) -> None:
    port = free_port()
    notify = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(str(notify))
        manager.settimeout(0.2)
        graph = _graph(tmp_path, "{id: stuck, kind: sink, plugin: 'tests.support.nodes:Hang', config: {}}")
        env = {"NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "1000000"}
        args = (
            "run",
            str(graph),
            "--state-dir",
            str(tmp_path),
            "--metrics-addr",
            str(port),
            "--stop-timeout",
            "0.5",
        )
        with _start(tmp_path, *args, env=env) as proc:
            proc.wait_for_stderr(
                "withholding watchdog ping: node 'stuck' has been inside process()", timeout=30
            )
            status, body, _ = _get(f"http://127.0.0.1:{port}/healthz")
            answer = json.loads(body)
            assert status == 503, answer
            assert answer["status"] == "unhealthy"
            assert answer["reason"].startswith("node 'stuck' has been inside process() for")
            assert _value(_metrics(port), "schnitzel_stream_alive") == 0
            # Pings sent before the hang are already queued: drain them, then listen for 2.5 s
            # (more than two ping intervals): no WATCHDOG=1 may arrive while the node hangs.
            manager.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                while True:
                    manager.recv(4096)
            manager.settimeout(0.2)
            later: list[bytes] = []
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    later.append(manager.recv(4096))
            assert not any(b"WATCHDOG=1" in m for m in later), later
            assert proc.stop(timeout=10).returncode == 0


def test_sighup_stops_gracefully_and_closes_every_node(tmp_path: Path) -> None:
    graph = _jsonl_graph(tmp_path)
    report = tmp_path / "report.json"
    events = tmp_path / "events.jsonl"
    with _start(
        tmp_path, "run", str(graph), "--state-dir", str(tmp_path), "--report-json", str(report)
    ) as proc:
        _until("an event", lambda: events.exists() and events.stat().st_size > 0, proc)
        proc.popen.send_signal(signal.SIGHUP)
        finished = proc.wait(5)
    assert finished.returncode == 0, finished.describe()
    assert "stop requested (SIGHUP)" in finished.stderr
    run = json.loads(report.read_text(encoding="utf-8"))
    assert run["reason"] == "stopped"
    lines = events.read_text(encoding="utf-8").splitlines()
    assert run["nodes"]["events"]["in"] == len(lines) == run["nodes"]["events"]["delivery"]["delivered"]


def test_on_the_journal_stream_lines_carry_their_priority(tmp_path: Path) -> None:
    err = tmp_path / "stderr.txt"
    with err.open("w", encoding="utf-8") as handle:
        found = os.fstat(handle.fileno())
        graph = tmp_path / "bad.yaml"
        graph.write_text("version: 2\nnodes: []\nedges: 7\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "schnitzel_stream", "run", str(graph)],
            stderr=handle,
            stdout=subprocess.DEVNULL,
            env={**os.environ, **ENV, "JOURNAL_STREAM": f"{found.st_dev}:{found.st_ino}"},
            cwd=REPO,
            timeout=60,
            check=False,
        )
    assert done.returncode == 78
    lines = err.read_text(encoding="utf-8").splitlines()
    assert lines and all(line.startswith(("<3>", "<4>", "<6>")) for line in lines), lines
    assert lines[-1].startswith("<3>ERROR cli: ") and "invalid graph" in lines[-1]
    assert not any(line[3:7].isdigit() for line in lines)  # journald adds the time; we do not
