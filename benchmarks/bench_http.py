"""http_sink throughput against the local test backend, run in a separate process.

Prints events per second for one packet per request over keep-alive, and for batch mode.
The backend runs as its own process (ops/ci/test_backend.py) so that it does not share the
GIL with the sink; its counters confirm that every event arrived.

Targets: >= 1,500 events/s one at a time; >= 20,000 events/s with batch_max 500.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from schnitzel_stream.nodes.http import HttpJsonSink
from schnitzel_stream.packet import Packet

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "ops" / "ci" / "test_backend.py"


_STATS_CALLS = [0]  # each /stats call is a connection of its own (urllib does not keep alive)


def _stats(port: int) -> dict[str, Any]:
    _STATS_CALLS[0] += 1
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


def _run(port: int, label: str, events: int, config: dict[str, Any]) -> float:
    before = _stats(port)["payloads"]
    sink = HttpJsonSink(node_id="bench", config={"url": f"http://127.0.0.1:{port}/ingest", **config})
    packets = [
        Packet.new("event", "cam-1", {"seq": i, "label": "motion", "score": 0.87, "box": [12, 40, 96, 128]})
        for i in range(events)
    ]
    started = time.perf_counter()
    for packet in packets:
        sink.process(packet)
    sink.close()  # sends the last partial batch
    elapsed = time.perf_counter() - started
    metrics = sink.metrics()
    arrived = _stats(port)["payloads"] - before
    rate = events / elapsed
    print(
        f"{label:<34} {events:>8} events  {elapsed:7.2f} s  {rate:>10,.0f} events/s  "
        f"requests={metrics['requests']} arrived={arrived}"
    )
    if arrived != events or metrics["failures"]:
        raise SystemExit(f"{label}: {events - arrived} events did not arrive")
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--single", type=int, default=6000, help="events sent one at a time")
    parser.add_argument("--batched", type=int, default=200_000, help="events sent in batches")
    parser.add_argument("--batch-max", type=int, default=500)
    args = parser.parse_args()

    backend = subprocess.Popen(
        [sys.executable, str(BACKEND), "--port", "0", "--max-seconds", "600"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert backend.stdout is not None
        line = backend.stdout.readline().split()
        if not line or line[0] != "LISTENING":
            raise SystemExit(f"backend did not start: {line}")
        port = int(line[1])
        print(f"http_sink -> local backend (separate process, port {port})")
        _run(port, "warm-up", 500, {})
        single = _run(port, "one at a time (keep-alive)", args.single, {})
        batched = _run(
            port,
            f"batch_max={args.batch_max}",
            args.batched,
            {"batch_max": args.batch_max, "batch_linger_ms": 50},
        )
        sink_connections = _stats(port)["connections"] - _STATS_CALLS[0]
        print(f"TCP connections used by the 3 sinks: {sink_connections} (keep-alive: one per sink)")
        print(f"targets: one at a time >= 1,500/s ({single:,.0f}); batched >= 20,000/s ({batched:,.0f})")
    finally:
        backend.terminate()
        backend.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
