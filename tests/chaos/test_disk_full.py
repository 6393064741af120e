"""Disk full: the queue's filesystem fills up, and later has room again.

The queue file lives on a real 16 MiB tmpfs (:class:`~tests.chaos._servers.SmallFilesystem`,
in a private mount namespace, so nothing is ever left mounted). The graph is a complete
durable lane, through the CLI:

    camera -> motion -> sqlite_queue_sink (forward) -> jsonl tap "committed" (normal disk)
    sqlite_queue_source -> jsonl_sink "delivered" (normal disk, forward) -> sqlite_queue_ack

Once events flow, the test fills the filesystem with a filler file, as another program
would, while the queue's WAL still has to grow. SQLite then fails every write with "database
or disk is full". Expected, for ``on_full: block`` and ``on_full: drop_oldest``:

- one clear error line naming the queue file and the condition, no traceback;
- the ``disk_full`` counter in the status lines and in the run report;
- the policy: ``block`` holds the producer (the queue sink's ``in`` stops moving while the
  camera keeps running). ``drop_oldest`` cannot drop anything here: on a real full disk
  SQLite needs free space to write the DELETE as well (it goes to the WAL first), so it
  waits like ``block`` instead of failing the node, and ``dropped_oldest`` counts only rows
  that were really deleted;
- no corruption (``PRAGMA integrity_check`` is ``ok``), and no silent loss: every committed
  event was delivered, is still queued, or was counted as dropped;
- when the filler file is deleted, the queue recovers by itself: new events are committed
  and delivered, without a restart.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.chaos._figures import Figures, scaled
from tests.chaos._servers import (
    NotifyListener,
    SmallFilesystem,
    Status,
    check_queue,
    latest_status,
    log_lines,
    start_chaos_cli,
    status_lines,
)

FS_SIZE_MB = 16
#: How long the test watches the full disk before it frees space: several watchdog periods.
HOLD_FULL_SEC = scaled(10, 3)
#: WatchdogSec of the pretend systemd unit: shorter than the time the disk stays full.
WATCHDOG_SEC = 2.0
#: Events captured after space returned that must be delivered: the lane works again.
DELIVERED_AFTER = 20


def _graph(tmp_path: Path, queue: Path, on_full: str) -> Path:
    graph = tmp_path / "disk_full.yaml"
    graph.write_text(
        f"""\
version: 2
nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config: {{width: 640, height: 360, fps: 15, frames: 0, realtime: true, loop: 150}}
  - {{id: motion, kind: node, plugin: motion_detector, config: {{downscale: 2}}}}
  - id: enqueue
    kind: node
    plugin: sqlite_queue_sink
    config: {{path: "{queue}", on_full: {on_full}, forward: true}}
  - {{id: committed, kind: sink, plugin: jsonl_sink, config: {{path: "${{state}}/committed.jsonl", fsync: true}}}}
  - {{id: dequeue, kind: source, plugin: sqlite_queue_source, config: {{path: "{queue}", follow: true}}}}
  - {{id: delivered, kind: node, plugin: jsonl_sink, config: {{path: "${{state}}/delivered.jsonl", forward: true}}}}
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{queue}"}}}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: enqueue}}
  - {{from: enqueue, to: committed}}
  - {{from: dequeue, to: delivered}}
  - {{from: delivered, to: ack}}
