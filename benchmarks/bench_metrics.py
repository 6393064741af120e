"""Metrics cost (issue #14): the engine's throughput with ``--metrics-addr`` against without,
side by side, and how fast a scrape of a 10-node graph answers.

- throughput: ``static_source -> identity -> identity -> identity (sink)``, 400,000 packets per
  run, metrics off and on alternately in fresh processes; with metrics on, a separate process
  scrapes ``/metrics`` every second (Prometheus scrapes every 15 s by default: this is 15 times
  as often); the same scraper runs beside the metrics-off runs too, refused. Target: on >= 97 %
  of off.
- scrape time: ``static_source -> identity x8 -> identity (sink)`` (10 nodes) with metrics on,
  200 scrapes from another process, while the graph runs at full speed and while it is paced
  (1,000 packets/s, a camera's load). Target: <= 20 ms.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figure, heading

sys.path.insert(0, str(ROOT))
from tests.support.net import free_port, wait_for_port

PAIRS = 7
PACKETS = (
    "[{kind: event, source_id: bench, payload: {n: 1}}, {kind: event, source_id: bench, payload: {n: 2}},"
    " {kind: event, source_id: bench, payload: {n: 3}}, {kind: event, source_id: bench, payload: {n: 4}}]"
)


def chain(identities: int, repeat: int, interval: float = 0.0) -> str:
    ids = [f"i{n}" for n in range(identities)]
    pace = f", interval: {interval}" if interval else ""
    lines = [
        "version: 2",
        "nodes:",
        f"  - {{id: src, kind: source, plugin: static_source, config: {{repeat: {repeat}{pace}, packets: {PACKETS}}}}}",
    ]
    lines += [
        f"  - {{id: {i}, kind: {'sink' if n == len(ids) - 1 else 'node'}, plugin: identity}}"
        for n, i in enumerate(ids)
    ]
    lines.append("edges:")
    previous = "src"
    for i in ids:
        lines.append(f"  - {{from: {previous}, to: {i}}}")
        previous = i
    return "\n".join(lines) + "\n"


RUNNER = textwrap.dedent(
    """
    import json, sys, time
    from schnitzel_stream.graph.validate import ValidateOptions, load_graph
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.runtime.sdnotify import Notifier

    graph = load_graph(sys.argv[1], ValidateOptions.from_environment())
    engine = Engine(graph, EngineOptions(status_interval=0), notifier=Notifier(None))
    server = None
    if sys.argv[2] != "0":
        from schnitzel_stream.runtime.metrics import MetricsServer
        server = MetricsServer(engine, ("127.0.0.1", int(sys.argv[2])))
        server.start()
    print("READY", flush=True)
    sys.stdin.readline()  # "go": the scraper is up, its own start-up is not measured
    cpu = time.process_time()
    started = time.perf_counter()
    result = engine.run()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if server is not None:
        server.close()
    sink = [n for n in result.report["nodes"].values() if n["kind"] == "sink"][0]
    print(json.dumps({"elapsed": elapsed, "cpu": cpu, "packets": sink["in"], "reason": result.reason}))
    """
)

SCRAPER = textwrap.dedent(
    """
    import sys, time, urllib.request
    url, every = sys.argv[1], float(sys.argv[2])
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    print("UP", flush=True)
    while True:
        try:
            opener.open(url, timeout=5).read()
        except OSError:
            pass
        time.sleep(every)
    """
)


def throughput(graph: Path, metrics: bool) -> tuple[float, float]:
    """One run in a fresh process. The scraper runs in both cases (without metrics its
    connections are refused), so the only difference between the two is the metrics server."""
    port = free_port()
    engine = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(graph), str(port) if metrics else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    scraper = subprocess.Popen(
        [sys.executable, "-c", SCRAPER, f"http://127.0.0.1:{port}/metrics", "1.0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert engine.stdout is not None and scraper.stdout is not None
        assert engine.stdout.readline().strip() == "READY"
        assert scraper.stdout.readline().strip() == "UP"
        out, _ = engine.communicate("go\n", timeout=600)
    finally:
        scraper.kill()
        scraper.wait()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["reason"] == "completed" and result["packets"] == 400_000, result
    packets = float(result["packets"])
    return packets / float(result["elapsed"]), packets / float(result["cpu"])


def scrape_times(graph: Path, count: int) -> list[float]:
    port = free_port()
    engine = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(graph), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert engine.stdin is not None and engine.stdout is not None
    assert engine.stdout.readline().strip() == "READY"
    engine.stdin.write("go\n")
    engine.stdin.flush()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        wait_for_port(port, timeout=30)
        time.sleep(1.0)  # let the graph reach its pace
        samples = []
        for _ in range(count):
            started = time.perf_counter()
            body = opener.open(url, timeout=10).read()
            samples.append((time.perf_counter() - started) * 1000)
            assert b"schnitzel_stream_node_packets_in_total" in body
            time.sleep(0.02)
        return samples
    finally:
        engine.kill()
        engine.wait()


def exposition_cpu_ms(graph: Path, count: int) -> float:
    """CPU time of writing the exposition of ``graph`` (run to its end, in this process)."""
    from schnitzel_stream.graph.validate import ValidateOptions, load_graph
    from schnitzel_stream.runtime._exposition import exposition
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.runtime.sdnotify import Notifier

    engine = Engine(
        load_graph(str(graph), ValidateOptions.from_environment()),
        EngineOptions(status_interval=0),
        notifier=Notifier(None),
    )
    engine.run()
    samples = []
    for _ in range(count):
        started = time.process_time()
        exposition(engine)
        samples.append((time.process_time() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        heading("metrics: static_source -> identity x3, 400,000 packets, metrics off and on side by side")
        graph = work / "identity3.yaml"
        graph.write_text(chain(3, 100_000), encoding="utf-8")
        off: list[tuple[float, float]] = []
        on: list[tuple[float, float]] = []
        for _ in range(PAIRS):
            off.append(throughput(graph, metrics=False))
            on.append(throughput(graph, metrics=True))
        wall_off, wall_on = [w for w, _ in off], [w for w, _ in on]
        cpu_off, cpu_on = [c for _, c in off], [c for _, c in on]
        figure(f"metrics off (best of {PAIRS})", max(wall_off), "packets/s")
        figure(f"metrics on, scraped every second (best of {PAIRS})", max(wall_on), "packets/s")
        figure(f"on / off, best of {PAIRS}", 100 * max(wall_on) / max(wall_off), "%", ">= 97")
        # Each pair ran back to back, so its ratio cancels most of the drift of a shared
        # machine's load; CPU time (what the metrics cost) moves less with it than wall time.
        paired_wall = [on_ / off_ for off_, on_ in zip(wall_off, wall_on, strict=True)]
        paired_cpu = [on_ / off_ for off_, on_ in zip(cpu_off, cpu_on, strict=True)]
        figure(
            f"on / off, median of {PAIRS} back-to-back pairs",
            100 * statistics.median(paired_wall),
            "%",
            ">= 97",
        )
        figure(f"packets per CPU second, off (best of {PAIRS})", max(cpu_off), "packets/s")
        figure(f"packets per CPU second, on (best of {PAIRS})", max(cpu_on), "packets/s")
        figure(
            f"on / off in CPU time, median of {PAIRS} pairs",
            100 * statistics.median(paired_cpu),
            "%",
            ">= 97",
        )

        heading("metrics: scrape of a 10-node graph (static_source -> identity x9), 200 scrapes")
        small = work / "chain10-small.yaml"
        small.write_text(chain(9, 1000), encoding="utf-8")
        cost = exposition_cpu_ms(small, 200)
        figure("CPU time to write the exposition (median of 200)", cost, "ms")
        figure("its share of one core at one scrape per second", cost / 10, "%")
        busy = work / "chain10.yaml"
        busy.write_text(chain(9, 10_000_000), encoding="utf-8")
        paced = work / "chain10-paced.yaml"
        paced.write_text(chain(9, 10_000_000, interval=0.001), encoding="utf-8")
        for name, path in (("at full speed", busy), ("paced, 1,000 packets/s", paced)):
            times = sorted(scrape_times(path, 200))
            figure(f"scrape, graph {name}: median", statistics.median(times), "ms", "<= 20")
            figure(f"scrape, graph {name}: 95th percentile", times[int(len(times) * 0.95) - 1], "ms")
            figure(f"scrape, graph {name}: max", times[-1], "ms")


if __name__ == "__main__":
    main()
