"""Engine throughput and memory (issues #2 and #15).

- packets/s through ``static_source -> identity -> identity -> identity (sink)``
  (target >= 150,000/s);
- the same side by side, in interleaved rounds: our engine with operator chaining (the
  identities run on the source's thread), our engine with a hand-off in front of every node
  (``__runtime__`` asks for inboxes: the layout before chaining), and, when
  ``SCHNITZEL_REFERENCE_DIR`` names a reference copy of the design this project comes from,
  the design's own in-process runner on the same graph (``_reference_engine.py``, under the
  reference's interpreter). Target (#15): at least 3x the design's packets/s. Rates are
  given per wall second and per CPU second (the machine is shared; CPU time is steadier);
  the ratios are medians of the rounds' ratios;
- peak RSS after 1,000,000 packets within 20 MB of the peak after 100,000;
- ``synthetic_camera -> motion_detector -> jsonl_sink`` at 640x360, realtime false
  (target >= 300 frames/s).

Each measurement runs in a fresh subprocess so peak RSS belongs to that run alone.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figure, heading

HERE = Path(__file__).resolve().parent

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
  - {{id: a, kind: node, plugin: identity{hand_off}}}
  - {{id: b, kind: node, plugin: identity{hand_off}}}
  - {{id: c, kind: sink, plugin: identity{hand_off}}}
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
    started, cpu = time.perf_counter(), time.process_time()
    result = engine.run()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({
        "elapsed": elapsed,
        "cpu": cpu,
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


HAND_OFF = ", config: {__runtime__: {inbox_max: 1024}}"
REFERENCE_ENV = "SCHNITZEL_REFERENCE_DIR"
SIDE_BY_SIDE_PACKETS = 100_000


def _identity(repeat: int, *, hand_off: bool = False) -> str:
    return IDENTITY_GRAPH.format(repeat=repeat, hand_off=HAND_OFF if hand_off else "")


def _reference_run(reference: Path, packets: int) -> tuple[float, float] | None:
    """(packets/s per wall second, per CPU second) of the design's runner, or None."""
    python = reference / ".venv" / "bin" / "python"
    if not python.exists() or not (reference / "src" / "schnitzel_stream").is_dir():
        return None
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(reference / "src")}
    completed = subprocess.run(
        [str(python), str(HERE / "_reference_engine.py"), str(packets)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=reference,
    )
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    return data["packets"] / data["elapsed"], data["packets"] / data["cpu"]


def side_by_side(workdir: Path, rounds: int) -> None:
    """Chained, hand-offs and the design's runner in interleaved rounds."""
    reference_dir = os.environ.get(REFERENCE_ENV)
    reference = Path(reference_dir) if reference_dir else None
    heading(f"side by side: {SIDE_BY_SIDE_PACKETS:,} packets, {rounds} interleaved rounds (median)")
    rates: dict[str, list[tuple[float, float]]] = {"chained": [], "hand-offs": [], "design": []}
    for index in range(rounds):
        order = ["chained", "hand-offs", "design"]
        for name in order if index % 2 == 0 else reversed(order):
            if name == "design":
                if (
                    reference is not None
                    and (got := _reference_run(reference, SIDE_BY_SIDE_PACKETS)) is not None
                ):
                    rates["design"].append(got)
                continue
            result = run_graph(
                _identity(SIDE_BY_SIDE_PACKETS // 4, hand_off=name == "hand-offs"), workdir, name
            )
            through = packets_through(result)
            rates[name].append((through / float(str(result["elapsed"])), through / float(str(result["cpu"]))))
    med = statistics.median
    for name, measured in rates.items():
        if measured:
            figure(f"{name}: packets/s per wall second", med(pair[0] for pair in measured), "packets/s")
            figure(f"{name}: packets/s per CPU second", med(pair[1] for pair in measured), "packets/s")
    pairs = list(zip(rates["chained"], rates["hand-offs"], strict=True))
    figure("chained / hand-offs (wall)", med(a[0] / b[0] for a, b in pairs), "x")
    figure("chained / hand-offs (CPU)", med(a[1] / b[1] for a, b in pairs), "x")
    if not rates["design"]:
        print("  reference: not available" + ("" if reference else f" (set {REFERENCE_ENV})"), flush=True)
        return
    pairs = list(zip(rates["chained"], rates["design"], strict=True))
    figure("chained / design (wall)", med(a[0] / b[0] for a, b in pairs), "x", ">= 3")
    figure("chained / design (CPU)", med(a[1] / b[1] for a, b in pairs), "x", ">= 3")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        side_by_side(workdir, rounds=5)
        heading("engine: static_source -> identity -> identity -> identity (sink)")
        rates = []
        for _ in range(3):
            result = run_graph(_identity(100_000), workdir, "identity_400k")
            elapsed = result["elapsed"]
            assert isinstance(elapsed, float)
            rates.append(packets_through(result) / elapsed)
        figure("throughput (best of 3, 400,000 packets)", max(rates), "packets/s", ">= 150,000")

        small = run_graph(_identity(25_000), workdir, "identity_100k")
        large = run_graph(_identity(250_000), workdir, "identity_1m")
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
