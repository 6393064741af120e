"""The JSONL sink on real files: lines, appending, rotation, fsync, forwarding, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schnitzel_stream.errors import NodeError
from schnitzel_stream.nodes.files import JsonlSink
from schnitzel_stream.packet import Packet


def _packet(n: int, **payload: Any) -> Packet:
    return Packet.new("event", "cam", {"n": n, **payload}, meta={"idempotency_key": f"cam:{n}"})


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_writes_one_full_packet_per_line_and_creates_parents(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "events.jsonl"
    sink = JsonlSink(node_id="out", config={"path": str(path)})
    packets = [_packet(n, text="Grüße ✓") for n in range(3)]
    for packet in packets:
        assert list(sink.process(packet)) == []
    sink.close()
    lines = _lines(path)
    assert lines == [p.to_dict() for p in packets]
    assert set(lines[0]) == {"packet_id", "ts", "kind", "source_id", "payload", "meta"}
    raw = path.read_bytes()
    assert raw.count(b"\n") == 3 and b"\r\n" not in raw
    assert sink.metrics() == {"lines": 3, "bytes": len(raw), "rotations": 0}


def test_lines_are_on_disk_before_close(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(node_id="out", config={"path": str(path)})
    sink.process(_packet(1))
    assert len(_lines(path)) == 1, "every line is flushed as it is written"
    sink.close()


def test_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    for n in range(2):
        sink = JsonlSink(node_id="out", config={"path": str(path)})
        sink.process(_packet(n))
        sink.close()
    assert [line["payload"]["n"] for line in _lines(path)] == [0, 1]


def test_rotation_keeps_rotate_keep_files_and_every_recent_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    line_size = len(_packet(0).to_json()) + 1
    sink = JsonlSink(
        node_id="out", config={"path": str(path), "rotate_max_bytes": 3 * line_size + 20, "rotate_keep": 2}
    )
    for n in range(14):
        sink.process(_packet(n))
    sink.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    numbers = [
        [line["payload"]["n"] for line in _lines(tmp_path / name)]
        for name in ("events.jsonl.2", "events.jsonl.1", "events.jsonl")
    ]
    assert numbers == [[6, 7, 8], [9, 10, 11], [12, 13]]
    assert all(p.stat().st_size <= 3 * line_size + 20 for p in tmp_path.iterdir())
    assert sink.metrics()["rotations"] == 4
    assert sink.metrics()["lines"] == 14


def test_rotation_counts_the_bytes_already_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"x" * 100 + b"\n")
    sink = JsonlSink(node_id="out", config={"path": str(path), "rotate_max_bytes": 120})
    sink.process(_packet(1))
    sink.close()
    assert (tmp_path / "events.jsonl.1").read_bytes() == b"x" * 100 + b"\n"
    assert [line["payload"]["n"] for line in _lines(path)] == [1]


def test_a_line_larger_than_the_limit_gets_a_file_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(node_id="out", config={"path": str(path), "rotate_max_bytes": 50})
    sink.process(_packet(1, blob="y" * 200))
    sink.process(_packet(2, blob="y" * 200))
    sink.close()
    assert [line["payload"]["n"] for line in _lines(path)] == [2]
    assert [line["payload"]["n"] for line in _lines(tmp_path / "events.jsonl.1")] == [1]


@pytest.mark.parametrize("fsync", [pytest.param(True, id="fsync"), pytest.param(False, id="flush-only")])
def test_fsync_modes_write_every_line(tmp_path: Path, fsync: bool) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(node_id="out", config={"path": str(path), "fsync": fsync, "rotate_max_bytes": 400})
    for n in range(10):
        sink.process(_packet(n))
        assert len(_lines(path)) >= 1
    sink.close()
    names = sorted(tmp_path.iterdir(), key=lambda p: p.name, reverse=True)
    assert sum(len(_lines(p)) for p in names) == 10
    assert sink.settings.fsync is fsync


def test_forward_passes_the_packet_on(tmp_path: Path) -> None:
    sink = JsonlSink(node_id="out", config={"path": str(tmp_path / "e.jsonl"), "forward": True})
    packet = _packet(1)
    assert list(sink.process(packet)) == [packet]
    sink.close()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(np.zeros((2, 2, 3), np.uint8), id="frame"),
        pytest.param({"x": float("nan")}, id="nan"),
        pytest.param(b"bytes", id="bytes"),
    ],
)
def test_non_portable_payload_is_a_node_error_naming_the_node(tmp_path: Path, payload: Any) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(node_id="archive", config={"path": str(path)})
    sink.process(_packet(1))
    with pytest.raises(NodeError, match=r"'archive' \(jsonl_sink\).*not JSON-portable") as caught:
        sink.process(Packet.new("frame", "cam", payload))
    assert caught.value.problems[0].code == "node.payload-not-portable"
    sink.close()
    assert len(_lines(path)) == 1, "nothing half-written after the error"
    assert sink.metrics()["lines"] == 1


def test_close_is_idempotent_and_a_later_write_reopens(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(node_id="out", config={"path": str(path)})
    sink.close()
    sink.process(_packet(1))
    sink.close()
    sink.close()
    assert len(_lines(path)) == 1
