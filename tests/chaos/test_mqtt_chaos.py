"""MQTT broker restarts: QoS 1 behind the durable queue loses nothing.

``ops/graphs/synthetic_to_mqtt.yaml`` runs through the CLI against a real mosquitto (with
persistence, so the broker keeps sessions and queued messages across a restart, as a
production broker does). The copy in ``tmp_path`` changes only what the test needs to see:

- ``sqlite_queue_sink`` forwards (``forward: true``) into a ``jsonl_sink`` tap with
  ``fsync: true``. It forwards a packet only after the commit, so every tapped key was
  committed to the queue;
- ``mqtt_sink`` publishes the whole packet (``body: packet``), so ``meta.idempotency_key``
  reaches the subscriber, which speaks MQTT 3.1.1 (no user properties) to keep a persistent
  session (``clean_session=False``, QoS 1) across the broker restarts;
- the camera stops after a fixed number of frames, so the test knows when production is over;
- ``lease_sec: 20`` on the queue source (default 60): a packet kept during the long outage
  (longer than ``publish_timeout_sec``) is delivered again within the run;
- ``reconnect_backoff_max_sec: 2`` on the sink (default 30), so that the sink is back soon
  after the broker and no lease runs out while its packet waits in front of the sink. (A lease
  that runs out during a stall makes the queue deliver its row a second time: with the
  defaults that happens only after a stall of a minute.)

The broker is stopped (SIGTERM, it saves its persistence file) and started again on the same
port several times, once for longer than the sink's publish timeout. After a graceful final
stop every committed key was received (zero lost), the queue is empty, and duplicates are
counted: fewer than the queue source's in-flight window.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from tests.chaos._figures import SHORT, Figures
from tests.chaos._servers import GRAPHS, REPO_ROOT, latest_status, log_lines, reaches, start_chaos_cli
from tests.support.mqtt import MosquittoBroker, Received, running_mosquitto, subscriber
from tests.support.proc import cli_command

FPS = 15
#: Seconds the broker is down, one entry per restart; 8 s outlasts publish_timeout_sec (5 s).
OUTAGES_SEC = (1.5, 8.0) if SHORT else (1.5, 3.0, 8.0, 1.5)
#: Seconds the broker runs between outages.
UP_SEC = 4.0
LEASE_SEC = 20
SINK_BACKOFF_MAX_SEC = 2.0
#: The sink is connected again within its backoff cap plus this, once the broker is back.
RECONNECT_MARGIN_SEC = 3.0
#: Rows the queue source has in flight at most (its ``limit``, 100 by default).
IN_FLIGHT_WINDOW = 100
RECONNECTED = "mqtt sink 'broker': reconnected to"


def _graph(tmp_path: Path, frames: int) -> Path:
    doc: dict[str, Any] = yaml.safe_load((GRAPHS / "synthetic_to_mqtt.yaml").read_text(encoding="utf-8"))
    nodes = {node["id"]: node for node in doc["nodes"]}
    nodes["cam"]["config"]["frames"] = frames
    nodes["enqueue"]["kind"] = "node"
    nodes["enqueue"]["config"]["forward"] = True
    nodes["dequeue"]["config"]["lease_sec"] = LEASE_SEC
    nodes["broker"]["config"]["body"] = "packet"
    nodes["broker"]["config"]["reconnect_backoff_max_sec"] = SINK_BACKOFF_MAX_SEC
    doc["nodes"].append(
        {
            "id": "committed",
            "kind": "sink",
            "plugin": "jsonl_sink",
            "config": {"path": "${state}/committed.jsonl", "fsync": True},
        }
    )
    doc["edges"].append({"from": "enqueue", "to": "committed"})
    graph = tmp_path / "synthetic_to_mqtt.yaml"
    graph.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return graph


def _committed(tmp_path: Path) -> list[str]:
    tap = tmp_path / "state" / "committed.jsonl"
    if not tap.exists():
        return []
    lines = tap.read_text(encoding="utf-8").splitlines()
    # A line being written right now may be incomplete; it is read again next time.
    return [json.loads(line)["meta"]["idempotency_key"] for line in lines if line.endswith("}")]


def _keys(messages: list[Received]) -> list[str]:
    return [str(message.json()["meta"]["idempotency_key"]) for message in messages]


def _queue_depth(path: Path) -> int:
    done = subprocess.run(
        cli_command("queue", "stats", str(path), "--format", "json"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    depth: int = json.loads(done.stdout)["depth"]
    return depth


def test_broker_restarts_lose_nothing_behind_the_queue(tmp_path: Path, figures: Figures) -> None:
    outages = OUTAGES_SEC
    # Production outlasts every outage and leaves a few seconds of steady state at the end.
    frames = int((len(outages) * UP_SEC + sum(outages) + 6) * FPS)
    report = tmp_path / "report.json"
    queue = tmp_path / "state" / "queues" / "mqtt.sqlite3"
    reconnect_sec: list[float] = []
    broker: MosquittoBroker
    with (
        running_mosquitto(tmp_path / "broker") as broker,
        subscriber(broker, "sites/#", client_id="chaos-subscriber", persistent=True) as sub,
        start_chaos_cli(
            tmp_path,
            _graph(tmp_path, frames),
            "--report-json",
            str(report),
            env={"SCHNITZEL_MQTT_URL": broker.url},
        ) as proc,
    ):

        def reconnects_logged() -> int:
            return len(log_lines(proc.stderr(), RECONNECTED))

        proc.wait_for_stderr("mqtt sink 'broker': connected to", timeout=30)
        proc.wait_until(lambda: len(_committed(tmp_path)) >= 10, timeout=30, what="10 committed events")
        for number, down_for in enumerate(outages, start=1):
            assert proc.runs_for(UP_SEC), "the process exited while the broker was up"
            broker.stop()
            assert proc.runs_for(down_for), f"the process exited during broker outage {number}"
            broker.start()
            ready = time.monotonic()
            proc.wait_until(
                reaches(reconnects_logged, number),
                timeout=30,
                what=f"the sink reconnecting after broker restart {number}",
            )
            reconnect_sec.append(round(time.monotonic() - ready, 2))

        def camera_done() -> bool:
            status = latest_status(proc.stderr())
            return status is not None and status.get("cam", "frames") >= frames

        proc.wait_until(camera_done, timeout=60, what=f"the camera's {frames} frames")
        # Give the tap a moment to write what the queue sink forwarded last.
        proc.runs_for(1.0)
        committed = set(_committed(tmp_path))

        def drained() -> bool:
            # Received is not enough: a packet whose PUBACK was lost stays leased in the queue
            # (and is delivered again when its lease runs out) until the ack node removes it.
            return committed <= set(_keys(list(sub.messages))) and _queue_depth(queue) == 0

        proc.wait_until(drained, timeout=LEASE_SEC + 30, what="every committed event delivered and acked")
        finished = proc.stop(timeout=10)
        received = _keys(sub.messages)

    assert finished.returncode == 0, finished.describe()
    committed = set(_committed(tmp_path))
    counts = Counter(received)
    lost = sorted(committed - counts.keys())
    duplicates = sum(n - 1 for n in counts.values())
    nodes = json.loads(report.read_text(encoding="utf-8"))["nodes"]
    sink = nodes["broker"]["metrics"]
    depth = _queue_depth(queue)

    figures.add("broker_restarts", len(outages))
    figures.add("outage_sec", list(outages))
    figures.add("sink_reconnect_sec", reconnect_sec)
    figures.add("committed", len(committed))
    figures.add("received", len(received))
    figures.add("lost", len(lost))
    figures.add("duplicates", duplicates)
    figures.add("kept_for_redelivery", sink["kept"])
    # Rows delivered twice by the queue (a lease ran out while the packet waited for the broker).
    figures.add("acked_twice", nodes["ack"]["metrics"]["ack_already_gone"])
    figures.add("sink_reconnects", sink["reconnects"])
    figures.add("queue_depth_after", depth)

    assert len(committed) >= 100, "too few events to say anything"
    assert not lost, f"{len(lost)} committed events never reached the subscriber, e.g. {lost[:5]}"
    assert counts.keys() <= committed, "the subscriber got keys that were never committed"
    assert depth == 0, "events are still queued after the final stop"
    assert sink["reconnects"] == len(outages), sink
    late = [sec for sec in reconnect_sec if sec > SINK_BACKOFF_MAX_SEC + RECONNECT_MARGIN_SEC]
    assert not late, f"the sink reconnected later than its backoff cap + {RECONNECT_MARGIN_SEC}s: {late}"
    # At least once: what a restart can deliver twice is what was in flight (the broker's
    # unacknowledged messages, a publish whose PUBACK was lost), far less than the window of
    # rows the queue source has leased.
    assert duplicates < IN_FLIGHT_WINDOW, counts.most_common(5)
