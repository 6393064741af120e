"""The validation pipeline: files and directories in, a located report and a typed Graph out."""

from __future__ import annotations

import uuid
from pathlib import Path, PurePosixPath

import pytest

from schnitzel_stream.errors import GraphError
from schnitzel_stream.graph.model import RuntimeOptions
from schnitzel_stream.graph.validate import (
    ValidateOptions,
    load_graph,
    load_graph_text,
    validate_file,
    validate_files,
    validate_text,
)
from schnitzel_stream.paths import resolve_paths

REFERENCE = Path(__file__).resolve().parents[2] / "ops" / "graphs" / "synthetic_camera.yaml"
PATHS = resolve_paths(os_name="linux", environ={}, scope="portable", root="/srv/edge")
OPTIONS = ValidateOptions(environ={}, paths=PATHS)

GRAPH = """\
version: 2
nodes:
  - id: cam
    kind: source
    plugin: synthetic_camera
    config: {width: 320, height: 180, fps: 5}
  - id: motion
    kind: node
    plugin: schnitzel_stream.nodes.motion:MotionDetector
    config:
      threshold: 30
      __runtime__: {inbox_max: 4, inbox_overflow: drop_oldest}
  - id: out
    kind: sink
    plugin: jsonl_sink
    config: {path: "${state}/events.jsonl", fsync: true}
edges:
  - {from: cam, to: motion}
  - {src: motion, dst: out}
"""


def test_valid_graph_becomes_a_typed_graph() -> None:
    graph = load_graph_text(GRAPH, "g.yaml", OPTIONS)
    assert [(d.id, d.kind, d.spec.name, d.position) for d in graph.nodes] == [
        ("cam", "source", "synthetic_camera", 0),
        ("motion", "node", "motion_detector", 1),
        ("out", "sink", "jsonl_sink", 2),
    ]
    assert [(edge.src, edge.dst, edge.position) for edge in graph.edges] == [
        ("cam", "motion", 0),
        ("motion", "out", 1),
    ]
    motion = graph.node("motion")
    assert motion.config == {"threshold": 30}  # __runtime__ is split off
    assert motion.runtime == RuntimeOptions(inbox_max=4, inbox_overflow="drop_oldest")
    assert graph.node("out").config == {
        "path": str(PurePosixPath("/srv/edge/state/events.jsonl")),
        "fsync": True,
    }
    assert graph.node("cam").runtime == RuntimeOptions()
    assert graph.source_file == "g.yaml"
    assert graph.config == {}


def test_reference_graph_loads_from_disk() -> None:
    graph = load_graph(str(REFERENCE), OPTIONS)
    assert graph.downstream("cam") == ("motion",)
    assert graph.upstream("events") == ("motion",)


def test_invalid_graph_raises_with_every_problem() -> None:
    broken = GRAPH.replace("width: 320", "widht: 320").replace("to: motion}", "to: motoin}")
    with pytest.raises(GraphError) as caught:
        load_graph_text(broken, "g.yaml", OPTIONS)
    found = [(p.code, p.path, p.line) for p in caught.value.problems]
    assert found == [
        ("schema.unknown-key", "nodes[0].config.widht", 6),
        ("graph.unknown-node", "edges[0].to", 18),
    ]
    assert all(p.file == "g.yaml" and p.column for p in caught.value.problems)


def test_warnings_do_not_make_a_graph_invalid() -> None:
    text = "version: 2\nnodes:\n  - {id: cam, kind: source, plugin: synthetic_camera, config: {}}\n"
    graph, report = validate_text(text, "g.yaml", OPTIONS)
    assert graph is not None
    assert report.valid
    assert [(p.code, p.severity) for p in report.problems] == [("graph.dead-end", "warning")]


def test_missing_variable_is_reported_once_not_again_as_a_type_error() -> None:
    text = GRAPH.replace("width: 320", 'width: "${CAM_WIDTH}"')
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [(p.code, p.path) for p in report.problems] == [("interp.missing-env", "nodes[0].config.width")]


