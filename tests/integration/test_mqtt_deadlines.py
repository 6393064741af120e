"""Total deadlines of mqtt_sink against hostile brokers (issue 11, class 4).

Each "broker" is a plain socket server on 127.0.0.1 (``tests/support/raw_servers.py``): one
that accepts and never answers CONNECT, one that trickles bytes that never form a CONNACK
(each byte would reset paho's own keepalive check), and one that answers CONNACK but never
acknowledges a publish. The sink must abandon such a connection within its deadline and
connect again, and a publish must end within ``publish_timeout_sec``. Bounds are generous
(seconds over 1 s deadlines): a sink without the deadlines stays on one connection for
the whole test.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from schnitzel_stream.nodes.mqtt import MqttSink
from schnitzel_stream.packet import Packet
from tests.support.raw_servers import HostileServer, read_request, silent

DEADLINE = 1.0
BOUND = 10.0


def trickle_never_connack(sock: socket.socket, stopping: threading.Event) -> None:
    """Read CONNECT, then send a byte every 0.2 s that never completes a packet."""
    read_request(sock)  # reads what arrives within its timeout; CONNECT has no blank line
    sock.sendall(b"\x20")  # the first byte of a CONNACK ...
    while not stopping.wait(0.2):
        sock.sendall(b"\xff")  # ... whose remaining length never ends


def connack_then_silence(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer CONNECT (MQTT 3.1.1) with a successful CONNACK, then never acknowledge anything."""
    sock.settimeout(5)
    sock.recv(4096)
    sock.sendall(b"\x20\x02\x00\x00")
    sock.settimeout(0.2)
    while not stopping.is_set():
        try:
            if not sock.recv(4096):
                return
        except TimeoutError:
            continue


@pytest.fixture
def sinks() -> Iterator[list[MqttSink]]:
    made: list[MqttSink] = []
    yield made
    for sink in made:
        sink.close()


def make(sinks: list[MqttSink], port: int, **config: Any) -> MqttSink:
    base = {
        "url": f"mqtt://127.0.0.1:{port}",
        "topic": "t/{source_id}",
        "protocol": "mqttv311",
        "keepalive_sec": 60,  # longer than the test: paho's own check must not be what ends it
        "publish_timeout_sec": DEADLINE,
        "reconnect_backoff_sec": 0.05,
        "reconnect_backoff_max_sec": 0.1,
    }
    sink = MqttSink(node_id="out", config={**base, **config})
    sinks.append(sink)
    return sink


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("behaviour", [silent, trickle_never_connack], ids=["silent", "trickle"])
def test_a_connection_without_connack_is_abandoned_and_made_again(
    sinks: list[MqttSink], behaviour: Any
) -> None:
    with HostileServer(behaviour) as broker:
        make(sinks, broker.port)
        # Each attempt ends after about DEADLINE: three of them well within BOUND.
        assert wait_for(lambda: broker.connections >= 3, BOUND), broker.connections


def test_a_publish_never_outlasts_its_deadline_and_a_silent_broker_is_left(sinks: list[MqttSink]) -> None:
    with HostileServer(connack_then_silence) as broker:
        sink = make(sinks, broker.port)
        assert wait_for(lambda: sink.metrics()["connected"] == 1, BOUND)
        started = time.monotonic()
        out = list(sink.process(Packet.new("event", "cam", {"n": 1}, meta={"idempotency_key": "e-1"})))
        elapsed = time.monotonic() - started
        assert out == [] and elapsed < BOUND
        assert sink.metrics()["failures"] == 1
        # The broker took the message and never acknowledged it: the sink connects again.
        assert wait_for(lambda: broker.connections >= 2, BOUND), broker.connections
