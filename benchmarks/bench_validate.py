"""``schnitzel-stream validate`` speed (issue #2): what a pre-deploy check or CI step waits for.

- median wall time of the venv's ``schnitzel-stream validate`` on a 7-node graph (target <= 0.3 s);
- ``schnitzel-stream --help`` (target <= 0.15 s);
- 100 graphs in one call (target <= 2 s);
- for context: bare interpreter start, ``import yaml``, ``import jsonschema``, and the
  in-process cost of validating one file once everything is imported.

Every figure is the median of at least 10 runs of a fresh process (the in-process one of 200).
Wall time is the target; the CPU time (user + system of the child) is printed beside it because
on a shared 2-core machine other work inflates wall time but hardly the child's own CPU time.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import console_script, figure, heading, median_seconds, process_figure

RUNS = int(os.environ.get("BENCH_RUNS", "15"))

SEVEN_NODES = """\
version: 2
nodes:
  - {id: cam, kind: source, plugin: synthetic_camera, config: {width: 640, height: 360, fps: 15}}
  - {id: motion, kind: node, plugin: motion_detector, config: {threshold: 25, min_area: 100}}
  - {id: fan, kind: node, plugin: identity, config: {__runtime__: {inbox_max: 64}}}
  - {id: file, kind: sink, plugin: jsonl_sink, config: {path: "${state}/events.jsonl", rotate_max_bytes: 1048576}}
  - {id: console, kind: sink, plugin: print_sink, config: {prefix: "event: "}}
  - {id: ticks, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {n: 1}}]}}
  - {id: relay, kind: node, plugin: identity, config: {}}
edges:
  - {from: cam, to: motion}
  - {from: motion, to: fan}
  - {from: fan, to: file}
  - {from: fan, to: console}
  - {from: ticks, to: relay}
  - {from: relay, to: file}
"""


def main() -> None:
    script = console_script()
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
        process_figure("python -c pass", [*python, "-c", "pass"], RUNS)
        process_figure("python -c 'import yaml'", [*python, "-c", "import yaml"], RUNS)
        process_figure("python -c 'import jsonschema'", [*python, "-c", "import jsonschema"], RUNS)
        process_figure("schnitzel-stream --help", [*script, "--help"], RUNS, "<= 0.15 s")
        process_figure(
            "schnitzel-stream validate (7-node graph)", [*script, "validate", str(graph)], RUNS, "<= 0.3 s"
        )
        process_figure(
            "schnitzel-stream validate (100 graphs, one call)", [*script, "validate", str(many)], 10, "<= 2 s"
        )

        from schnitzel_stream.graph.validate import ValidateOptions, validate_file

        options = ValidateOptions.from_environment()
        report = validate_file(str(graph), options)
        assert report.valid, report.problems
        heading("validate: in-process, everything imported, median of 200 runs")
        per_file = median_seconds(lambda: validate_file(str(graph), options), 200)
        figure("validate_file (7-node graph)", per_file * 1000, "ms")


if __name__ == "__main__":
    main()