def test_interpolated_values_take_the_type_the_schema_wants() -> None:
    text = GRAPH.replace("width: 320", 'width: "${CAM_WIDTH}"').replace("fsync: true", 'fsync: "${SYNC}"')
    options = ValidateOptions(environ={"CAM_WIDTH": "320", "SYNC": "False"}, paths=PATHS)
    graph = load_graph_text(text, "g.yaml", options)
    assert graph.node("cam").config["width"] == 320
    assert graph.node("out").config["fsync"] is False


def test_interpolated_text_that_does_not_fit_is_a_located_error_naming_the_reference() -> None:
    text = GRAPH.replace("width: 320", 'width: "${CAM_WIDTH}"')
    options = ValidateOptions(environ={"CAM_WIDTH": "wide"}, paths=PATHS)
    _, report = validate_text(text, "g.yaml", options)
    (problem,) = report.problems
    # The message names the reference, never the environment's value (it may be a secret).
    assert (problem.code, problem.message, problem.path) == (
        "schema.type",
        "expected an integer, got the string built from '${CAM_WIDTH}'",
        "nodes[0].config.width",
    )
    assert problem.line is not None
    assert problem.hint == "the text of the reference must read as an integer"
    assert "wide" not in problem.one_line()


def test_literal_strings_are_never_converted() -> None:
    text = GRAPH.replace("width: 320", 'width: "320"')
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [p.code for p in report.problems] == ["schema.type"]


def test_environment_values_reach_the_config() -> None:
    text = GRAPH.replace('"${state}/events.jsonl"', '"${EVENTS_DIR:-/tmp}/${EVENTS_FILE}"')
    options = ValidateOptions(environ={"EVENTS_FILE": "e.jsonl"}, paths=PATHS)
    graph = load_graph_text(text, "g.yaml", options)
    assert graph.node("out").config["path"] == "/tmp/e.jsonl"


def test_problems_come_sorted_by_position() -> None:
    text = GRAPH.replace("fsync: true", "fsync: maybe").replace("threshold: 30", "threshold: high")
    text = text.replace("version: 2", "version: 2\nextra: 1")
    _, report = validate_text(text, "g.yaml", OPTIONS)
    lines = [p.line or 0 for p in report.problems]
    assert lines == sorted(lines) and len(lines) == 3


# -- plugins outside the package -----------------------------------------------------------------

PLUGIN_MODULE = '''
from schnitzel_stream.nodes.base import Node, NodeSpec

SPEC = NodeSpec(
    name="{pkg}.nodes:Enricher",
    target="{pkg}.nodes:Enricher",
    roles=frozenset({{"node"}}),
    title="Enricher",
    description="Adds a field.",
    schema={{"type": "object", "additionalProperties": False,
             "properties": {{"field": {{"type": "string"}}}}}},
    consumes=frozenset({{"event"}}),
    produces=frozenset({{"event"}}),
)


class Enricher(Node):
    SPEC = SPEC


class Legacy(Node):
    """A plugin written for the older design."""

    INPUT_KINDS = {{"event"}}
    OUTPUT_KINDS = {{"event"}}
    CONFIG_SCHEMA = {{"type": "object", "required": ["level"]}}


class Broken(Node):
    CONFIG_SCHEMA = {{"type": "object", "properties": {{"x": {{"type": 12}}}}}}
'''

THIRD_PARTY = """\
version: 2
{plugins}nodes:
  - {{id: cam, kind: source, plugin: synthetic_camera, config: {{}}}}
  - {{id: motion, kind: node, plugin: motion_detector, config: {{}}}}
  - {{id: extra, kind: node, plugin: "{target}", config: {config}}}
  - {{id: out, kind: sink, plugin: print_sink, config: {{}}}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: extra}}
  - {{from: extra, to: out}}
"""


