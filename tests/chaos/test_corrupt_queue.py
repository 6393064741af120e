"""A corrupt queue file at start: moved aside, reported, kept; the service runs on a fresh queue.

Two kinds of damage sit at the queue path when the durable graph starts through the CLI:

- ``garbage``: 64 KiB of random bytes, not an SQLite file at all;
- ``truncated``: a real queue that an earlier run of the product filled with events, cut to
  60 % of its size (as a full disk or a bad copy leaves it).

Expected: the file is moved to ``<path>.corrupt-<UTC timestamp>`` byte for byte, one error
line names both paths, the run report counts ``quarantined: 1``, and the service does not
crash-loop: it starts on a fresh, healthy queue and delivers events.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml

from tests.chaos._figures import Figures
from tests.chaos._servers import check_queue, log_lines, start_chaos_cli

DELIVERED = 10
QUARANTINED_NAME = re.compile(r"^events\.sqlite3\.corrupt-\d{8}T\d{6}Z(-\d+)?$")
Damage = Literal["garbage", "truncated"]


def _graph(tmp_path: Path, *, consumer: bool = True, frames: int = 0) -> Path:
    """The durable lane into a JSONL file; without ``consumer`` only the producing half."""
    queue = "${state}/queues/events.sqlite3"
    camera = {"width": 640, "height": 360, "fps": 15, "frames": frames, "realtime": consumer, "loop": 150}
    nodes: list[dict[str, Any]] = [
        {"id": "cam", "kind": "source", "plugin": "synthetic_camera", "config": camera},
        {"id": "motion", "kind": "node", "plugin": "motion_detector", "config": {"downscale": 2}},
        {"id": "enqueue", "kind": "sink", "plugin": "sqlite_queue_sink", "config": {"path": queue}},
    ]
    edges = [{"from": "cam", "to": "motion"}, {"from": "motion", "to": "enqueue"}]
    if consumer:
        delivered = {"path": "${state}/delivered.jsonl", "forward": True}
        nodes += [
            {
                "id": "dequeue",
                "kind": "source",
                "plugin": "sqlite_queue_source",
                "config": {"path": queue, "follow": True},
            },
            {"id": "delivered", "kind": "node", "plugin": "jsonl_sink", "config": delivered},
            {"id": "ack", "kind": "sink", "plugin": "sqlite_queue_ack", "config": {"path": queue}},
        ]
        edges += [{"from": "dequeue", "to": "delivered"}, {"from": "delivered", "to": "ack"}]
    graph = tmp_path / ("durable.yaml" if consumer else "producer.yaml")
    graph.write_text(
        yaml.safe_dump({"version": 2, "nodes": nodes, "edges": edges}, sort_keys=False), encoding="utf-8"
    )
    return graph


def _damage(tmp_path: Path, queue: Path, damage: Damage) -> bytes:
    """Put a damaged file at ``queue``; returns its bytes."""
    queue.parent.mkdir(parents=True, exist_ok=True)
    if damage == "garbage":
        data = random.Random(6).randbytes(64 * 1024)
    else:
        # A real queue, written by the product itself: a producer-only run of 150 frames.
        with start_chaos_cli(
            tmp_path, _graph(tmp_path, consumer=False, frames=150), name="first-run"
        ) as first:
            done = first.wait(timeout=60)
        assert done.returncode == 0, done.describe()
        assert not Path(f"{queue}-wal").exists(), "the first run left a WAL behind"
        whole = queue.read_bytes()
        assert len(whole) > 16 * 1024, "the first run queued too little to cut"
        data = whole[: len(whole) * 6 // 10]
    queue.write_bytes(data)
    return data


@pytest.mark.parametrize(
    "damage", [pytest.param("garbage", id="garbage"), pytest.param("truncated", id="truncated")]
)
def test_a_corrupt_queue_is_quarantined_and_the_service_starts_fresh(
    tmp_path: Path, figures: Figures, damage: Damage
) -> None:
    state = tmp_path / "state"
    queue = state / "queues" / "events.sqlite3"
    report = tmp_path / "report.json"
    bad = _damage(tmp_path, queue, damage)
    delivered = state / "delivered.jsonl"

    def deliveries() -> int:
        return len(delivered.read_text(encoding="utf-8").splitlines()) if delivered.exists() else 0

    started = time.monotonic()
    with start_chaos_cli(tmp_path, _graph(tmp_path), "--report-json", str(report)) as proc:
        proc.wait_until(lambda: deliveries() >= 1, timeout=40, what="a first delivery")
        first_delivery_sec = time.monotonic() - started
        proc.wait_until(lambda: deliveries() >= DELIVERED, timeout=30, what=f"{DELIVERED} deliveries")
        finished = proc.stop(timeout=10)

    assert finished.returncode == 0, finished.describe()
    kept = sorted(path for path in queue.parent.iterdir() if QUARANTINED_NAME.match(path.name))
    assert len(kept) == 1, sorted(path.name for path in queue.parent.iterdir())
    moved = kept[0]
    errors = log_lines(finished.stderr, "ERROR", "is corrupt")
    nodes = json.loads(report.read_text(encoding="utf-8"))["nodes"]
    quarantined = {node: info["metrics"].get("quarantined", 0) for node, info in nodes.items()}
    fresh = check_queue(queue)

    figures.add("damage", damage)
    figures.add("bad_file_bytes", len(bad))
    figures.add("moved_to", moved.name)
    figures.add("first_delivery_sec", round(first_delivery_sec, 2))
    figures.add("delivered", deliveries())
    figures.add("quarantined", sum(quarantined.values()))
    figures.add("fresh_integrity", fresh.integrity)

    assert len(errors) == 1, f"expected one error line about the corrupt file:\n{finished.stderr}"
    assert str(queue) in errors[0] and str(moved) in errors[0], errors[0]
    assert "Traceback" not in finished.stderr, finished.stderr
    assert hashlib.sha256(moved.read_bytes()).digest() == hashlib.sha256(bad).digest(), (
        "the kept file changed"
    )
    assert sum(quarantined.values()) == 1, quarantined
    assert fresh.integrity == "ok"
    assert deliveries() >= DELIVERED
