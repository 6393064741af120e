"""Publish rate of ``mqtt_sink`` into a real local mosquitto, at QoS 0 and QoS 1.

``process()`` is synchronous: at QoS 1 every packet waits for its PUBACK (a loopback round
trip through paho's network thread and the broker), which is what lets ``forward: true``
promise that the broker has the packet; at QoS 0 it waits until the network thread wrote
the message to the socket. A real paho subscriber confirms that every message arrived.

Run: ``python benchmarks/bench_mqtt.py`` (needs the ``mosquitto`` binary).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, figure, heading

from schnitzel_stream.nodes.mqtt import MqttSink
from schnitzel_stream.packet import Packet

sys.path.insert(0, str(ROOT))  # tests.support holds the broker launcher and the subscriber
from tests.support.mqtt import MosquittoBroker, running_mosquitto, subscriber

WARMUP = 200
CASES = (
    ("QoS 0, body payload", 0, "payload", 20000),
    ("QoS 1, body payload", 1, "payload", 5000),
    ("QoS 1, body packet", 1, "packet", 5000),
)


def bench(broker: MosquittoBroker, label: str, qos: int, body: str, count: int) -> None:
    sink = MqttSink(
        node_id=f"bench-{qos}-{body}",
        config={"url": broker.url, "topic": "bench/{source_id}", "qos": qos, "body": body, "forward": True},
    )
    try:
        with subscriber(broker, "bench/#", qos=qos, client_id=f"bench-sub-{qos}-{body}") as sub:
            packets = [
                Packet.new(
                    "event",
                    "cam-1",
                    {"n": n, "zone": "gate", "score": 0.87},
                    meta={"idempotency_key": f"k{n}"},
                )
                for n in range(WARMUP + count)
            ]
            for packet in packets[:WARMUP]:  # connection up, caches warm
                sink.process(packet)
            started = time.perf_counter()
            for packet in packets[WARMUP:]:
                sink.process(packet)
            elapsed = time.perf_counter() - started
            received = len(sub.wait_for(WARMUP + count, timeout=30)) - WARMUP
    finally:
        sink.close()
    failures = sink.metrics()["failures"]
    figure(f"{label}: packets/s", count / elapsed, "packets/s")
    figure(f"{label}: per packet", elapsed * 1e6 / count, "us")
    if received != count or failures:
        print(f"  !! {label}: {count} published, {received} received, {failures} failures", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_mosquitto(Path(tmp)) as broker:
        heading(f"mqtt_sink into mosquitto on 127.0.0.1:{broker.port} (one synchronous publisher)")
        for label, qos, body, count in CASES:
            bench(broker, label, qos, body, count)


if __name__ == "__main__":
    main()
