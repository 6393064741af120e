"""``mqtt_sink`` config and topic templates: parsing, defaults, secrets, static validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError
from schnitzel_stream.nodes._delivery import came_from_queue
from schnitzel_stream.nodes._delivery import resolve as resolve_on_failure
from schnitzel_stream.nodes.mqtt import MqttSink
from schnitzel_stream.nodes.mqtt._config import default_client_id, parse_settings
from schnitzel_stream.nodes.mqtt._schema import SCHEMA
from schnitzel_stream.nodes.mqtt._topic import TopicError, TopicTemplate
from schnitzel_stream.nodes.registry import resolve
from schnitzel_stream.packet import Packet

BASE: dict[str, Any] = {"url": "mqtt://broker.local:1883", "topic": "events/{source_id}"}


def packet(payload: Any = None, **meta: Any) -> Packet:
    return Packet.new("event", "cam-1", {"zone": "gate", "n": 3} if payload is None else payload, meta=meta)


def problems_of(config: dict[str, Any], environ: dict[str, str] | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_settings("out", config, environ or {})
    return [(p.path, p.message) for p in caught.value.problems]


# -- settings --------------------------------------------------------------------------


def test_defaults() -> None:
    settings = parse_settings("out", BASE, {})
    assert (settings.host, settings.port, settings.display_url) == (
        "broker.local",
        1883,
        "mqtt://broker.local:1883",
    )
    assert (settings.qos, settings.retain, settings.protocol, settings.body) == (
        1,
        False,
        "mqttv5",
        "payload",
    )
    assert (settings.forward, settings.on_failure, settings.keepalive_sec) == (False, "auto", 30)
    assert (
        settings.publish_timeout_sec,
        settings.reconnect_backoff_sec,
        settings.reconnect_backoff_max_sec,
    ) == (
        5.0,
        0.5,
        30.0,
    )
    assert settings.tls is None and settings.username is None and settings.password is None
    assert settings.client_id == default_client_id("out")


def test_schema_defaults_match_the_settings_defaults() -> None:
    settings = parse_settings("out", BASE, {})
    derived = {"topic_vars", "client_id", "username_from_env", "password_from_env"}  # resolved into others
    for key, prop in SCHEMA["properties"].items():
        if "default" in prop and key not in derived:
            assert getattr(settings, key) == prop["default"], key


def test_default_client_id_is_stable_and_safe() -> None:
    client_id = default_client_id("my node/1")
    assert client_id == default_client_id("my node/1")
    assert client_id.startswith("schnitzel-") and client_id.endswith("-my-node-1")
    assert all(ch.isalnum() or ch in "-_." for ch in client_id)
    assert len(default_client_id("x" * 500)) == 128


@pytest.mark.parametrize(
    ("url", "host", "port", "secure"),
    [
        pytest.param("mqtt://10.0.0.5:1883", "10.0.0.5", 1883, False, id="ipv4"),
        pytest.param("mqtts://broker.example.com:8883", "broker.example.com", 8883, True, id="tls"),
        pytest.param("mqtt://[::1]:1883/", "::1", 1883, False, id="ipv6-trailing-slash"),
    ],
)
def test_url_forms(url: str, host: str, port: int, secure: bool) -> None:
    settings = parse_settings("out", {**BASE, "url": url}, {})
    assert (settings.host, settings.port, settings.tls is not None) == (host, port, secure)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://broker:1883", id="wrong-scheme"),
        pytest.param("mqtt://broker", id="no-port"),
        pytest.param("mqtt://broker:1883/topic", id="path"),
        pytest.param("mqtt://broker:99999", id="port-range"),
        pytest.param("${MQTT_URL}", id="unresolved-variable"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_urls_are_config_errors(url: str) -> None:
    (path, _), *_ = problems_of({**BASE, "url": url})
    assert path == "nodes.out.config.url"


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        pytest.param("mqtt://broker:1883", True, id="plain"),
        pytest.param("mqtts://user:pw@broker:8883", True, id="userinfo"),
        pytest.param("${MQTT_URL}", True, id="from-env"),
        pytest.param("mqtt://broker", False, id="no-port"),
        pytest.param("tcp://broker:1883", False, id="scheme"),
        pytest.param("mqtt://broker:1883/x", False, id="path"),
    ],
)
def test_schema_checks_the_url_statically(url: str, valid: bool) -> None:
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors({**BASE, "url": url}))
    assert (not errors) == valid


def test_schema_is_a_valid_schema_whose_examples_validate() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["additionalProperties"] is False
    for key, prop in SCHEMA["properties"].items():
        assert prop.get("title") and prop.get("description"), key
        for example in prop.get("examples", []):
            jsonschema.validate({**BASE, key: example}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**BASE, "password": "hunter22"}, SCHEMA)  # no password field, by design
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**BASE, "qos": 2}, SCHEMA)


def test_credentials_come_from_the_environment_and_are_registered_as_secrets() -> None:
    env = {"MQ_USER": "edge-7", "MQ_PASS": "pa55-from-env-1"}
    settings = parse_settings(
        "out", {**BASE, "username_from_env": "MQ_USER", "password_from_env": "MQ_PASS"}, env
    )
    assert (settings.username, settings.password) == ("edge-7", "pa55-from-env-1")
    assert "pa55-from-env-1" not in repr(settings)
    assert redact.redact("login failed for pa55-from-env-1") == "login failed for ***"


def test_credentials_in_the_url_are_decoded_masked_and_registered() -> None:
    settings = parse_settings("out", {**BASE, "url": "mqtt://edge%40site:p%2Fw-url-99@broker:1883"}, {})
    assert (settings.username, settings.password) == ("edge@site", "p/w-url-99")
    assert settings.display_url == "mqtt://broker:1883"
    assert redact.redact("error: p/w-url-99") == "error: ***"


@pytest.mark.parametrize(
    ("config", "path", "fragment"),
    [
        pytest.param(
            {"username": "a", "password_from_env": "NOPE"},
            "nodes.out.config.password_from_env",
            "'NOPE' is not set",
            id="password-variable-missing",
        ),
        pytest.param(
            {"username_from_env": "NOPE"},
            "nodes.out.config.username_from_env",
            "'NOPE' is not set",
            id="user-missing",
        ),
        pytest.param(
            {"username": "a", "username_from_env": "USER"},
            "nodes.out.config.username_from_env",
            "not both",
            id="user-twice",
        ),
        pytest.param(
            {"password_from_env": "PASS"},
            "nodes.out.config.password_from_env",
            "needs a user name",
            id="no-user",
        ),
        pytest.param(
            {"url": "mqtt://u:p@broker:1883", "username": "b"},
            "nodes.out.config.url",
            "both in the URL",
            id="user-url",
        ),
        pytest.param({"tls": {}}, "nodes.out.config.tls", "need an mqtts:// URL", id="tls-without-mqtts"),
        pytest.param(
            {"url": "mqtts://b:8883", "tls": {"ca_file": "/nonexistent/ca.pem"}},
            "nodes.out.config.tls.ca_file",
            "does not exist",
            id="tls-file-missing",
        ),
        pytest.param(
            {"reconnect_backoff_sec": 5, "reconnect_backoff_max_sec": 1},
            "nodes.out.config.reconnect_backoff_max_sec",
            "smaller",
            id="backoff-cap",
        ),
        pytest.param({"topic": "a/+/b"}, "nodes.out.config.topic", "wildcard", id="topic-wildcard"),
    ],
)
def test_config_problems_name_the_field(config: dict[str, Any], path: str, fragment: str) -> None:
    found = problems_of({**BASE, **config}, {"USER": "someone", "PASS": "some-password"})
    assert any(p == path and fragment in m for p, m in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of({"url": "http://x", "topic": "a/#", "username_from_env": "NOPE"})
    assert {p for p, _ in found} == {
        "nodes.out.config.url",
        "nodes.out.config.topic",
        "nodes.out.config.username_from_env",
    }


def test_tls_settings(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here", encoding="utf-8")
    settings = parse_settings(
        "out", {**BASE, "url": "mqtts://b:8883", "tls": {"ca_file": str(ca), "insecure": True}}
    )
    assert settings.tls is not None
    assert (settings.tls.ca_file, settings.tls.cert_file, settings.tls.insecure) == (str(ca), None, True)


# -- topic templates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "topic"),
    [
        pytest.param(
            "sites/{site}/cameras/{source_id}/events", "sites/north/cameras/cam-1/events", id="brief"
        ),
        pytest.param("{kind}/{zone}", "event/gate", id="payload-key"),
        pytest.param("{kind}/{payload.n}/{meta.lane}", "event/3/7", id="explicit-scopes"),
        pytest.param("x/{lane}", "x/7", id="meta-key"),
        pytest.param("x/{zone}", "x/gate", id="payload-before-meta"),
        pytest.param("x/{site}", "x/north", id="topic-vars-before-payload"),
        pytest.param("static/topic", "static/topic", id="no-placeholders"),
    ],
)
def test_render(template: str, topic: str) -> None:
    parsed = TopicTemplate.parse(template, {"site": "north"})
    assert parsed.render(packet(lane=7, zone="meta-zone", site="meta-site")) == topic


def test_static_values_are_resolved_once_and_may_add_levels() -> None:
    parsed = TopicTemplate.parse("sites/{site}/{source_id}", {"site": "eu/berlin"})
    assert parsed.placeholders == ("source_id",)
    assert parsed.render(packet()) == "sites/eu/berlin/cam-1"


def test_missing_placeholder_names_itself_and_the_places_searched() -> None:
    parsed = TopicTemplate.parse("sites/{site}/{source_id}")
    with pytest.raises(TopicError) as caught:
        parsed.render(packet())
    message = str(caught.value)
    assert "needs {site}" in message and "not in topic_vars, payload or meta" in message


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        pytest.param({"zone": "a/b"}, "may not change the topic's levels", id="slash"),
        pytest.param({"zone": "a+"}, "may not change", id="plus"),
        pytest.param({"zone": "#"}, "may not change", id="hash"),
        pytest.param({"zone": ""}, "is empty", id="empty"),
        pytest.param({"zone": {"x": 1}}, "dict is not a usable topic value", id="mapping"),
        pytest.param({"zone": None}, "NoneType is not a usable", id="null"),
    ],
)
def test_values_from_packets_cannot_reshape_the_topic(payload: dict[str, Any], fragment: str) -> None:
    with pytest.raises(TopicError, match=fragment):
        TopicTemplate.parse("x/{zone}").render(packet(payload))


def test_scalar_formatting() -> None:
    parsed = TopicTemplate.parse("{a}/{b}/{c}")
    assert parsed.render(packet({"a": True, "b": 2, "c": 1.5})) == "true/2/1.5"


def test_non_mapping_payload_only_fills_from_meta() -> None:
    assert TopicTemplate.parse("x/{lane}").render(packet([1, 2], lane="m")) == "x/m"


@pytest.mark.parametrize(
    ("template", "static", "fragment"),
    [
        pytest.param("", None, "empty", id="empty"),
        pytest.param("a/{b", None, "unmatched", id="open-brace"),
        pytest.param("a/b}", None, "unmatched", id="close-brace"),
        pytest.param("a/{}", None, "is not a name", id="empty-placeholder"),
        pytest.param("a/{x.y}", None, "is not a name", id="unknown-scope"),
        pytest.param("a/#", None, "wildcard", id="hash"),
        pytest.param("$SYS/x", None, "reserve", id="dollar"),
        pytest.param("a/{site}", {"site": "x+"}, "topic_vars.site", id="static-wildcard"),
        pytest.param("a/{kind}", {"kind": "x"}, "may not define 'kind'", id="static-shadows-field"),
        pytest.param("a/{x}", {"x": ["l"]}, "list is not a usable", id="static-list"),
    ],
)
def test_bad_templates(template: str, static: dict[str, Any] | None, fragment: str) -> None:
    with pytest.raises(TopicError, match=fragment):
        TopicTemplate.parse(template, static)


# -- failure policy, spec, lazy import ---------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "durable", "permanent", "resolved"),
    [
        pytest.param("auto", True, False, "keep", id="auto-queue-transient"),
        pytest.param("auto", True, True, "dead_letter", id="auto-queue-rejected"),
        pytest.param("auto", False, False, "drop", id="auto-live"),
        pytest.param("auto", False, True, "drop", id="auto-live-rejected"),
        pytest.param("error", True, True, "error", id="error"),
        pytest.param("drop", True, False, "drop", id="drop-even-from-queue"),
        pytest.param("keep", False, True, "keep", id="keep"),
        pytest.param("dead_letter", True, False, "dead_letter", id="dead-letter-queue"),
        pytest.param("dead_letter", False, True, "drop", id="dead-letter-without-queue"),
    ],
)
def test_on_failure_resolution(policy: Any, durable: bool, permanent: bool, resolved: str) -> None:
    item = packet(durable={"queue": "sqlite", "seq": 4}) if durable else packet()
    assert came_from_queue(item) is durable
    assert resolve_on_failure(policy, item, permanent=permanent) == resolved


def test_durable_meta_without_seq_is_not_from_a_queue() -> None:
    assert not came_from_queue(packet(durable={"queue": "sqlite"}))
    assert not came_from_queue(packet(durable={"queue": "sqlite", "seq": None}))
    assert not came_from_queue(packet(durable="yes"))


def test_registry_resolves_the_short_name_and_the_target() -> None:
    spec = MqttSink.SPEC
    assert spec is not None
    assert resolve("mqtt_sink").spec is spec
    assert resolve("schnitzel_stream.nodes.mqtt:MqttSink").spec is spec
    assert spec.roles == frozenset({"sink", "node"}) and spec.portable
    assert spec.consumes == frozenset({"*"})


def test_reading_the_spec_does_not_import_paho() -> None:
    code = (
        "import sys, json; from schnitzel_stream.nodes import registry; registry.builtin_specs(); "
        "import schnitzel_stream.nodes.mqtt; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('paho'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60)
    assert json.loads(out.stdout) == []


GRAPH = """\
version: 2
nodes:
  - {{id: queue, kind: source, plugin: sqlite_queue_source, config: {{path: "${{state}}/q.db"}}}}
  - id: out
    kind: sink
    plugin: mqtt_sink
    config:
      url: "{url}"
      topic: "sites/{{site}}/cameras/{{source_id}}/events"
      topic_vars: {{site: north}}
      password_from_env: MQTT_PASSWORD
      username: edge
