"""The queue nodes on real files: sink, source and ack together, follow mode, errors, specs."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from schnitzel_stream.errors import NodeError
from schnitzel_stream.nodes import registry
from schnitzel_stream.nodes.durable_sqlite import (
    SPECS,
    SqliteQueueAckSink,
    SqliteQueueSink,
    SqliteQueueSource,
)
from schnitzel_stream.packet import Packet


def event(index: int) -> Packet:
    return Packet.new("event", "cam-1", {"index": index}, meta={"idempotency_key": f"k-{index}"})


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


class Consumer:
    """Runs a source's ``run()`` on its own thread, as the engine does, collecting packets."""

    def __init__(self, source: SqliteQueueSource) -> None:
        self.source = source
        self.packets: list[Packet] = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for packet in self.source.run():
                self.packets.append(packet)
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            self.errors.append(exc)

    def stop(self) -> float:
        """Stop the source; returns how long ``run()`` took to end."""
        started = time.monotonic()
        self.source.stop()
        self.thread.join(5)
        assert not self.thread.is_alive(), "run() did not end after stop()"
        return time.monotonic() - started


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Build queue nodes on one file and close them all at the end, as the engine does."""
    built: list[SqliteQueueSink | SqliteQueueSource | SqliteQueueAckSink] = []
    path = str(tmp_path / "queue" / "events.sqlite3")

    def make(cls: type[Any], node_id: str, **config: Any) -> Any:
        node = cls(node_id=node_id, config={"path": path, **config})
        built.append(node)
        return node

    yield make
    for node in built:
        node.close()


def test_sink_source_and_ack_move_packets_through_one_file(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "q-in", forward=True)
    sent = [event(i) for i in range(5)]
    forwarded = [out for packet in sent for out in sink.process(packet)]
    assert [p.meta["durable"]["queue"] for p in forwarded] == ["sqlite"] * 5
    assert [p.meta["durable"]["node_id"] for p in forwarded] == ["q-in"] * 5
    assert all(p.meta["durable"]["path"].endswith("events.sqlite3") for p in forwarded)
    # The original packet is left untouched: forward adds meta on a copy.
    assert "durable" not in sent[0].meta

    source: SqliteQueueSource = nodes(SqliteQueueSource, "q-out", limit=2)
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "q-ack")
    received = list(source.run())
    assert [p.payload for p in received] == [p.payload for p in sent]
    assert [p.meta["idempotency_key"] for p in received] == [f"k-{i}" for i in range(5)]
    assert [p.meta["durable"]["seq"] for p in received] == [p.meta["durable"]["seq"] for p in forwarded]
    assert {p.meta["durable"]["node_id"] for p in received} == {"q-out"}
    assert source.metrics()["in_flight"] == 5
    for packet in received:
        assert list(ack.process(packet)) == []
    metrics = ack.metrics()
    assert (metrics["depth"], metrics["acked"], metrics["ack_already_gone"]) == (0, 5, 0)


def test_ack_forward_passes_the_packet_on(nodes: Callable[..., Any]) -> None:
    nodes(SqliteQueueSink, "in").process(event(1))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out")
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "ack", forward=True)
    (packet,) = list(source.run())
    assert list(ack.process(packet)) == [packet]
    assert list(ack.process(packet)) == [packet]
    assert ack.metrics()["ack_already_gone"] == 1


def test_a_custom_meta_key_travels_from_source_to_ack(nodes: Callable[..., Any]) -> None:
    nodes(SqliteQueueSink, "in").process(event(1))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out", meta_key="q1")
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "ack", meta_key="q1")
    (packet,) = list(source.run())
    assert "durable" not in packet.meta
    ack.process(packet)
    assert ack.metrics()["depth"] == 0


def test_ack_without_queue_meta_is_a_clear_node_error(nodes: Callable[..., Any]) -> None:
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "acker")
    with pytest.raises(NodeError, match=r"node 'acker' \(sqlite_queue_ack\).*meta\['durable'\]\.seq"):
        ack.process(event(1))


def test_ack_of_a_packet_from_another_queue_is_refused(nodes: Callable[..., Any], tmp_path: Path) -> None:
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "acker")
    foreign = event(1).with_meta(durable={"queue": "sqlite", "path": str(tmp_path / "other.db"), "seq": 1})
    with pytest.raises(NodeError, match=r"came from queue .*other\.db"):
        ack.process(foreign)


def test_sink_refuses_a_payload_that_is_not_json(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "q-in")
    with pytest.raises(NodeError, match=r"node 'q-in' \(sqlite_queue_sink\).*not JSON-portable"):
        sink.process(Packet.new("frame", "cam", object()))


def test_drain_delivers_each_row_once_even_without_acks(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in")
    for i in range(7):
        sink.process(event(i))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out", limit=3, lease_sec=0.01)
    time.sleep(0.02)
    assert [p.payload["index"] for p in source.run()] == list(range(7))


def test_follow_picks_up_rows_enqueued_later_and_stops_promptly(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "cam-queue")
    source: SqliteQueueSource = nodes(SqliteQueueSource, "uplink", follow=True, poll_interval_ms=20)
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "ack")
    consumer = Consumer(source)
    for i in range(3):
        sink.process(event(i))
    assert wait_until(lambda: len(consumer.packets) == 3)
    time.sleep(0.1)
    assert consumer.thread.is_alive(), "follow mode keeps running when the queue is empty"
    sink.process(event(3))
    assert wait_until(lambda: len(consumer.packets) == 4)
    for packet in consumer.packets:
        ack.process(packet)
    assert consumer.stop() < 1.0
    assert consumer.errors == []
    assert [p.payload["index"] for p in consumer.packets] == [0, 1, 2, 3]
    assert ack.metrics()["depth"] == 0


def test_follow_keeps_at_most_limit_rows_in_flight(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in")
    for i in range(12):
        sink.process(event(i))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out", follow=True, limit=5, poll_interval_ms=10)
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "ack", commit_every=4, commit_interval_ms=20)
    consumer = Consumer(source)
    try:
        assert wait_until(lambda: len(consumer.packets) == 5)
        time.sleep(0.15)
        assert len(consumer.packets) == 5, "no more than limit rows may be in flight"
        for packet in list(consumer.packets):
            ack.process(packet)
        assert wait_until(lambda: len(consumer.packets) == 10)
    finally:
        consumer.stop()
    assert [p.payload["index"] for p in consumer.packets] == list(range(10))


def test_follow_delivers_a_row_again_when_its_lease_expires(nodes: Callable[..., Any]) -> None:
    nodes(SqliteQueueSink, "in").process(event(1))
    source: SqliteQueueSource = nodes(
        SqliteQueueSource, "out", follow=True, lease_sec=0.1, poll_interval_ms=10
    )
    consumer = Consumer(source)
    try:
        assert wait_until(lambda: len(consumer.packets) >= 2)
    finally:
        consumer.stop()
    first, second = consumer.packets[:2]
    assert first.meta["durable"]["seq"] == second.meta["durable"]["seq"]
    assert first.meta["idempotency_key"] == second.meta["idempotency_key"]
    assert source.metrics()["redelivered"] >= 1


def test_delete_on_emit_removes_rows_as_they_leave_and_warns(
    nodes: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="schnitzel_stream.queue")
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in")
    for i in range(3):
        sink.process(event(i))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "legacy", delete_on_emit=True)
    assert len(list(source.run())) == 3
    assert source.metrics()["depth"] == 0
    assert any("delete_on_emit is deprecated" in r.getMessage() for r in caplog.records)


def test_a_sink_blocked_on_a_full_queue_returns_when_interrupted(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in", max_rows=1, on_full="block")
    sink.process(event(0))
    outcome: list[object] = []
    worker = threading.Thread(target=lambda: outcome.append(list(sink.process(event(1)))), daemon=True)
    worker.start()
    time.sleep(0.1)
    assert worker.is_alive(), "block waits for room"
    sink.interrupt()
    worker.join(2)
    assert outcome == [[]]
    assert sink.metrics()["not_accepted"] == 1
    assert sink.metrics()["depth"] == 1


def test_a_sink_with_drop_oldest_keeps_the_newest(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in", max_rows=2, on_full="drop_oldest")
    for i in range(5):
        sink.process(event(i))
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out")
    assert [p.payload["index"] for p in source.run()] == [3, 4]
    assert sink.metrics()["dropped_oldest"] == 3


def test_nodes_built_on_one_thread_run_on_others(nodes: Callable[..., Any]) -> None:
    sink: SqliteQueueSink = nodes(SqliteQueueSink, "in", commit_every=10, commit_interval_ms=20)
    ack: SqliteQueueAckSink = nodes(SqliteQueueAckSink, "ack")
    source: SqliteQueueSource = nodes(SqliteQueueSource, "out", follow=True, poll_interval_ms=10)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            for i in range(50):
                sink.process(event(i))
        except BaseException as exc:  # noqa: BLE001 - the thread's failure must reach the test
            errors.append(exc)

    consumer = Consumer(source)
    producer = threading.Thread(target=produce)
    producer.start()
    producer.join(10)
    assert wait_until(lambda: len(consumer.packets) == 50)
    acker = threading.Thread(target=lambda: [ack.process(p) for p in consumer.packets])
    acker.start()
    acker.join(10)
    consumer.stop()
    assert errors == [] and consumer.errors == []
    assert [p.payload["index"] for p in consumer.packets] == list(range(50))
    assert ack.metrics()["depth"] == 0


# -- specs --------------------------------------------------------------------------------


def test_specs_are_registered_under_short_names_and_targets() -> None:
    by_name = {spec.name: spec for spec in SPECS}
    assert set(by_name) == {"sqlite_queue_sink", "sqlite_queue_source", "sqlite_queue_ack"}
    for cls in (SqliteQueueSink, SqliteQueueSource, SqliteQueueAckSink):
        spec = cls.SPEC
        assert spec is not None and spec.portable
        assert registry.resolve(spec.name).spec is spec
        assert registry.resolve(spec.target).spec is spec
        assert registry.node_class(spec) is cls
    assert by_name["sqlite_queue_source"].roles == frozenset({"source"})
    assert by_name["sqlite_queue_ack"].roles == frozenset({"sink", "node"})


@pytest.mark.parametrize("spec", [pytest.param(spec, id=spec.name) for spec in SPECS])
def test_schemas_are_valid_documented_and_closed(spec: Any) -> None:
    schema = spec.schema
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for example in schema["examples"]:
        validator.validate(example)
    assert schema["additionalProperties"] is False
    assert not validator.is_valid({"path": "q.db", "unknown_key": 1})
    assert not validator.is_valid({})
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description") and prop.get("examples"), name
        assert name == "path" or "default" in prop, name


def test_reading_the_specs_does_not_load_sqlite() -> None:
    # validate imports every node module for its SPECS; the queue nodes load sqlite3 only
    # when one is built.
    code = "import sys, schnitzel_stream.nodes.durable_sqlite; print('sqlite3' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout.strip()) == (0, "False"), result.stderr
