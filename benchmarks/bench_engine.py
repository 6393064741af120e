"""Engine throughput and memory (issue #2).

- packets/s through ``static_source -> identity -> identity -> identity (sink)``
  (target >= 150,000/s; the design this comes from does about 50,000/s);
- peak RSS after 1,000,000 packets within 20 MB of the peak after 100,000;
- ``synthetic_camera -> motion_detector -> jsonl_sink`` at 640x360, realtime false
  (target >= 300 frames/s).

Each measurement runs in a fresh subprocess so peak RSS belongs to that run alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figure, heading

IDENTITY_GRAPH = """
version: 2
nodes:
  - id: src
    kind: source
    plugin: static_source
    config:
      repeat: {repeat}
      packets:
        - {{kind: event, source_id: bench, payload: {{n: 1}}}}
        - {{kind: event, source_id: bench, payload: {{n: 2}}}}
        - {{kind: event, source_id: bench, payload: {{n: 3}}}}
        - {{kind: event, source_id: bench, payload: {{n: 4}}}}
  - {{id: a, kind: node, plugin: identity}}
  - {{id: b, kind: node, plugin: identity}}
  - {{id: c, kind: sink, plugin: identity}}
edges:
  - {{from: src, to: a}}
  - {{from: a, to: b}}
  - {{from: b, to: c}}
"""

CAMERA_GRAPH = """
version: 2
nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config: {{width: 640, height: 360, fps: 15, frames: {frames}, realtime: false}}
  - {{id: motion, kind: node, plugin: motion_detector}}
  - id: out
    kind: sink
    plugin: jsonl_sink
    config: {{path: "{out}"}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: out}}
"""

RUNNER = textwrap.dedent(
    """
    import json, resource, sys, time
    from schnitzel_stream.graph.validate import ValidateOptions, load_graph
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions
    from schnitzel_stream.runtime.sdnotify import Notifier

    graph = load_graph(sys.argv[1], ValidateOptions.from_environment())
    engine = Engine(graph, EngineOptions(status_interval=0), notifier=Notifier(None))
    started = time.perf_counter()
    result = engine.run()
    elapsed = time.perf_counter() - started
    print(json.dumps({
        "elapsed": elapsed,
        "reason": result.reason,
        "nodes": result.report["nodes"],
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)


def run_graph(text: str, workdir: Path, name: str) -> dict[str, object]:
    graph = workdir / f"{name}.yaml"
    graph.write_text(text, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, str(graph)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["reason"] != "completed":
        raise SystemExit(f"{name}: run ended with {result['reason']}: {completed.stderr[-2000:]}")
    return result


def packets_through(result: dict[str, object]) -> int:
    nodes = result["nodes"]
    assert isinstance(nodes, dict)
    return int(nodes["c"]["in"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        heading("engine: static_source -> identity -> identity -> identity (sink)")
        rates = []
        for _ in range(3):
            result = run_graph(IDENTITY_GRAPH.format(repeat=100_000), workdir, "identity_400k")
            elapsed = result["elapsed"]
            assert isinstance(elapsed, float)
            rates.append(packets_through(result) / elapsed)
        figure("throughput (best of 3, 400,000 packets)", max(rates), "packets/s", ">= 150,000")

        small = run_graph(IDENTITY_GRAPH.format(repeat=25_000), workdir, "identity_100k")
        large = run_graph(IDENTITY_GRAPH.format(repeat=250_000), workdir, "identity_1m")
        assert packets_through(small) == 100_000 and packets_through(large) == 1_000_000
        small_rss, large_rss = float(str(small["rss_mb"])), float(str(large["rss_mb"]))
        figure("peak RSS after 100,000 packets", small_rss, "MB")
        figure("peak RSS after 1,000,000 packets", large_rss, "MB")
        figure("difference", large_rss - small_rss, "MB", "<= 20")

        heading("pipeline: synthetic_camera -> motion_detector -> jsonl_sink (640x360, realtime false)")
        frames = 1500
        started = time.perf_counter()
        result = run_graph(
            CAMERA_GRAPH.format(frames=frames, out=(workdir / "events.jsonl").as_posix()), workdir, "camera"
        )
        elapsed = result["elapsed"]
        assert isinstance(elapsed, float)
        figure(f"frames/s over {frames} frames (engine run)", frames / elapsed, "frames/s", ">= 300")
        figure("wall time including process start", time.perf_counter() - started, "s")


if __name__ == "__main__":
    main()