edges:
  - {{from: queue, to: out}}
"""


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        pytest.param("mqtt://broker.local:1883", True, id="good"),
        pytest.param("mqtt://broker.local", False, id="no-port"),
        pytest.param("https://broker.local:443", False, id="wrong-scheme"),
    ],
)
def test_validate_checks_the_url_without_connecting(url: str, valid: bool, tmp_path: Path) -> None:
    from schnitzel_stream.graph.validate import ValidateOptions, validate_text
    from schnitzel_stream.paths import resolve_paths

    env = {"SCHNITZEL_STREAM_STATE_DIR": str(tmp_path)}
    options = ValidateOptions.from_environment(env, resolve_paths(environ=env))
    _, report = validate_text(GRAPH.format(url=url), "graph.yaml", options)
    errors = [p for p in report.problems if p.severity == "error"]
    assert report.valid == valid, errors
    if not valid:
        assert [p.path for p in errors] == ["nodes[1].config.url"]
        assert errors[0].line == 8


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("-inf"), "lone surrogate \udce9", object()],
    ids=["nan", "inf", "surrogate", "object"],
)
def test_a_payload_that_is_not_json_is_rejected_not_published(value: Any) -> None:
    from tests.support.net import free_port

    sink = MqttSink(
        node_id="out",
        config={
            "url": f"mqtt://127.0.0.1:{free_port()}",
            "topic": "t",
            "forward": True,
            "publish_timeout_sec": 1,
        },
    )
    try:
        (out,) = sink.process(packet({"v": value}, durable={"seq": 7}))
    finally:
        sink.close()
    # Never published as bare NaN or broken UTF-8: rejected for good (the dead letters behind a queue).
    assert "not JSON-portable" in out.meta["rejected"]["reason"]
    assert sink.metrics()["dead_lettered"] == 1 and sink.metrics()["published"] == 0
