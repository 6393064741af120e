"""``schnitzel-stream graph``: Mermaid and DOT pictures of a graph, safe for any node id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schnitzel_stream.graph.draw import draw
from schnitzel_stream.graph.model import Edge, Graph, NodeDecl
from schnitzel_stream.graph.validate import ValidateOptions, load_graph
from schnitzel_stream.paths import resolve_paths
from tests.support import nodes

REPO = Path(__file__).resolve().parents[2]
DURABLE = REPO / "ops" / "graphs" / "synthetic_to_http_durable.yaml"
HOSTILE = [
    'a"]; click a call evil()',
    "b\n```\n# heading",
    "c<img src=x onerror=alert(1)>",
    'd\\"; e -> f [label="x"',
    "e%%{init: {}}%%",
    "f\u202eevil",
]


def _durable(tmp_path: Path) -> Graph:
    paths = resolve_paths(environ={}, scope="portable", root=str(tmp_path), overrides={})
    return load_graph(str(DURABLE), ValidateOptions.from_environment(paths=paths))


def test_mermaid_shows_nodes_edges_and_the_queue_between_the_two_halves(tmp_path: Path) -> None:
    text = draw(_durable(tmp_path), "mermaid")
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '    n0(["cam<br/>synthetic_camera #183; source"])' in lines
    assert '    n2[["enqueue<br/>sqlite_queue_sink #183; sink"]]' in lines
    assert "    n0 --> n1" in lines and "    n1 --> n2" in lines and "    n3 --> n4" in lines
    (queue,) = [line for line in lines if line.startswith("    q0[(")]
    assert "events.sqlite3" in queue
    assert "    n2 -.->|enqueue| q0" in lines
    assert "    q0 -.->|lease| n3" in lines
    assert "    n5 -.->|ack| q0" in lines


def test_dot_is_a_digraph_with_the_same_topology(tmp_path: Path) -> None:
    text = draw(_durable(tmp_path), "dot")
    assert text.startswith("digraph schnitzel_stream {\n") and text.endswith("}\n")
    assert '    n0 [label="cam\\nsynthetic_camera \u00b7 source", shape=oval];' in text
    assert "    n0 -> n1;" in text
    assert '    n2 -> q0 [style=dashed, label="enqueue"];' in text
    assert "shape=cylinder" in text


def _hostile_graph() -> Graph:
    decls = tuple(
        NodeDecl(
            id=name,
            kind="sink" if i else "source",
            plugin=name,
            spec=nodes.Collect.SPEC,
            config={},
            position=i,
        )
        for i, name in enumerate(HOSTILE)
    )
    edges = tuple(Edge(HOSTILE[0], dst, i) for i, dst in enumerate(HOSTILE[1:]))
    return Graph(nodes=decls, edges=edges)


MERMAID_LINE = re.compile(
    r"flowchart LR"
    r'|    n\d+(\(\[|\[\[|\[)"[A-Za-z0-9 _.,:/+=()#;<>-]*"(\]\)|\]\]|\])'
    r"|    n\d+ --> n\d+"
)


def test_mermaid_escapes_hostile_ids_and_plugins() -> None:
    text = draw(_hostile_graph(), "mermaid")
    for line in text.splitlines():
        assert MERMAID_LINE.fullmatch(line), line
        # Inside a label, < and > only appear as our own <br/>.
        assert line.replace("<br/>", "").count("<") == 0, line
    assert "```" not in text and "%%" not in text and "\u202e" not in text
    assert "#34;" in text and "#10;" in text  # the quote and the newline, as entity codes


def test_dot_escapes_hostile_ids_and_plugins() -> None:
    text = draw(_hostile_graph(), "dot")
    for line in text.splitlines()[3:-1]:
        # Either a node whose label is one well-formed quoted string, or a plain edge.
        label = re.fullmatch(r'    n\d+ \[label="(?:[^"\\]|\\.)*", shape=\w+\];', line)
        assert label or re.fullmatch(r"    n\d+ -> n\d+;", line), line
    assert "\n```" not in text and "\u202e" not in text


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_every_reference_graph_draws(fmt: str, tmp_path: Path) -> None:
    paths = resolve_paths(environ={}, scope="portable", root=str(tmp_path), overrides={})
    for path in sorted((REPO / "ops" / "graphs").glob("*.yaml")):
        graph = load_graph(str(path), ValidateOptions.from_environment(paths=paths))
        text = draw(graph, fmt)  # type: ignore[arg-type]
        assert text.count("n") > len(graph.nodes), path
