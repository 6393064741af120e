"""``schnitzel-stream validate`` speed (issues #2 and #12): what a pre-deploy check or CI step waits for.

- median wall time of the venv's ``schnitzel-stream validate`` on a 7-node graph (target <= 0.3 s),
  and side by side with the design this project comes from (target <= 0.5x its time). The design
  is a checkout outside this repository named by ``SCHNITZEL_REFERENCE_DIR`` (its own
  ``.venv`` if it has one, its ``src`` on ``PYTHONPATH``); it validates its own 7-node graph
  (``local/graphs/validate_7node*.yaml`` when the checkout has one, else :data:`DESIGN_SEVEN`),
  the two commands alternate run by run, and without the variable the line reads
  "reference: not available";
- ``schnitzel-stream --help`` (target <= 0.15 s);
- 100 graphs in one call (target <= 2 s);
- for context: bare interpreter start, ``import yaml``, ``import jsonschema``, and the
  in-process cost of validating one file once everything is imported;
- beside the side by side, the floor: ``import yaml, jsonschema_rs`` (the two libraries a
  valid graph needs), alternating with the two, and its own ratio to the design. No
  validate that reads YAML and checks schemas this way gets below that ratio.

Validating one file takes about a millisecond once everything is imported; the rest is the
interpreter starting and importing, which is why ``--help`` and ``validate`` keep logging, the
engine, the network stack and jsonschema off their import path (guarded, without timing, by
``tests/unit/test_startup.py``).

What runs is what a user runs: the venv's ``schnitzel-stream`` console script (not
``python -m``, which also imports runpy). ``uv sync`` installs the project editable, through a
``.pth`` file that only adds ``src`` to ``sys.path`` (no import hook), so start-up costs what
an installed wheel's does. The design is run as its README says, ``python -m schnitzel_stream``.

Every figure is the median of at least 10 runs of a fresh process (the in-process one of 200).
Wall time is the target; the CPU time (user + system of the child, from ``getrusage`` where
the OS has it) is printed beside it because on a shared 2-core machine other work inflates wall
time but hardly the child's own CPU time. Figures are in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import figure, heading, median_seconds

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
#: Children may write bytecode (an installed package has it); without it every run compiles
#: every module from source, which measures the compiler rather than validate.
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CHILD_ENV["NO_COLOR"] = "1"

#: Our 7-node graph (tests/unit/test_startup.py checks what validating it imports).
SEVEN_NODES = (Path(__file__).resolve().parent / "graphs" / "seven_nodes.yaml").read_text(encoding="utf-8")


#: Seven nodes in the design's own format, of plugins it ships; used when the checkout has no graph.
DESIGN_SEVEN = """\
nodes:
  - {id: src, kind: source, plugin: "schnitzel_stream.nodes.dev:StaticSource", config: {packets: [{kind: event, source_id: cam01, payload: {n: 1}}]}}
  - {id: a, kind: node, plugin: "schnitzel_stream.nodes.dev:Identity", config: {}}
  - {id: b, kind: node, plugin: "schnitzel_stream.nodes.dev:Identity", config: {__runtime__: {inbox_max: 64}}}
  - {id: file, kind: sink, plugin: "schnitzel_stream.nodes.file_sink:JsonlSink", config: {path: "${oc.env:OUT_DIR,/tmp}/e.jsonl"}}
  - {id: console, kind: sink, plugin: "schnitzel_stream.nodes.dev:PrintSink", config: {prefix: "event "}}
  - {id: http, kind: sink, plugin: "schnitzel_stream.nodes.http:HttpJsonSink", config: {url: "http://127.0.0.1:9/events"}}
  - {id: queue, kind: sink, plugin: "schnitzel_stream.nodes.durable_sqlite:SqliteQueueSink", config: {path: "/tmp/q.sqlite3"}}
edges:
  - {from: src, to: a}
  - {from: a, to: b}
  - {from: b, to: file}
  - {from: b, to: console}
  - {from: b, to: http}
  - {from: b, to: queue}
