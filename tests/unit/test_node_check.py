"""Per-node checks: safe ids, *_from_env variables, typed references in __runtime__, design paths."""

from __future__ import annotations

import pytest

from schnitzel_stream.graph.validate import ValidateOptions, load_graph_text, validate_text
from schnitzel_stream.paths import resolve_paths

PATHS = resolve_paths(os_name="linux", environ={}, scope="portable", root="/srv/edge")


def _graph(node_id: str = "cam", sink: str = "{id: out, kind: sink, plugin: print_sink}") -> str:
    return (
        "version: 2\nnodes:\n"
        f'  - {{id: "{node_id}", kind: source, plugin: static_source, config: {{packets: []}}}}\n'
        f"  - {sink}\n"
        f'edges: [{{from: "{node_id}", to: out}}]\n'
    )


def _problems(text: str, **options: object) -> list[tuple[str, str, str]]:
    environ = options.pop("environ", {})
    _, report = validate_text(text, "g.yaml", ValidateOptions(environ=environ, paths=PATHS, **options))  # type: ignore[arg-type]
    return [(p.code, p.severity, p.path) for p in report.problems]


@pytest.mark.parametrize(
    ("node_id", "suggestion"),
    [
        pytest.param("c\u0430m", "cam", id="cyrillic-a"),
        pytest.param("cam\u202e", "cam", id="bidi-override"),
        pytest.param("front door", "front_door", id="space"),
        pytest.param("\uff43\uff41\uff4d", "cam", id="fullwidth"),
        pytest.param("x" * 65, "x" * 64, id="too-long"),
        pytest.param("-cam", "cam", id="leading-dash"),
        pytest.param("cam\u200b", "cam", id="zero-width-space"),
    ],
)
def test_node_ids_outside_the_safe_set_are_refused_with_a_suggestion(node_id: str, suggestion: str) -> None:
    _, report = validate_text(_graph(node_id), "g.yaml", ValidateOptions(environ={}, paths=PATHS))
    (problem,) = [p for p in report.problems if p.code == "graph.node-id"]
    assert (problem.path, problem.line, problem.column) == ("nodes[0].id", 3, 10)
    assert problem.hint is not None and f"did you mean {suggestion!r}?" in problem.hint
    assert "\u202e" not in problem.message and "\u200b" not in problem.message  # never raw controls
    assert not report.valid


@pytest.mark.parametrize("node_id", ["cam", "cam-01", "front_door", "cam.1", "1st", "_x", "x" * 64])
def test_safe_ids_pass(node_id: str) -> None:
    assert not [c for c, _, _ in _problems(_graph(node_id)) if c == "graph.node-id"]


HTTP = "{id: out, kind: sink, plugin: http_sink, config: {url_from_env: BACKEND_URL, headers_from_env: {Authorization: BACKEND_AUTH}}}"


def test_an_unset_from_env_variable_is_a_located_warning() -> None:
    found = _problems(_graph(sink=HTTP))
    assert ("env.unset", "warning", "nodes[1].config.url_from_env") in found
    assert ("env.unset", "warning", "nodes[1].config.headers_from_env.Authorization") in found


def test_an_unset_from_env_variable_is_an_error_when_the_environment_must_be_complete() -> None:
    found = _problems(_graph(sink=HTTP), require_env=True)
    assert ("env.unset", "error", "nodes[1].config.url_from_env") in found
    assert (
        _problems(
            _graph(sink=HTTP),
            require_env=True,
            environ={"BACKEND_URL": "http://h/x", "BACKEND_AUTH": "Bearer t"},
        )
        == []
    )


def test_an_empty_from_env_variable_is_a_warning_even_when_the_environment_must_be_complete() -> None:
    found = _problems(_graph(sink=HTTP), environ={"BACKEND_URL": "", "BACKEND_AUTH": "t"}, require_env=True)
    assert found == [("env.empty", "warning", "nodes[1].config.url_from_env")]


def test_a_from_env_value_that_is_not_utf8_is_an_error() -> None:
    bad = b"http://h/\xff".decode("utf-8", "surrogateescape")
    found = _problems(_graph(sink=HTTP), environ={"BACKEND_URL": bad, "BACKEND_AUTH": "t"})
    assert found == [("env.encoding", "error", "nodes[1].config.url_from_env")]


def test_mqtt_password_from_env_is_checked_too() -> None:
    sink = "{id: out, kind: sink, plugin: mqtt_sink, config: {url: 'mqtt://127.0.0.1:1883', topic: t, password_from_env: MQTT_PW, username: u}}"
    assert ("env.unset", "warning", "nodes[1].config.password_from_env") in _problems(_graph(sink=sink))


def test_runtime_settings_take_typed_references() -> None:
    sink = "{id: out, kind: sink, plugin: print_sink, config: {__runtime__: {inbox_max: '${INBOX}'}}}"
    options = ValidateOptions(environ={"INBOX": "64"}, paths=PATHS)
    graph = load_graph_text(_graph(sink=sink), "g.yaml", options)
    assert graph.node("out").runtime.inbox_max == 64
    assert ("schema.type", "error", "nodes[1].config.__runtime__.inbox_max") in _problems(
        _graph(sink=sink), environ={"INBOX": "many"}
    )


@pytest.mark.parametrize(
    "config",
    [
        pytest.param('{packets: [{kind: event, source_id: "gate\u202e7"}]}', id="static-packet"),
        pytest.param('{packets: [], source_id_note: 1, x: {source_id: "c\u0430m"}}', id="nested"),
    ],
)
def test_source_ids_are_held_to_the_same_safe_set(config: str) -> None:
    text = _graph().replace("config: {packets: []}", f"config: {config}")
    found = {(code, path) for code, _, path in _problems(text)}
    assert any(code == "graph.source-id" for code, _ in found), found


def test_a_source_id_built_from_a_reference_is_checked_after_interpolation() -> None:
    text = _graph().replace(
        "config: {packets: []}", 'config: {packets: [{kind: e, source_id: "${SITE}-cam"}]}'
    )
    assert ("graph.source-id", "error", "nodes[0].config.packets[0].source_id") in _problems(
        text, environ={"SITE": "north gate"}
    )
    assert _problems(text, environ={"SITE": "north-gate"}) == []