@pytest.fixture
def plugin_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real importable package, named uniquely so xdist workers and reruns never collide."""
    name = f"acme_{uuid.uuid4().hex[:10]}"
    package = tmp_path / "site" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "nodes.py").write_text(PLUGIN_MODULE.format(pkg=name))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return name


def _third_party(target: str, config: str = "{}", allow: str | None = None) -> str:
    plugins = f"plugins: {{allow: [{allow}]}}\n" if allow else ""
    return THIRD_PARTY.format(plugins=plugins, target=target, config=config)


def test_third_party_plugin_needs_the_allowlist(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Enricher")
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [(p.code, p.path) for p in report.problems] == [("plugin.not-allowed", "nodes[2].plugin")]


def test_allowlist_in_the_graph_admits_the_plugin_and_its_schema_applies(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Enricher", config="{field: 5}", allow=plugin_package)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [(p.code, p.path) for p in report.problems] == [("schema.type", "nodes[2].config.field")]


def test_allowlist_from_the_environment(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Enricher", config="{field: ok}")
    options = ValidateOptions.from_environment(
        environ={"SCHNITZEL_STREAM_PLUGIN_ALLOWLIST": f"other.pkg, {plugin_package}"}, paths=PATHS
    )
    assert options.allowlist == ("other.pkg", plugin_package)
    graph, report = validate_text(text, "g.yaml", options)
    assert report.problems == ()
    assert graph is not None and graph.node("extra").spec.title == "Enricher"


def test_legacy_class_attributes_give_the_spec(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Legacy", allow=plugin_package)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [(p.code, p.message) for p in report.problems] == [
        ("schema.required", "missing required key 'level'")
    ]


def test_broken_plugin_schema_is_reported(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Broken", allow=plugin_package)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert [p.code for p in report.problems] == ["plugin.bad-schema"]


def test_missing_class_in_an_allowlisted_module(plugin_package: str) -> None:
    text = _third_party(f"{plugin_package}.nodes:Enrichr", allow=plugin_package)
    _, report = validate_text(text, "g.yaml", OPTIONS)
    (problem,) = report.problems
    assert (problem.code, problem.hint) == ("plugin.unknown", "did you mean 'Enricher'?")


def test_plugins_need_not_be_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"acme_{uuid.uuid4().hex[:10]}"
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Thing: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    text = _third_party(f"{name}:Thing", allow=name)
    options = ValidateOptions(environ={}, paths=PATHS, import_plugins=False)
    _, report = validate_text(text, "g.yaml", options)
    assert report.valid
    assert not marker.exists()
    _, report = validate_text(text, "g.yaml", OPTIONS)
    assert marker.exists()  # the default does import allowlisted plugins, to read their specs


# -- files and directories ---------------------------------------------------------------------


def test_directories_are_walked_sorted_skipping_hidden(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "b" / "two.yml").write_text(GRAPH)
    (tmp_path / "a.yaml").write_text(GRAPH)
    (tmp_path / "b" / "one.YAML").write_text("version: 1\n")
    (tmp_path / "notes.txt").write_text("not a graph")
    (tmp_path / ".hidden" / "x.yaml").write_text("broken: [")
    report = validate_files([str(tmp_path)], OPTIONS)
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in report.files] == [
        "a.yaml",
        "b/one.YAML",
        "b/two.yml",
    ]
    assert [f.valid for f in report.files] == [True, False, True]
    assert report.summary() == "3 files checked, 1 invalid, 2 errors, 0 warnings"


def test_empty_directory_is_a_problem(tmp_path: Path) -> None:
    report = validate_files([str(tmp_path)], OPTIONS)
    assert not report.valid
    assert [p.code for p in report.files[0].problems] == ["io.no-graphs"]


def test_the_same_file_is_checked_once(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text(GRAPH)
    report = validate_files([str(path), str(tmp_path), str(tmp_path / "." / "g.yaml")], OPTIONS)
    assert len(report.files) == 1


def test_unreadable_paths_are_reports_not_exceptions(tmp_path: Path) -> None:
    report = validate_file(str(tmp_path / "missing.yaml"), OPTIONS)
    assert not report.valid and report.problems[0].code == "io.missing"
    assert report.source is None
