"""http_sink throughput and CPU per event against nginx, side by side with the design's approach.

nginx (a real one, started here with a private config) answers ``POST /fast`` with ``200 {}``
at once, so the server is not the ceiling. One packet per request, contenders measured in
alternating rounds within one run (the median round counts), each in this process:

- ``design``: what the design this project comes from does, plain ``urllib`` with a new
  connection per request (a few lines written here, not its code);
- ``reference``: the design's own ``HttpJsonSink``, run in a subprocess from the checkout in
  ``SCHNITZEL_REFERENCE_DIR`` (printed as not available when the variable is not set);
- ``http_sink``: ours, keep-alive and the retry loop included (``process()`` per packet);
- ``http.client``: a bare keep-alive loop over the standard library's client (which writes
  the headers and the body of each request in two sends; http_sink writes one).

CPU per event is this process's CPU time (user + system) over the events delivered: the
client's cost alone, since nginx runs in its own processes. Then batch mode (``batch_max``
500) for the record.

Target (issue 16): http_sink >= 1.2x the design's rate.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support holds the nginx launcher
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, heading

from schnitzel_stream.nodes.http import HttpJsonSink
from schnitzel_stream.packet import Packet
from tests.support.net import free_port
from tests.support.nginx import running_nginx

PAYLOAD = {"label": "motion", "score": 0.87, "box": [12, 40, 96, 128]}
TARGET_RATIO = 1.2


def _packets(count: int) -> list[Packet]:
    return [
        Packet.new("event", "cam-1", {"seq": i, **PAYLOAD}, meta={"idempotency_key": f"cam-1:{i}"})
        for i in range(count)
    ]


def design_urllib(url: str, packets: list[Packet]) -> None:
    """The design's approach: json.dumps, urllib.request, a new connection per request."""
    for packet in packets:
        data = json.dumps(packet.payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": packet.idempotency_key}
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=3.0) as response:
            if not 200 <= response.getcode() < 300:
                raise SystemExit(f"design: HTTP {response.getcode()}")


def ours(url: str, packets: list[Packet]) -> None:
    sink = HttpJsonSink(node_id="bench", config={"url": url})
    try:
        for packet in packets:
            sink.process(packet)
    finally:
        sink.close()
    metrics = sink.metrics()
    if metrics["sent"] != len(packets) or metrics["failures"]:
        raise SystemExit(f"http_sink: {len(packets) - metrics['sent']} events were not delivered")


def bare_http_client(url: str, packets: list[Packet]) -> None:
    """http.client on one keep-alive connection, nothing else."""
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    conn = http.client.HTTPConnection(name, int(port), timeout=3.0)
    try:
        for packet in packets:
            body = json.dumps(packet.payload).encode()
            conn.request("POST", "/" + rest, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"http.client: HTTP {response.status}")
    finally:
        conn.close()


CONTENDERS: dict[str, Callable[[str, list[Packet]], None]] = {
    "design (urllib, a connection per request)": design_urllib,
    "http_sink (keep-alive, retries)": ours,
    "http.client keep-alive": bare_http_client,
}

_REFERENCE_CODE = """
import json, sys, time
from schnitzel_stream.nodes.http import HttpJsonSink
from schnitzel_stream.packet import StreamPacket
url, count = sys.argv[1], int(sys.argv[2])
payload = {payload}
packets = [StreamPacket.new(kind="event", source_id="cam-1", payload={{"seq": i, **payload}},
                            meta={{"idempotency_key": f"cam-1:{{i}}"}}) for i in range(count)]
sink = HttpJsonSink(node_id="bench", config={{"url": url}})
cpu, wall = time.process_time(), time.perf_counter()
for packet in packets:
    sink.process(packet)
print(json.dumps({{"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "metrics": sink.metrics()}}))
"""


def reference(url: str, count: int) -> tuple[float, float] | None:
    """The design's own sink in a subprocess: (events/s, CPU us per event), or None."""
    checkout = os.environ.get("SCHNITZEL_REFERENCE_DIR")
    if not checkout:
        return None
    code = textwrap.dedent(_REFERENCE_CODE.format(payload=repr(PAYLOAD)))
    env = {**os.environ, "PYTHONPATH": str(Path(checkout) / "src")}
    # Its own venv when it has one: its package is also called schnitzel_stream.
    own = [Path(checkout) / ".venv" / "bin" / "python", Path(checkout) / ".venv" / "Scripts" / "python.exe"]
    python = next((str(p) for p in own if p.exists()), sys.executable)
    done = subprocess.run(
        [python, "-c", code, url, str(count)],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if done.returncode != 0:
        print(f"  reference failed: {done.stderr.strip()[-500:]}")
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return count / result["seconds"], 1e6 * result["cpu"] / count


def measure(url: str, count: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Median events/s and CPU us/event per contender, over alternating rounds."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in CONTENDERS}
    for _ in range(rounds):
        for name, run in CONTENDERS.items():
            packets = _packets(count)
            cpu, wall = time.process_time(), time.perf_counter()
            run(url, packets)
            seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
            samples[name].append((count / seconds, 1e6 * cpu_seconds / count))
    return {
        name: (statistics.median(r for r, _ in values), statistics.median(c for _, c in values))
        for name, values in samples.items()
    }


def batched(url: str, count: int, batch_max: int) -> tuple[float, float]:
    sink = HttpJsonSink(node_id="bench", config={"url": url, "batch_max": batch_max, "batch_linger_ms": 50})
    packets = _packets(count)
    cpu, wall = time.process_time(), time.perf_counter()
    for packet in packets:
        sink.process(packet)
    sink.flush()
    seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
    sink.close()
    if sink.metrics()["sent"] != count:
        raise SystemExit("batch mode: events were not delivered")
    return count / seconds, 1e6 * cpu_seconds / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=3000, help="events per contender and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batched", type=int, default=200_000, help="events sent in batches")
    parser.add_argument("--batch-max", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch, running_nginx(Path(scratch), free_port()) as nginx:
        url = nginx.url("/fast")
        heading(f"http_sink against nginx /fast (200 at once), one packet per request, {args.rounds} rounds")
        results = measure(url, args.events, args.rounds)
        for name, (rate, cpu) in results.items():
            figure(f"{name}: events/s", rate, "events/s")
            figure(f"{name}: CPU per event", cpu, "us")
        found = reference(url, args.events)
        if found is None:
            print("  reference: not available (set SCHNITZEL_REFERENCE_DIR to the design's checkout)")
        else:
            figure("reference (the design's own HttpJsonSink): events/s", found[0], "events/s")
            figure("reference (the design's own HttpJsonSink): CPU per event", found[1], "us")
        design_rate = results["design (urllib, a connection per request)"][0]
        ours_rate = results["http_sink (keep-alive, retries)"][0]
        plain = results["http.client keep-alive"][0]
        figure("http_sink / design", ours_rate / design_rate, "x", f">= {TARGET_RATIO}x")
        figure("http_sink / http.client keep-alive", ours_rate / plain, "x")
        if found is not None:
            figure("http_sink / reference", ours_rate / found[0], "x", f">= {TARGET_RATIO}x")

        heading(f"batch mode (batch_max={args.batch_max})")
        rate, cpu = batched(url, args.batched, args.batch_max)
        figure("http_sink batched: events/s", rate, "events/s")
        figure("http_sink batched: CPU per event", cpu, "us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
