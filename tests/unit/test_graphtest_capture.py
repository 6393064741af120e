"""Captured packets and their expectations: subset patterns, counts, schemas, deadlines.

The clock is injected, so nothing here depends on the machine's speed.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from schnitzel_stream.graphtest._capture import CaptureNode, Recorder
from schnitzel_stream.graphtest._match import describe, explain, matches, mismatch
from schnitzel_stream.graphtest._model import CountRange, Expectation
from schnitzel_stream.graphtest._payload_schema import SchemaFileError, load_payload_schema
from schnitzel_stream.packet import Packet


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def packet(payload: Any = None, kind: str = "event", source_id: str = "cam") -> Packet:
    return Packet.new(kind, source_id, payload)


# ---- patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "found"),
    [
        pytest.param({"a": 1}, {"a": 1, "b": 2}, None, id="more-keys-are-fine"),
        pytest.param({"a": {"b": 1}}, {"a": {"b": 1, "c": 3}}, None, id="nested"),
        pytest.param({"a": {"b": 1}}, {"a": {"c": 3}}, "a.b is missing", id="missing-nested-key"),
        pytest.param({"a": 1}, {"a": 2}, "a: expected 1, got 2", id="different-number"),
        pytest.param({"a": 1}, {"a": 1.0}, None, id="int-equals-float"),
        pytest.param({"a": 1}, {"a": True}, "a: expected 1, got true", id="int-is-not-bool"),
        pytest.param({"a": True}, {"a": 1}, "a: expected true, got 1", id="bool-is-not-int"),
        pytest.param({"a": "1"}, {"a": 1}, "a: expected '1', got 1", id="string-is-not-number"),
        pytest.param({"a": None}, {"a": None}, None, id="null"),
        pytest.param({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 0}]}, None, id="list-item-by-item"),
        pytest.param({"a": [1, 2]}, {"a": [1]}, "a: expected a list of 2, got a list of 1", id="list-length"),
        pytest.param({"a": [1, 2]}, {"a": [1, 3]}, "a[1]: expected 2, got 3", id="list-item"),
        pytest.param({"a": {"b": 1}}, {"a": 5}, "a: expected a mapping, got 5", id="mapping-vs-number"),
        pytest.param({"odd key": 1}, {"odd key": 2}, '["odd key"]: expected 1, got 2', id="quoted-key"),
    ],
)
def test_subset_patterns(pattern: dict[str, Any], value: dict[str, Any], found: str | None) -> None:
    result = mismatch(pattern, value)
    assert (explain(result) if result is not None else None) == found
    assert matches(pattern, value) is (found is None)


def test_a_frame_never_equals_anything_written_in_yaml() -> None:
    frame = np.zeros((2, 3, 3), dtype=np.uint8)
    assert not matches({"payload": 0}, {"payload": frame})
    assert not matches({"payload": [0, 0]}, {"payload": frame})
    assert describe(frame) == "ndarray shape=(2, 3, 3)"
    found = mismatch({"payload": 0}, {"payload": frame})
    assert found is not None and explain(found) == "payload: expected 0, got ndarray shape=(2, 3, 3)"


def test_long_strings_are_cut_in_messages() -> None:
    assert describe("x" * 500) == repr("x" * 77 + "...")


# ---- the recorder ----------------------------------------------------------------------------


def recorder(
    expectation: Expectation | None, clock: Clock | None = None, deadline: float = 1e9
) -> tuple[Recorder, list[int]]:
    decided: list[int] = []
    found = Recorder(
        "out",
        expectation,
        deadline=deadline,
        clock=clock or Clock(),
        on_decided=lambda: decided.append(1),
    )
    return found, decided


AT = ("cases", 0, "expect", "out")


def messages(rec: Recorder, *, stopped_early: bool = False) -> dict[str, str]:
    return {f.code: f.message for f in rec.findings(stopped_early=stopped_early)}


def test_counts_exact_and_ranges() -> None:
    for count, seen, ok in (
        (CountRange(2, 2, exact=True), 2, True),
        (CountRange(2, 2, exact=True), 1, False),
        (CountRange(1, None), 3, True),
        (CountRange(0, 2), 3, False),
    ):
        rec, _ = recorder(Expectation("out", AT, count=count))
        for _ in range(seen):
            rec.record(packet())
        assert ("expect.count" not in messages(rec)) is ok, (count, seen)
    rec, _ = recorder(Expectation("out", AT, count=CountRange(5, 9)))
    rec.record(packet())
    assert messages(rec)["expect.count"] == "expected between 5 and 9 packets at 'out'; saw 1"


def test_the_first_packet_too_many_decides_and_nothing_after_it_counts() -> None:
    rec, decided = recorder(Expectation("out", AT, count=CountRange(0, 2)))
    for _ in range(10):
        rec.record(packet())
    assert rec.seen == 3 and decided == [1]
    assert messages(rec, stopped_early=True)["expect.count"] == (
        "expected at most 2 packets at 'out'; the graph was stopped at packet #3"
    )


def test_all_any_none_name_the_packet_and_the_path() -> None:
    expectation = Expectation(
        "out", AT, all={"kind": "event"}, any={"payload": {"n": 9}}, none={"payload": {"n": 2}}
    )
    rec, decided = recorder(expectation)
    rec.record(packet({"n": 1}))
    rec.record(packet({"n": 2}, source_id="gate"))
    assert decided == [1]
    found = messages(rec)
    assert found["expect.none"] == "packet #2 (kind 'event', source_id 'gate') matches 'none'"
    assert found["expect.any"] == (
        "none of the 2 packets at 'out' matches 'any'; the first differs at payload.n: expected 9, got 1"
    )
    rec, _ = recorder(Expectation("out", AT, all={"kind": "event"}))
    rec.record(packet(kind="event"))
    rec.record(packet(kind="frame"))
    assert messages(rec)["expect.all"] == (
        "packet #2 (kind 'frame', source_id 'cam') does not match 'all': kind: expected 'event', got 'frame'"
    )


def test_all_and_none_hold_when_nothing_arrived_but_any_does_not() -> None:
    rec, _ = recorder(Expectation("out", AT, all={"kind": "x"}, none={"kind": "y"}, any={"kind": "z"}))
    assert messages(rec) == {"expect.any": "no packet reached 'out', so none matches 'any'"}


def test_after_an_early_stop_minimums_and_any_are_not_judged() -> None:
    rec, _ = recorder(Expectation("out", AT, count=CountRange(100, None), any={"kind": "z"}))
    rec.record(packet())
    assert messages(rec, stopped_early=True) == {}
    assert set(messages(rec)) == {"expect.count", "expect.any"}


def test_packets_after_the_deadline_are_not_counted() -> None:
    clock = Clock()
    rec, decided = recorder(Expectation("out", AT, count=CountRange(0, 1)), clock, deadline=clock.now + 5)
    rec.record(packet())
    clock.now += 5
    rec.record(packet())
    rec.record(packet())
    assert rec.seen == 1 and decided == []
    assert messages(rec) == {}


def test_the_schema_checks_every_payload(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"type": "object", "properties": {"n": {"type": "integer", "maximum": 3}}}))
    schema = load_payload_schema(path)
    rec, decided = recorder(Expectation("out", AT, schema=schema))
    rec.record(packet({"n": 1}))
    rec.record(packet({"n": 7}))
    assert decided == [1]
    message = messages(rec)["expect.schema"]
    assert message.startswith(
        f"the payload of packet #2 (kind 'event', source_id 'cam') does not match {path}: payload.n: "
    )
    assert "7" in message
    rec, _ = recorder(Expectation("out", AT, schema=schema))
    rec.record(packet(np.zeros((1, 1), dtype=np.uint8), kind="frame"))
    assert "the payload is not JSON (ndarray shape=(1, 1))" in messages(rec)["expect.schema"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            '{"type": "object", "$ref": "other.json"}', "may only refer inside itself", id="relative-ref"
        ),
        pytest.param(
            '{"$defs": {"a": {"$dynamicRef": "https://x/y"}}}',
            "may only refer inside itself",
            id="dynamic-ref",
        ),
        pytest.param('{"$schema": "https://evil.example/meta"}', r"unknown '\$schema'", id="unknown-dialect"),
        pytest.param('{"type": 7}', "is not a valid JSON Schema", id="not-a-schema"),
        pytest.param("[1, 2]", "does not hold a JSON Schema", id="a-list"),
        pytest.param("{", "is not valid JSON: Expecting property name", id="truncated"),
        pytest.param("\udcff", "is not UTF-8", id="not-utf8"),
    ],
)
def test_payload_schema_files_are_loaded_strictly(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(SchemaFileError, match=message):
        load_payload_schema(path)


def test_payload_schema_paths_that_are_not_files(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(SchemaFileError, match="not a regular file"):
        load_payload_schema(tmp_path / "dir.json")
    with pytest.raises(SchemaFileError, match="no such file"):
        load_payload_schema(tmp_path / "absent.json")
    with pytest.raises(SchemaFileError, match=r"ending in \.json"):
        load_payload_schema(tmp_path / "schema.yaml")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1 << 20) + b"{}")
    with pytest.raises(SchemaFileError, match="larger than 1 MiB"):
        load_payload_schema(big)


def test_memory_stays_flat_however_many_packets_arrive() -> None:
    expectation = Expectation(
        "out", AT, count=CountRange(0, None), all={"kind": "event"}, any={"kind": "nope"}, none={"kind": "x"}
    )
    rec, _ = recorder(expectation)
    one = packet({"n": 1})
    for _ in range(1_000):
        rec.record(one)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(50_000):
            rec.record(one)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rec.seen == 51_000
    assert after - before < 16_384


def test_a_captured_node_passes_packets_on_only_when_its_plugin_would() -> None:
    rec, _ = recorder(None)
    one = packet()
    assert list(CaptureNode(node_id="out", recorder=rec, passthrough=True).process(one)) == [one]
    assert list(CaptureNode(node_id="out", recorder=rec, passthrough=False).process(one)) == []
    assert rec.seen == 2
    assert CaptureNode(node_id="out", recorder=rec, passthrough=False).metrics() == {"captured": 2}
