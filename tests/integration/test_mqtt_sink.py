"""``mqtt_sink`` against a real mosquitto broker and a real paho subscriber.

Every broker is a ``mosquitto`` process of its own on a free 127.0.0.1 port
(``tests/support/mqtt.py``). Backoff values are small so that the file stays fast.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from schnitzel_stream.errors import ConfigError, DeliveryError
from schnitzel_stream.nodes.mqtt import MqttSink
from schnitzel_stream.packet import Packet
from tests.support.net import free_port

if TYPE_CHECKING:
    from tests.support.mqtt import MosquittoBroker, Subscriber

# Loaded as a plugin, not imported above: pytest must import it first to rewrite its asserts.
pytest_plugins = ["tests.support.mqtt"]

StartSubscriber = Callable[..., "Subscriber"]
MakeSink = Callable[..., MqttSink]
TOPIC = "sites/{site}/cameras/{source_id}/events"


def event(n: int, *, source_id: str = "cam-1", durable: bool = False) -> Packet:
    meta: dict[str, Any] = {"idempotency_key": f"evt-{n}"}
    if durable:
        meta["durable"] = {"queue": "sqlite", "seq": n}
    return Packet.new("event", source_id, {"n": n, "zone": "gate"}, meta=meta)


def credentials(broker: MosquittoBroker) -> tuple[str, str]:
    assert broker.users
    return next(iter(broker.users.items()))


@pytest.fixture
def make_sink() -> Iterator[MakeSink]:
    """Build sinks that are closed after the test, whatever happens."""
    sinks: list[MqttSink] = []

    def build(url: str, node_id: str = "out", **config: Any) -> MqttSink:
        config.setdefault("topic", TOPIC)
        config.setdefault("topic_vars", {"site": "north"})
        config.setdefault("publish_timeout_sec", 3.0)
        config.setdefault("reconnect_backoff_sec", 0.05)
        config.setdefault("reconnect_backoff_max_sec", 0.5)
        sink = MqttSink(node_id=node_id, config={"url": url, **config})
        sinks.append(sink)
        return sink

    yield build
    for sink in sinks:
        sink.close()


@pytest.mark.parametrize(
    ("qos", "body"),
    [
        pytest.param(0, "payload", id="qos0-payload"),
        pytest.param(1, "payload", id="qos1-payload"),
        pytest.param(1, "packet", id="qos1-packet"),
    ],
)
def test_publishes_json_on_the_templated_topic(
    mosquitto: MosquittoBroker, mqtt_subscriber: StartSubscriber, make_sink: MakeSink, qos: int, body: str
) -> None:
    sub = mqtt_subscriber(mosquitto, "sites/#")
    sink = make_sink(mosquitto.url, qos=qos, body=body, forward=True)
    packets = [event(n, source_id=f"cam-{n}") for n in range(3)]
    forwarded = [out for packet in packets for out in sink.process(packet)]
    received = sub.wait_for(3)

    assert forwarded == packets
    assert sorted(m.topic for m in received) == [f"sites/north/cameras/cam-{n}/events" for n in range(3)]
    assert {m.qos for m in received} == {qos}
    by_key = {m.user_properties["idempotency-key"]: m for m in received}
    assert set(by_key) == {"evt-0", "evt-1", "evt-2"}
    doc = by_key["evt-1"].json()
    if body == "payload":
        assert doc == {"n": 1, "zone": "gate"}
    else:
        assert doc["payload"] == {"n": 1, "zone": "gate"}
        assert doc["meta"]["idempotency_key"] == "evt-1"
        assert (doc["kind"], doc["source_id"], doc["packet_id"]) == ("event", "cam-1", packets[1].packet_id)
    metrics = sink.metrics()
    assert (metrics["published"], metrics["acked"], metrics["failures"]) == (3, 3 if qos else 0, 0)
    assert metrics["connected"] == 1


def test_packet_body_carries_the_packet_id_when_there_is_no_idempotency_key(
    mosquitto: MosquittoBroker, mqtt_subscriber: StartSubscriber, make_sink: MakeSink
) -> None:
    sub = mqtt_subscriber(mosquitto, "sites/#")
    sink = make_sink(mosquitto.url, body="packet")
    packet = Packet.new("event", "cam-9", {"n": 1})
    sink.process(packet)
    (message,) = sub.wait_for(1)
    assert message.json()["meta"]["idempotency_key"] == packet.packet_id
    assert message.user_properties["idempotency-key"] == packet.packet_id
    assert "idempotency_key" not in packet.meta  # the sink does not change the packet it forwards


def test_mqttv311_publishes_a_retained_message(
    mosquitto: MosquittoBroker, mqtt_subscriber: StartSubscriber, make_sink: MakeSink
) -> None:
    sink = make_sink(mosquitto.url, protocol="mqttv311", retain=True, topic="status/{source_id}")
    assert list(sink.process(event(1))) == []  # forward is off by default
    # A subscriber that arrives afterwards still gets the retained message.
    (message,) = mqtt_subscriber(mosquitto, "status/#").wait_for(1)
    assert (message.topic, message.retain, message.json()) == ("status/cam-1", True, {"n": 1, "zone": "gate"})
    assert message.user_properties == {}  # MQTT 3.1.1 has no properties


def test_missing_topic_placeholder_is_a_clear_error(mosquitto: MosquittoBroker, make_sink: MakeSink) -> None:
    sink = make_sink(mosquitto.url, topic="sites/{site}/{payload.camera}", on_failure="error")
    with pytest.raises(DeliveryError) as caught:
        sink.process(event(1))
    assert "{payload.camera}" in str(caught.value)
    assert "no payload key 'camera'" in str(caught.value)


def test_a_packet_that_cannot_fill_the_topic_goes_to_the_dead_letters_behind_a_queue(
    mosquitto: MosquittoBroker, make_sink: MakeSink
) -> None:
    """Retrying can never fill the topic: raising would crash-loop on the same queued packet."""
    sink = make_sink(mosquitto.url, topic="sites/{site}/{payload.camera}", forward=True)
    queued = event(1, durable=True)
    out = list(sink.process(queued))
    assert len(out) == 1
    assert "no payload key 'camera'" in out[0].meta["rejected"]["reason"]
    assert sink.metrics()["dead_lettered"] == 1
    live = list(sink.process(event(2)))
    assert live == []
    assert sink.metrics()["dropped"] == 1


def test_broker_restart_loses_nothing_that_was_forwarded(
    mosquitto: MosquittoBroker, mqtt_subscriber: StartSubscriber, make_sink: MakeSink
) -> None:
    """Stop the broker mid-stream and start it again: every forwarded packet arrives; forwarded + kept = N."""
    total = 120
    sub = mqtt_subscriber(mosquitto, "sites/#", client_id="persistent-sub", persistent=True)
    sink = make_sink(
        mosquitto.url, qos=1, forward=True, body="packet", on_failure="keep", publish_timeout_sec=0.6
    )
    forwarded: list[str] = []
    kept: list[str] = []
    reached_40 = threading.Event()

    def restart() -> None:
        # Stop while the sink is publishing, so a message can be in flight when the connection
        # drops, and stay down longer than publish_timeout_sec, so some packets must be kept.
        reached_40.wait(10)
        mosquitto.stop()
        time.sleep(1.5)
        mosquitto.start()

    restarter = threading.Thread(target=restart)
    restarter.start()
    try:
        for n in range(total):
            packet = event(n, durable=True)
            out = list(sink.process(packet))
            (forwarded if out else kept).append(packet.idempotency_key)
            if len(forwarded) >= 40:
                reached_40.set()
                time.sleep(0.005)  # pace the rest, so the stream is still running when the broker stops
    finally:
        # Even on failure: the fixture must not stop the broker before the restarter starts it.
        reached_40.set()
        restarter.join()

    def keys(messages: list[Any]) -> set[str]:
        return {m.json()["meta"]["idempotency_key"] for m in messages}

    received = keys(sub.wait_until(lambda got: set(forwarded) <= keys(got), timeout=8.0))
    assert len(forwarded) + len(kept) == total
    assert kept, "the outage was longer than publish_timeout_sec, so some packets must have been kept"
    assert set(forwarded) <= received, f"lost: {sorted(set(forwarded) - received)}"
    metrics = sink.metrics()
    assert metrics["kept"] == len(kept) == metrics["failures"]
    assert metrics["acked"] == metrics["published"] == len(forwarded)
    assert (metrics["disconnects"], metrics["reconnects"], metrics["dropped"]) == (1, 1, 0)


def test_credentials_from_the_environment(
    mosquitto_auth: MosquittoBroker,
    mqtt_subscriber: StartSubscriber,
    make_sink: MakeSink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    user, password = credentials(mosquitto_auth)
    monkeypatch.setenv("TEST_MQTT_USER", user)
    monkeypatch.setenv("TEST_MQTT_PASSWORD", password)
    sub = mqtt_subscriber(mosquitto_auth, "sites/#", username=user, password=password)
    sink = make_sink(
        mosquitto_auth.url, username_from_env="TEST_MQTT_USER", password_from_env="TEST_MQTT_PASSWORD"
    )
    sink.process(event(1))
    (message,) = sub.wait_for(1)
    assert message.json() == {"n": 1, "zone": "gate"}
    assert "connected to" in caplog.text
    assert password not in caplog.text


@pytest.mark.parametrize(
    "where",
    [
        pytest.param("env", id="password-from-env"),
        pytest.param("env-mqttv311", id="password-from-env-mqttv311"),
        pytest.param("url", id="password-in-url"),
    ],
)
def test_wrong_password_is_a_clear_error_that_never_shows_the_password(
    mosquitto_auth: MosquittoBroker,
    make_sink: MakeSink,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    user, _ = credentials(mosquitto_auth)
    wrong = "wr0ng-Passw0rd-xyz"
    options: dict[str, Any] = {"on_failure": "error", "publish_timeout_sec": 1.5}
    if where == "env-mqttv311":
        options["protocol"] = "mqttv311"
    if where.startswith("env"):
        monkeypatch.setenv("TEST_MQTT_PASSWORD", wrong)
        sink = make_sink(mosquitto_auth.url, username=user, password_from_env="TEST_MQTT_PASSWORD", **options)
    else:
        sink = make_sink(f"mqtt://{user}:{wrong}@127.0.0.1:{mosquitto_auth.port}", **options)
    with pytest.raises(DeliveryError) as caught:
        sink.process(event(1))
    text = str(caught.value)
    assert "refused the connection" in text
    assert "check username and password_from_env" in text
    assert f"mqtt://127.0.0.1:{mosquitto_auth.port}" in text
    assert wrong not in text
    assert "refused the connection" in caplog.text
    assert wrong not in caplog.text
    # One log line per distinct problem, not one per reconnect attempt.
    assert caplog.text.count("refused the connection: ") <= 2


def test_missing_password_variable_stops_the_node_from_starting(
    mosquitto_auth: MosquittoBroker, make_sink: MakeSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_MQTT_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as caught:
        make_sink(mosquitto_auth.url, username="someone", password_from_env="TEST_MQTT_PASSWORD")
    assert "TEST_MQTT_PASSWORD" in str(caught.value)
    assert caught.value.problems[0].path == "nodes.out.config.password_from_env"


def test_unreachable_broker_applies_on_failure_without_crashing(make_sink: MakeSink) -> None:
    sink = make_sink(f"mqtt://127.0.0.1:{free_port()}", forward=True, publish_timeout_sec=0.3)
    started = time.monotonic()
    assert list(sink.process(event(1, durable=True))) == []  # auto: keep (it came from a queue)
    assert list(sink.process(event(2))) == []  # auto: drop
    assert time.monotonic() - started < 2.0
    metrics = sink.metrics()
    assert (metrics["kept"], metrics["dropped"], metrics["failures"], metrics["published"]) == (1, 1, 2, 0)
    assert metrics["connected"] == 0

    strict = make_sink(
        f"mqtt://127.0.0.1:{free_port()}", "strict", on_failure="error", publish_timeout_sec=0.3
    )
    with pytest.raises(DeliveryError, match=r"not connected within 0\.3s \(cannot connect: .*refused"):
        strict.process(event(3))


def test_interrupt_ends_a_wait_promptly(make_sink: MakeSink) -> None:
    sink = make_sink(f"mqtt://127.0.0.1:{free_port()}", forward=True, publish_timeout_sec=30)
    result: list[list[Packet]] = []
    worker = threading.Thread(target=lambda: result.append(list(sink.process(event(1, durable=True)))))
    worker.start()
    time.sleep(0.2)
    first_beat = sink.alive_at
    time.sleep(0.3)
    assert sink.alive_at > first_beat > 0  # the watchdog sees a deliberate wait, not a hang
    interrupted_at = time.monotonic()
    sink.interrupt()
    worker.join(timeout=20)
    assert not worker.is_alive()
    # The publish would wait 30 s; a generous bound that a busy machine cannot break.
    assert time.monotonic() - interrupted_at < 10.0
    assert result == [[]]
    assert sink.metrics()["kept"] == 1


def test_close_disconnects_cleanly(mosquitto: MosquittoBroker, make_sink: MakeSink) -> None:
    sink = make_sink(mosquitto.url, client_id="closing-client")
    sink.process(event(1))
    started = time.monotonic()
    sink.close()
    assert time.monotonic() - started < 1.5
    assert not any(t.name == "mqtt-out" for t in threading.enumerate())
    deadline = time.monotonic() + 3
    while "Client closing-client disconnected." not in mosquitto.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = mosquitto.log_text()
    assert "Client closing-client disconnected." in log  # a DISCONNECT packet, not a dropped socket
    assert "closing-client closed its connection" not in log
    assert sink.metrics()["disconnects"] == 0  # a requested disconnect is not an outage
    sink.close()  # twice is harmless


def test_message_the_broker_refuses_is_not_delivered(
    mosquitto_acl: MosquittoBroker, make_sink: MakeSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MQTT 5 PUBACK reason codes: a message refused by the broker's ACL is a failure, not a success."""
    user, password = credentials(mosquitto_acl)
    monkeypatch.setenv("TEST_MQTT_PASSWORD", password)
    sink = make_sink(
        mosquitto_acl.url,
        username=user,
        password_from_env="TEST_MQTT_PASSWORD",
        topic="{kind}/{source_id}",
        forward=True,
        on_failure="drop",
    )
    assert list(sink.process(event(1))) == []  # topic event/cam-1: not allowed
    allowed = Packet.new("allowed", "cam-1", {"n": 2})
    assert list(sink.process(allowed)) == [allowed]
    metrics = sink.metrics()
    assert (metrics["dropped"], metrics["failures"], metrics["acked"]) == (1, 1, 1)