""",
        encoding="utf-8",
    )
    return graph


def _packets(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    # A line being written right now may be incomplete; it is read again next time.
    return [json.loads(line) for line in lines if line.endswith("}")]


def _keys(path: Path) -> list[str]:
    return [str(packet["meta"]["idempotency_key"]) for packet in _packets(path)]


def _captured_since(path: Path, wall: float) -> int:
    """Packets in ``path`` whose frame was captured at or after ``wall`` (Unix seconds)."""
    return sum(1 for packet in _packets(path) if datetime.fromisoformat(packet["ts"]).timestamp() >= wall)


def _stalled(statuses: list[Status], node: str, since_uptime: int) -> tuple[int, int]:
    """(change of ``node``'s ``in``, change of the camera's ``out``) over the status lines since then."""
    window = [status for status in statuses if status.uptime >= since_uptime]
    assert len(window) >= 2, "too few status lines while the disk was full"
    first, last = window[0], window[-1]
    return last.get(node, "in") - first.get(node, "in"), last.get("cam", "out") - first.get("cam", "out")


@pytest.mark.parametrize(
    "on_full",
    [pytest.param("block", id="block"), pytest.param("drop_oldest", id="drop_oldest")],
)
def test_a_full_disk_holds_the_queue_and_it_recovers_when_space_returns(
    tmp_path: Path, figures: Figures, on_full: Literal["block", "drop_oldest"]
) -> None:
    state = tmp_path / "state"
    report = tmp_path / "report.json"
    mount = tmp_path / "disk"
    queue = mount / "queue" / "events.sqlite3"
    with (
        NotifyListener(tmp_path / "notify.sock", WATCHDOG_SEC) as notify,
        SmallFilesystem(mount, FS_SIZE_MB) as disk,
    ):
        with start_chaos_cli(
            tmp_path,
            _graph(tmp_path, queue, on_full),
            "--report-json",
            str(report),
            prefix=disk.command_prefix(),
            env=notify.env,
        ) as proc:
            proc.wait_until(
                lambda: len(_keys(state / "delivered.jsonl")) >= 10, timeout=40, what="10 delivered events"
            )
            filled_at = time.monotonic()
            filler_bytes = disk.fill()
            proc.wait_until(
                lambda: bool(log_lines(proc.stderr(), "ERROR", "disk is full")),
                timeout=30,
                what="the disk-full error",
            )
            detected_sec = time.monotonic() - filled_at
            full_since = latest_status(proc.stderr())
            full_at = time.monotonic()
            assert proc.runs_for(HOLD_FULL_SEC), "the process exited on a full disk"
            queue_in, camera_out = _stalled(
                status_lines(proc.stderr()), "enqueue", full_since.uptime + 1 if full_since else 0
            )
            delivered_before = set(_keys(state / "delivered.jsonl"))

            disk.remove()
            freed_at, freed_wall = time.monotonic(), time.time()
            proc.wait_until(
                lambda: len(set(_keys(state / "delivered.jsonl")) - delivered_before) >= 1,
                timeout=30,
                what="a new delivery after space returned",
            )
            recovery_sec = time.monotonic() - freed_at
            proc.wait_until(
                lambda: _captured_since(state / "delivered.jsonl", freed_wall) >= DELIVERED_AFTER,
                timeout=30,
                what=f"{DELIVERED_AFTER} deliveries of events captured after space returned",
            )
            fresh_delivered = _captured_since(state / "delivered.jsonl", freed_wall)
            watchdog_gap = notify.longest_watchdog_gap(full_at, time.monotonic())
            finished = proc.stop(timeout=15)
        after = check_queue(queue, prefix=disk.command_prefix())
    integrity, queued = after.integrity, after.keys

    assert finished.returncode == 0, finished.describe()
    log = finished.stderr
    errors = log_lines(log, "ERROR", f"queue {queue}: the disk is full")
    metrics = json.loads(report.read_text(encoding="utf-8"))["nodes"]["enqueue"]["metrics"]
    committed = set(_keys(state / "committed.jsonl"))
    delivered = set(_keys(state / "delivered.jsonl"))
    unaccounted = committed - delivered - queued
    new_after_recovery = delivered - delivered_before

    figures.add("policy", on_full)
    figures.add("fs_mb", FS_SIZE_MB)
    figures.add("filler_mb", round(filler_bytes / 2**20, 1))
    figures.add("full_detected_sec", round(detected_sec, 2))
    figures.add("held_full_sec", HOLD_FULL_SEC)
    figures.add("queue_in_while_full", queue_in)
    figures.add("camera_out_while_full", camera_out)
    figures.add("disk_full", metrics["disk_full"])
    figures.add("dropped_oldest", metrics["dropped_oldest"])
    figures.add("watchdog_gap_max_sec", round(watchdog_gap, 2))
    figures.add("recovery_sec", round(recovery_sec, 2))
    figures.add("delivered_after_recovery", fresh_delivered)
    figures.add("error_lines", len(errors))
    figures.add("committed", len(committed))
    figures.add("delivered", len(delivered))
    figures.add("still_queued", len(queued))
    figures.add("unaccounted", len(unaccounted))
    figures.add("integrity", integrity)

    assert errors, f"no error line names {queue} and the full disk:\n{log}"
    # One per connection to the file (sink, source, ack) and episode, not one per retry.
    assert len(errors) <= 3, errors
    assert len(log_lines(log, "ERROR", "cannot delete rows to free space")) <= 1
    assert "Traceback" not in log, log
    assert metrics["disk_full"] >= 1, metrics
    assert any(status.get("enqueue", "disk_full") >= 1 for status in status_lines(log)), (
        "no disk_full in status"
    )
    # The producer is held: at most the packet in hand gets through, while the camera runs on.
    assert queue_in <= 1, f"the queue sink took {queue_in} packets on a full disk"
    assert camera_out >= 15, "the camera stopped too: the test did not see a running graph"
    assert log_lines(log, f"queue {queue} has room again; the producer continues")
    # Waiting for room is deliberate, not a hang: systemd's watchdog must not kill the process.
    assert watchdog_gap < WATCHDOG_SEC, f"no WATCHDOG=1 for {watchdog_gap:.1f}s around the full disk"
    assert not log_lines(log, "withholding watchdog ping"), log_lines(log, "watchdog")
    assert integrity == "ok"
    assert len(new_after_recovery) >= fresh_delivered >= DELIVERED_AFTER
    assert new_after_recovery <= committed, "delivered events that were never committed"
    # Nothing vanished: what is neither delivered nor queued was dropped, and counted.
    assert len(unaccounted) <= metrics["dropped_oldest"], sorted(unaccounted)[:5]
    if on_full == "block":
        assert metrics["dropped_oldest"] == 0
