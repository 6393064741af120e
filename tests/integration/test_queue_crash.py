"""SQLite crash safety: a writer process is killed hard, and everything it reported must survive.

Each round starts ``tests/support/queue_writer.py`` as a real process, lets it enqueue for a
random moment, and kills it without warning (``SIGKILL`` on POSIX; on Windows
``Popen.kill()`` is ``TerminateProcess``, just as abrupt). Then a consumer opens the file as
a service restart would: every packet the writer reported as committed must be there and be
delivered (lease + ack), even the rows the dead process had leased, and
``PRAGMA integrity_check`` must pass. Rounds run on the same file, acknowledging about half
of what they find, so rows also survive several crashes in a row.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from schnitzel_stream.state.sqlite_queue import SqliteQueue

WRITER = Path(__file__).resolve().parents[1] / "support" / "queue_writer.py"
ROUNDS = 4


def hard_kill(proc: subprocess.Popen[str]) -> None:
    """Kill without any chance to clean up: what a crash or ``kill -9`` does."""
    if sys.platform == "win32":
        proc.kill()  # TerminateProcess
    else:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


class _Lines:
    """Collects a child's stdout lines on a thread; only complete lines count."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._stream = proc.stdout
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self._stream:
            if not line.endswith("\n"):
                break  # cut off by the kill: its commit may have returned, but it was not reported
            self.lines.append(line.rstrip("\n"))
            if line == "ready\n":
                self.ready.set()

    def finish(self) -> list[str]:
        self._thread.join(10)
        self._stream.close()
        return self.lines


def _committed(lines: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in lines:
        word, _, rest = line.partition(" ")
        if word == "committed":
            seq, key = rest.split(" ")
            found[key] = int(seq)
    return found


def _deliver_all(path: Path) -> dict[str, int]:
    """Open as the restarted consumer and lease everything; returns key -> seq."""
    found: dict[str, int] = {}
    with SqliteQueue(path, consumer=True) as queue:
        while rows := queue.lease(500, lease_sec=60):
            for row in rows:
                assert row.key not in found, f"row {row.key} delivered twice in one pass"
                found[row.key] = row.seq
    return found


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        result = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    conn.close()
    return result


@pytest.mark.parametrize(
    "mode", [pytest.param("durable", id="commit-every-1"), pytest.param("group", id="group-commit")]
)
def test_reported_commits_survive_kill_9(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "queue.sqlite3"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    expected: dict[str, int] = {}  # committed and not yet acknowledged: must be delivered
    reported_total = 0
    for round_no in range(ROUNDS):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(path), "--mode", mode, "--round", str(round_no)],
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        lines = _Lines(proc)
        try:
            assert lines.ready.wait(20), f"writer did not start (seed {seed})"
            time.sleep(rng.uniform(0.03, 0.3))
        finally:
            hard_kill(proc)
        assert proc.returncode != 0, "the writer must have been killed, not finished"
        if sys.platform != "win32":
            assert proc.returncode == -signal.SIGKILL
        committed = _committed(lines.finish())
        reported_total += len(committed)
        expected.update(committed)

        delivered = _deliver_all(path)
        missing = {key: seq for key, seq in expected.items() if delivered.get(key) != seq}
        assert not missing, f"round {round_no} (seed {seed}): committed packets lost: {sorted(missing)[:10]}"
        assert _integrity(path) == "ok"

        # Acknowledge about half, as a consumer that delivered them would.
        done = [key for key in sorted(expected) if rng.random() < 0.5]
        with SqliteQueue(path, consumer=True) as queue:
            assert queue.ack_many(expected[key] for key in done) == len(done)
        for key in done:
            del expected[key]
    assert reported_total > 0, f"the writer never reported a commit (seed {seed})"
    assert set(_deliver_all(path)) >= set(expected)
