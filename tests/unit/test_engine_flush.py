"""The engine's ``flush()`` hook: what a node holds back reaches the nodes downstream.

``Holder`` (tests/support/nodes.py) keeps every packet until ``flush()``. However the graph
ends (its input ends, a duration runs out, a stop is requested) the engine calls ``flush()``
once, before the nodes downstream stop, so they receive everything it held.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from schnitzel_stream.graph.validate import load_graph_text
from schnitzel_stream.runtime.inproc import Engine, EngineOptions
from schnitzel_stream.runtime.sdnotify import Notifier
from tests.support import nodes

GRAPH = """
version: 2
plugins: {{allow: [tests.support]}}
nodes:
  - {{id: src, kind: source, plugin: "tests.support.nodes:Counter", config: {{count: {count}, interval: {interval}}}}}
  - {{id: hold, kind: node, plugin: "tests.support.nodes:Holder"}}
  - {{id: out, kind: sink, plugin: "tests.support.nodes:Collect"}}
edges:
  - {{from: src, to: hold}}
  - {{from: hold, to: out}}
"""


def engine_for(count: int, interval: float, duration: float | None = None) -> Engine:
    graph = load_graph_text(GRAPH.format(count=count, interval=interval), "flush.yaml")
    return Engine(graph, EngineOptions(status_interval=0, duration=duration), Notifier(None))


def test_flush_at_the_end_of_input_reaches_the_sink() -> None:
    result = engine_for(7, 0).run()
    assert result.reason == "completed" and result.error is None
    assert [p.payload["n"] for p in nodes.COLLECTED["out"]] == list(range(7))
    assert result.report["nodes"]["hold"]["out"] == 7


@pytest.mark.parametrize("how", ["duration", "stop-request"])
def test_flush_when_the_graph_is_stopped_reaches_the_sink(how: str) -> None:
    engine = engine_for(0, 0.01, duration=0.5) if how == "duration" else engine_for(0, 0.01)
    results = []
    runner = threading.Thread(target=lambda: results.append(engine.run()))
    runner.start()
    if how == "stop-request":
        deadline = time.monotonic() + 30
        while not _held(engine) and time.monotonic() < deadline:
            time.sleep(0.02)
        engine.stop_requested = "test"
    runner.join(60)
    assert not runner.is_alive()
    (result,) = results
    held_in = result.report["nodes"]["hold"]["in"]
    assert held_in > 0
    # Everything the holder took was passed on and processed before the sink stopped.
    assert len(nodes.COLLECTED["out"]) == held_in == result.report["nodes"]["out"]["in"]


def _held(engine: Engine) -> int:
    found = re.search(r"hold in=(\d+)", engine.status_line())
    return int(found.group(1)) if found else 0