def test_mqtts_with_a_private_ca(
    mosquitto_tls: MosquittoBroker, mqtt_subscriber: StartSubscriber, make_sink: MakeSink
) -> None:
    assert mosquitto_tls.url.startswith("mqtts://") and mosquitto_tls.tls
    sub = mqtt_subscriber(mosquitto_tls, "sites/#")
    sink = make_sink(mosquitto_tls.url, tls={"ca_file": str(mosquitto_tls.tls["ca"])})
    sink.process(event(1))
    (message,) = sub.wait_for(1)
    assert message.json() == {"n": 1, "zone": "gate"}

    # Without the private CA, the system's CA store cannot verify the broker: a clear TLS error.
    strict = make_sink(mosquitto_tls.url, "no-ca", on_failure="error", publish_timeout_sec=1.0)
    with pytest.raises(DeliveryError, match="certificate verify failed"):
        strict.process(event(2))


DRAIN_GRAPH = """\
version: 2
nodes:
  - id: queue
    kind: source
    plugin: sqlite_queue_source
    config: {{path: "{queue}", follow: true, lease_sec: 1, limit: 20, poll_interval_ms: 20}}
  - id: out
    kind: node
    plugin: mqtt_sink
    config:
      url: "{url}"
      topic: "sites/{{site}}/cameras/{{source_id}}/events"
      topic_vars: {{site: north}}
      body: packet
      forward: true
      publish_timeout_sec: 0.5
      reconnect_backoff_sec: 0.05
      reconnect_backoff_max_sec: 0.3
  - {{id: ack, kind: sink, plugin: sqlite_queue_ack, config: {{path: "{queue}"}}}}
edges:
  - {{from: queue, to: out}}
  - {{from: out, to: ack}}
"""


