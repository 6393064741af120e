"""The design's document shapes: accepted with a warning naming the modern form, and what is refused."""

from __future__ import annotations

from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text, validate_text
from schnitzel_stream.paths import resolve_paths

PATHS = resolve_paths(os_name="linux", environ={}, scope="portable", root="/srv/edge")
OPTIONS = ValidateOptions(environ={}, paths=PATHS)

DESIGN = """\
nodes:
  - node_id: src
    kind: source
    plugin: schnitzel_stream.nodes.dev:StaticSource
    config: {packets: [{kind: event, payload: {n: 1}}]}
  - node_id: relay
    plugin: schnitzel_stream.nodes.dev:Identity
  - id: out
    kind: sink
    plugin: schnitzel_stream.nodes.file_sink:JsonlSink
    config: {path: "${oc.env:OUT,/tmp}/e.jsonl", body: payload, flush: false}
edges:
  - {from: src, to: relay, from_port: out, to_port: in}
  - {src: relay, dst: out, src_port: a, dst_port: b}
config: {}
"""


def test_the_designs_shapes_load_with_a_warning_each_at_the_line_written() -> None:
    graph, report = validate_text(DESIGN, "g.yaml", OPTIONS)
    assert graph is not None
    found = [(p.code, p.line) for p in report.problems]
    assert found == [
        ("compat.no-version", 1),
        ("compat.node-id", 2),
        ("compat.node-id", 6),
        ("compat.no-kind", 6),
        ("compat.plugin-path", 10),
        ("compat.oc-env", 11),
        ("compat.edge-port", 13),
        ("compat.edge-port", 13),
        ("compat.edge-port", 14),
        ("compat.edge-port", 14),
    ]
    assert all(p.severity == "warning" and p.hint for p in report.problems)
    assert [d.id for d in graph.nodes] == ["src", "relay", "out"]
    assert graph.node("relay").kind == "node"
    assert graph.node("out").config == {"path": "/tmp/e.jsonl", "body": "payload", "flush": False}
    assert [(e.src, e.dst) for e in graph.edges] == [("src", "relay"), ("relay", "out")]


def test_a_string_version_two_is_accepted_and_others_are_not() -> None:
    text = DESIGN.replace("nodes:\n", 'version: "2"\nnodes:\n', 1)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert report.valid and "compat.version" in {p.code for p in report.problems}
    for bad in ('version: "1"', "version: 1", 'version: "2.0"'):
        _, report = validate_text(DESIGN.replace("nodes:\n", f"{bad}\nnodes:\n", 1), "g.yaml", OPTIONS)
        assert not report.valid, bad


def test_both_id_and_node_id_is_refused_rather_than_guessed() -> None:
    text = DESIGN.replace("  - node_id: src\n", "  - node_id: src\n    id: source\n")
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert not report.valid
    assert ("schema.unknown-key", "nodes[0].node_id") in {(p.code, p.path) for p in report.problems}


def test_a_source_plugin_without_kind_is_a_node_as_in_the_design_and_so_refused() -> None:
    text = DESIGN.replace("  - node_id: src\n    kind: source\n", "  - node_id: src\n")
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert not report.valid
    assert "graph.role" in {p.code for p in report.problems}


def test_modern_graphs_get_no_compat_warning() -> None:
    text = (
        "version: 2\nnodes:\n  - {id: src, kind: source, plugin: static_source}\n"
        "  - {id: out, kind: sink, plugin: jsonl_sink, config: {path: x}}\nedges: [{from: src, to: out}]\n"
    )
    graph = load_graph_text(text, "g.yaml", OPTIONS)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert graph.version == 2 and not [p for p in report.problems if p.code.startswith("compat.")]