"""


def _console_script() -> list[str]:
    found = shutil.which("schnitzel-stream", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "schnitzel_stream"]


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children.

    ``getrusage`` counts in microseconds; ``os.times`` (Windows) in clock ticks, often 10 ms.
    """
    try:
        import resource
    except ImportError:
        times = os.times()
        return times.children_user + times.children_system
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``command`` to success; its wall time and its CPU time (user + system)."""
    before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, check=False, env=env or CHILD_ENV)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - before
    if result.returncode != 0:
        output = result.stdout.decode() + result.stderr.decode()
        raise SystemExit(f"{command} exited {result.returncode}:\n{output}")
    return wall, cpu


def _process(name: str, command: list[str], runs: int, target: str = "") -> None:
    """Median wall time and child CPU time of ``runs`` fresh processes."""
    _run(command)  # warm up: bytecode and the OS's file cache
    walls, cpus = zip(*(_run(command) for _ in range(runs)), strict=True)
    figure(name, statistics.median(walls) * 1000, "ms", target)
    figure("  cpu time (user + system) of the same", statistics.median(cpus) * 1000, "ms")


def _reference(root: Path) -> tuple[list[str], dict[str, str]] | None:
    """The command that validates the design's 7-node graph, and its environment; None without one."""
    named = os.environ.get("SCHNITZEL_REFERENCE_DIR")
    if not named or not Path(named, "src").is_dir():
        return None
    checkout = Path(named).resolve()
    python = next(
        (
            str(p)
            for p in (checkout / ".venv/bin/python", checkout / ".venv/Scripts/python.exe")
            if p.exists()
        ),
        sys.executable,
    )
    env = {  # as for ours: bytecode may be written and read
        **CHILD_ENV,
        "PYTHONPATH": os.pathsep.join([str(checkout / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    written = root / "design_seven.yaml"
    written.write_text(DESIGN_SEVEN, encoding="utf-8")
    versioned = root / "design_seven.v2.yaml"
    versioned.write_text("version: 2\n" + DESIGN_SEVEN, encoding="utf-8")
    # Its loader has changed its mind about a 'version' key: take the first graph it accepts.
    candidates = [*sorted(checkout.glob("local/graphs/validate_7node*.yaml")), written, versioned]
    for graph in candidates:
        command = [python, "-m", "schnitzel_stream", "validate", "--graph", str(graph)]
        if subprocess.run(command, capture_output=True, env=env, cwd=root, check=False).returncode == 0:
            return command, env
    return None


def _side_by_side(ours: list[str], theirs: list[str], env: dict[str, str], runs: int) -> None:
    """Median wall and CPU times of our validate, the design's and the floor, run in turn; ratios."""
    floor = [sys.executable, "-c", "import yaml, jsonschema_rs"]
    times: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": [], "floor": []}
    for _ in range(runs):
        times["ours"].append(_run(ours))
        times["theirs"].append(_run(theirs, env))
        times["floor"].append(_run(floor))
    wall = {name: statistics.median(w for w, _ in values) for name, values in times.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in times.items()}
    figure("reference: the design's validate (its 7-node graph)", wall["theirs"] * 1000, "ms")
    figure("  cpu time (user + system) of the same", cpu["theirs"] * 1000, "ms")
    figure("ours, alternating with it (our 7-node graph)", wall["ours"] * 1000, "ms")
    figure("  cpu time (user + system) of the same", cpu["ours"] * 1000, "ms")
    figure("ratio ours / reference, wall time", wall["ours"] / wall["theirs"], "x", "<= 0.5 x")
    figure("ratio ours / reference, cpu time", cpu["ours"] / cpu["theirs"], "x")
    figure("floor: python -c 'import yaml, jsonschema_rs'", wall["floor"] * 1000, "ms")
    figure("  cpu time (user + system) of the same", cpu["floor"] * 1000, "ms")
    figure("ratio floor / reference, wall time", wall["floor"] / wall["theirs"], "x")
    figure("ratio floor / reference, cpu time", cpu["floor"] / cpu["theirs"], "x")


def main() -> None:
    script = _console_script()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        graph = root / "seven.yaml"
        graph.write_text(SEVEN_NODES, encoding="utf-8")
        many = root / "many"
        many.mkdir()
        for i in range(100):
            (many / f"graph_{i:03d}.yaml").write_text(SEVEN_NODES, encoding="utf-8")

        heading(f"validate: fresh processes, median of {RUNS} runs")
        python = [sys.executable]
        _process("python -c pass", [*python, "-c", "pass"], RUNS)
        _process("python -c 'import yaml'", [*python, "-c", "import yaml"], RUNS)
        _process("python -c 'import jsonschema'", [*python, "-c", "import jsonschema"], RUNS)
        _process("schnitzel-stream --help", [*script, "--help"], RUNS, "<= 150 ms")
        _process(
            "schnitzel-stream validate (7-node graph)", [*script, "validate", str(graph)], RUNS, "<= 300 ms"
        )
        _process(
            "schnitzel-stream validate (100 graphs, one call)",
            [*script, "validate", str(many)],
            10,
            "<= 2000 ms",
        )

        heading(f"validate side by side with the design, alternating, median of {RUNS} runs each")
        reference = _reference(root)
        if reference is None:
            print("  reference: not available (set SCHNITZEL_REFERENCE_DIR to its checkout)", flush=True)
        else:
            _side_by_side([*script, "validate", str(graph)], reference[0], reference[1], RUNS)

        from schnitzel_stream.graph.validate import ValidateOptions, validate_file

        options = ValidateOptions.from_environment()
        report = validate_file(str(graph), options)
        assert report.valid, report.problems
        heading("validate: in-process, everything imported, median of 200 runs")
        per_file = median_seconds(lambda: validate_file(str(graph), options), 200)
        figure("validate_file (7-node graph)", per_file * 1000, "ms")


if __name__ == "__main__":
    main()