class DistinctKeys:
    """A cheap ``wait_until`` predicate: counts distinct idempotency keys, parsing each message once."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.seen: set[str] = set()
        self._parsed = 0

    def __call__(self, messages: list[Any]) -> bool:
        for message in messages[self._parsed :]:
            self.seen.add(message.json()["meta"]["idempotency_key"])
        self._parsed = len(messages)
        return len(self.seen) >= self.wanted


def test_behind_the_durable_queue_a_broker_restart_loses_nothing(
    tmp_path: Path, mosquitto: MosquittoBroker, mqtt_subscriber: StartSubscriber
) -> None:
    """The product promise, end to end: queue -> mqtt_sink -> ack in the real engine, broker restarted."""
    from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.runtime.sdnotify import Notifier
    from schnitzel_stream.state.sqlite_queue import SqliteQueue

    total = 2000  # a few seconds' worth, so the restart lands mid-stream
    queue_path = tmp_path / "events.db"
    with SqliteQueue(queue_path) as producer:
        producer.enqueue_many(event(n) for n in range(total))

    sub = mqtt_subscriber(mosquitto, "sites/#", client_id="promise-sub", persistent=True)
    graph = load_graph_text(
        DRAIN_GRAPH.format(queue=queue_path, url=mosquitto.url),
        "drain.yaml",
        ValidateOptions.from_environment({}),
    )
    engine = Engine(graph, EngineOptions(status_interval=3600), notifier=Notifier(None))
    results: list[Any] = []
    runner = threading.Thread(target=lambda: results.append(engine.run()))
    runner.start()
    try:
        sub.wait_for(300, timeout=10)
        mosquitto.stop()  # mid-stream, with leases and publishes in flight
        time.sleep(1.5)
        mosquitto.start()
        keys = DistinctKeys(total)
        sub.wait_until(keys, timeout=20)
    finally:
        engine.stop_requested = "SIGTERM"
        runner.join(timeout=15)
    assert not runner.is_alive()
    (result,) = results
    assert result.error is None

    assert keys.seen == {f"evt-{n}" for n in range(total)}
    with SqliteQueue(queue_path) as queue:
        assert queue.stats().depth == 0  # every row acknowledged, and only after its PUBACK
    out = result.report["nodes"]["out"]["metrics"]
    assert out["failures"] >= 1, "the outage must have hit the stream"
    assert (
        out["kept"] == out["failures"] and out["dropped"] == 0
    )  # auto: keep, because they came from a queue
    assert out["reconnects"] >= 1 and out["disconnects"] >= 1
    assert out["acked"] >= total  # redeliveries may add duplicates, never losses
