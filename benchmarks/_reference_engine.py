"""Ours, run under the REFERENCE's interpreter: times the design's own in-process runner.

``bench_engine.py`` starts this with ``$SCHNITZEL_REFERENCE_DIR/.venv/bin/python`` and
``PYTHONPATH=$SCHNITZEL_REFERENCE_DIR/src``, so ``schnitzel_stream`` here is the design this
project comes from, never ours. The graph is the one ``bench_engine.py`` runs through our
engine: a static source -> identity -> identity -> identity (the last one the sink), built
in Python (the design loads YAML through OmegaConf at ~2 ms per listed packet, which would
dominate), and ``InProcGraphRunner().run()`` is timed alone, like our ``Engine.run()``.

Prints one JSON line: packets through the last node, wall seconds, CPU seconds.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

# The design's modules, by PYTHONPATH; imported by name so that type checkers, which see our
# package under the same name, do not confuse the two.
_model: Any = importlib.import_module("schnitzel_stream.graph.model")
_inproc: Any = importlib.import_module("schnitzel_stream.runtime.inproc")
NodeSpec, EdgeSpec, InProcGraphRunner = _model.NodeSpec, _model.EdgeSpec, _inproc.InProcGraphRunner


def main() -> None:
    count = int(sys.argv[1])
    packets = [
        {"kind": "event", "source_id": "bench", "payload": {"n": index % 4 + 1}} for index in range(count)
    ]
    dev = "schnitzel_stream.nodes.dev"
    nodes = [
        NodeSpec(node_id="src", plugin=f"{dev}:StaticSource", kind="source", config={"packets": packets}),
        NodeSpec(node_id="a", plugin=f"{dev}:Identity", kind="node"),
        NodeSpec(node_id="b", plugin=f"{dev}:Identity", kind="node"),
        NodeSpec(node_id="c", plugin=f"{dev}:Identity", kind="sink"),
    ]
    edges = [EdgeSpec(src="src", dst="a"), EdgeSpec(src="a", dst="b"), EdgeSpec(src="b", dst="c")]
    runner = InProcGraphRunner()
    wall, cpu = time.perf_counter(), time.process_time()
    result = runner.run(nodes=nodes, edges=edges)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    through = len(result.outputs_by_node["c"])
    print(json.dumps({"packets": through, "elapsed": wall, "cpu": cpu}))


if __name__ == "__main__":
    main()
