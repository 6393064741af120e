"""``schnitzel-stream queue stats|peek|purge`` as a real subprocess on real queue files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from schnitzel_stream.packet import Packet
from schnitzel_stream.state.sqlite_queue import QueueOptions, SqliteQueue


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "queue", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def event(index: int) -> Packet:
    return Packet.new(
        "event", "cam-1", {"index": index, "zone": "tür"}, meta={"idempotency_key": f"k-{index}"}
    )


def make_queue(path: Path, count: int, *, leased: int = 0) -> None:
    with SqliteQueue(path) as queue:
        queue.enqueue_many([event(i) for i in range(count)])
        queue.lease(leased, lease_sec=3600)


def snapshot(directory: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file in ``directory`` with its size, mtime and bytes: proof that nothing changed."""
    return {
        p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(directory.iterdir())
    }


def test_stats_prints_depth_bytes_in_flight_and_sizes(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    make_queue(path, 4, leased=1)
    before = snapshot(tmp_path)
    text = cli("stats", str(path), cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "depth      4 packets" in text.stdout
    assert "in flight  1 leased" in text.stdout
    as_json = cli("stats", str(path), "--format", "json", cwd=tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    sizes = sum(len(event(i).to_json().encode()) for i in range(4))
    assert (found["depth"], found["in_flight"], found["file_bytes"]) == (4, 1, path.stat().st_size)
    assert abs(found["bytes"] - sizes) <= 8  # packet ids differ by a byte or two
    assert found["oldest_age_sec"] >= 0 and found["wal_bytes"] == 0
    assert snapshot(tmp_path) == before, "stats must not create or change any file"


def test_stats_reads_a_queue_that_a_live_process_holds_open(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteQueue(path, QueueOptions(commit_every=100, commit_interval_ms=60_000)) as live:
        live.enqueue_many([event(i) for i in range(3)])
        live.flush()
        live.enqueue(event(3))  # uncommitted: not visible to anyone else yet
        result = cli("stats", str(path), "--format", "json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        found = json.loads(result.stdout)
        assert found["depth"] == 3 and found["wal_bytes"] > 0
    with SqliteQueue(path) as queue:
        assert queue.stats().depth == 4


def test_peek_shows_the_oldest_rows_without_leasing_them(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    make_queue(path, 5, leased=1)
    text = cli("peek", str(path), "--limit", "2", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[:2] == ["seq", "enqueued"]
    assert "leased" in lines[1] and "k-0" in lines[1]
    assert "ready" in lines[2] and "k-1" in lines[2]
    as_json = cli("peek", str(path), "--format", "json", cwd=tmp_path)
    rows = json.loads(as_json.stdout)
    assert [row["key"] for row in rows] == [f"k-{i}" for i in range(5)]
    assert rows[1]["packet"]["payload"] == {"index": 1, "zone": "tür"}
    assert [row["attempts"] for row in rows] == [1, 0, 0, 0, 0]
    with SqliteQueue(path) as queue:
        assert queue.count_in_flight() == 1


def test_peek_of_an_empty_queue_says_so(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    make_queue(path, 0)
    result = cli("peek", str(path), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "the queue is empty\n")


def test_purge_refuses_without_yes_and_removes_every_row_with_it(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    make_queue(path, 3, leased=2)
    refused = cli("purge", str(path), cwd=tmp_path)
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    with SqliteQueue(path) as queue:
        assert queue.stats().depth == 3
    done = cli("purge", str(path), "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"removed 3 packets from {path}\n"
    with SqliteQueue(path) as queue:
        assert queue.stats().depth == 0


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(["stats"], id="stats"),
        pytest.param(["peek"], id="peek"),
        pytest.param(["purge", "--yes"], id="purge"),
    ],
)
def test_a_missing_file_is_a_one_line_error(tmp_path: Path, action: list[str]) -> None:
    result = cli(action[0], str(tmp_path / "nope.db"), *action[1:], cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"error: no queue file at {tmp_path / 'nope.db'}"]
    assert list(tmp_path.iterdir()) == [], "nothing may be created"


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(["stats"], id="stats"),
        pytest.param(["peek"], id="peek"),
        pytest.param(["purge", "--yes"], id="purge"),
    ],
)
@pytest.mark.parametrize(
    "damage", [pytest.param("garbage", id="garbage"), pytest.param("truncated", id="truncated")]
)
def test_a_corrupt_file_is_a_one_line_error_and_stays_untouched(
    tmp_path: Path, action: list[str], damage: str
) -> None:
    path = tmp_path / "q.db"
    if damage == "garbage":
        path.write_bytes(b"\x00garbage" * 512)
    else:
        with SqliteQueue(path) as queue:
            queue.enqueue_many([event(i) for i in range(300)])
        with path.open("r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    before = snapshot(tmp_path)
    result = cli(action[0], str(path), *action[1:], cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: queue file {path} is corrupt"), result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before, "the CLI must never quarantine or change the file"


def test_a_database_that_is_not_a_queue_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    result = cli("stats", str(path), cwd=tmp_path)
    assert result.returncode == 1
    assert "not a schnitzel-stream queue" in result.stderr


def test_queue_help_lists_the_actions(tmp_path: Path) -> None:
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for action in ("stats", "peek", "purge"):
        assert action in result.stdout
    assert cli(cwd=tmp_path).returncode == 2


BOTH_SIDES = """
version: 2
nodes:
  - {id: events, kind: source, plugin: static_source, config: {repeat: 200, packets: [{kind: event, payload: {n: 1}}]}}
  - id: spool
    kind: sink
    plugin: sqlite_queue_sink
    config: {path: "${state}/queue.sqlite3", commit_every: 50, commit_interval_ms: 20}
  - {id: backlog, kind: source, plugin: sqlite_queue_source, config: {path: "${state}/queue.sqlite3", follow: true}}
  - {id: deliver, kind: node, plugin: jsonl_sink, config: {path: "${state}/delivered.jsonl", forward: true}}
  - {id: done, kind: sink, plugin: sqlite_queue_ack, config: {path: "${state}/queue.sqlite3", commit_every: 20}}
edges:
  - {from: events, to: spool}
  - {from: backlog, to: deliver}
  - {from: deliver, to: done}
"""

DRAIN = """
version: 2
nodes:
  - {id: backlog, kind: source, plugin: sqlite_queue_source, config: {path: "${state}/queue.sqlite3"}}
  - {id: deliver, kind: node, plugin: jsonl_sink, config: {path: "${state}/delivered.jsonl", forward: true}}
  - {id: done, kind: sink, plugin: sqlite_queue_ack, config: {path: "${state}/queue.sqlite3"}}
edges:
  - {from: backlog, to: deliver}
  - {from: deliver, to: done}
"""


def run_graph(tmp_path: Path, name: str, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    graph = tmp_path / name
    graph.write_text(text, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "schnitzel_stream",
            "run",
            str(graph),
            "--state-dir",
            str(tmp_path / "state"),
            *extra,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_one_graph_holds_both_sides_of_a_queue_and_the_next_run_drains_the_rest(tmp_path: Path) -> None:
    first = run_graph(tmp_path, "both.yaml", BOTH_SIDES, "--duration", "1")
    assert first.returncode == 0, first.stderr
    queue = tmp_path / "state" / "queue.sqlite3"
    stats = json.loads(cli("stats", str(queue), "--format", "json", cwd=tmp_path).stdout)
    delivered = tmp_path / "state" / "delivered.jsonl"
    first_lines = delivered.read_text(encoding="utf-8").splitlines()
    assert first_lines, first.stderr

    second = run_graph(tmp_path, "drain.yaml", DRAIN)
    assert second.returncode == 0, second.stderr
    keys = [
        json.loads(line)["meta"]["idempotency_key"]
        for line in delivered.read_text(encoding="utf-8").splitlines()
    ]
    # At least once: every produced packet arrived; a packet may come twice only if a stop
    # fell between its delivery and its acknowledgement.
    assert set(keys) == {f"events:{i}:0" for i in range(200)}
    assert len(keys) - len(set(keys)) <= stats["depth"]
    final = json.loads(cli("stats", str(queue), "--format", "json", cwd=tmp_path).stdout)
    assert (final["depth"], final["in_flight"]) == (0, 0)


def test_a_hand_edited_row_with_nan_and_an_impossible_time_is_still_listed_as_json(tmp_path: Path) -> None:
    """A queue file edited by hand (or damaged) can hold NaN in a payload and an infinite
    timestamp: peek must print valid JSON (no bare NaN) and not die on the time."""
    path = tmp_path / "q.db"
    make_queue(path, 2)
    with sqlite3.connect(path) as db:
        (stored,) = db.execute("SELECT packet FROM queue WHERE seq = 1").fetchone()
        db.execute("UPDATE queue SET packet = ? WHERE seq = 1", (stored.replace('"index":0', '"index":NaN'),))
        db.execute("UPDATE queue SET enqueued_at = ? WHERE seq = 2", (float("inf"),))
    db.close()

    def refuse(constant: str) -> None:
        raise AssertionError(f"bare {constant} in the output")

    done = cli("peek", str(path), "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = json.loads(done.stdout, parse_constant=refuse)
    assert first["packet"]["payload"]["index"] == "NaN"
    assert second["enqueued_at"] == "invalid time inf"
    text = cli("peek", str(path), cwd=tmp_path)
    assert text.returncode == 0 and "invalid time inf" in text.stdout and not text.stderr
