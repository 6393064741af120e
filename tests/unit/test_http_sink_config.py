"""http_sink config: the schema, defaults, secrets from the environment, and its spec."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError
from schnitzel_stream.nodes import registry
from schnitzel_stream.nodes.http import SPECS, HttpJsonSink
from schnitzel_stream.nodes.http._client import parse_retry_after
from schnitzel_stream.nodes.http._config import looks_secret, parse_settings
from schnitzel_stream.nodes.http._schema import DEFAULT_RETRY_ON_STATUS, SCHEMA

URL = "https://events.example.com/ingest"


def schema_errors(config: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(config)]


def test_schema_is_a_valid_json_schema_with_documented_properties() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["additionalProperties"] is False
    for name, prop in SCHEMA["properties"].items():
        assert prop.get("title") and prop.get("description"), name


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"url": URL}, id="minimal"),
        pytest.param({"url_from_env": "BACKEND_URL"}, id="url-from-env"),
        pytest.param({"url": "${BACKEND_URL}"}, id="uninterpolated-reference"),
        pytest.param(
            {
                "url": URL,
                "method": "PUT",
                "timeout_sec": 2,
                "connect_timeout_sec": 0.5,
                "body": "packet",
                "headers": {"X-Site": "a"},
                "headers_from_env": {"Authorization": "TOKEN"},
                "idempotency_header": "",
                "retry_max_attempts": 0,
                "retry_backoff_sec": 0.5,
                "retry_backoff_max_sec": 30,
                "retry_on_status": [500, 503],
                "retry_budget_per_sec": 0,
                "forward": True,
                "batch_max": 500,
                "batch_linger_ms": 50,
                "on_failure": "keep",
                "max_response_bytes": 0,
                "verify_tls": "/etc/ssl/ca.pem",
            },
            id="every-key",
        ),
    ],
)
def test_schema_accepts(config: dict[str, Any]) -> None:
    assert schema_errors(config) == []


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        pytest.param({}, "is not valid under any of the given schemas", id="no-url"),
        pytest.param({"url": "ftp://x"}, "does not match", id="not-http"),
        pytest.param({"url": URL, "method": "GET"}, "is not one of", id="method"),
        pytest.param({"url": URL, "body": "frame"}, "is not one of", id="body"),
        pytest.param({"url": URL, "timeout_sec": 0}, "less than or equal to the minimum", id="zero-timeout"),
        pytest.param({"url": URL, "batch_max": 0}, "less than the minimum", id="batch-zero"),
        pytest.param({"url": URL, "on_failure": "retry"}, "is not one of", id="on-failure"),
        pytest.param({"url": URL, "retry_on_status": [99]}, "less than the minimum", id="status-range"),
        pytest.param({"url": URL, "headers_from_env": {"A": "not a var"}}, "does not match", id="env-name"),
        pytest.param({"url": URL, "retries": 3}, "Additional properties", id="unknown-key"),
    ],
)
def test_schema_rejects(config: dict[str, Any], fragment: str) -> None:
    errors = schema_errors(config)
    assert errors and any(fragment in e for e in errors), errors


def test_defaults_keep_the_design_this_project_comes_from() -> None:
    settings = parse_settings("out", {"url": URL}, environ={})
    assert settings.method == "POST"
    assert settings.body == "payload"
    assert settings.idempotency_header == "Idempotency-Key"
    assert settings.retry_on_status == frozenset(DEFAULT_RETRY_ON_STATUS)
    assert (settings.retry_max_attempts, settings.retry_backoff_sec, settings.retry_backoff_max_sec) == (
        3,
        1.0,
        10.0,
    )
    assert settings.timeout_sec == settings.connect_timeout_sec == 3.0
    assert (settings.batch_max, settings.on_failure, settings.forward) == (1, "auto", False)


def test_connect_deadline_is_part_of_the_request_deadline() -> None:
    settings = parse_settings("out", {"url": URL, "timeout_sec": 5, "connect_timeout_sec": 0.5}, environ={})
    assert (settings.connect_timeout_sec, settings.timeout_sec) == (0.5, 5.0)
    # A connect deadline longer than the whole request cannot extend it.
    settings = parse_settings("out", {"url": URL, "timeout_sec": 2, "connect_timeout_sec": 9}, environ={})
    assert (settings.connect_timeout_sec, settings.timeout_sec) == (2.0, 2.0)


def test_headers_from_env_are_read_and_registered_as_secrets() -> None:
    env = {"SINK_CFG_TOKEN": "Bearer cfg-secret-98765"}
    settings = parse_settings(
        "out",
        {"url": URL, "headers": {"X-Site": "a"}, "headers_from_env": {"Authorization": "SINK_CFG_TOKEN"}},
        env,
    )
    assert settings.headers == {"X-Site": "a", "Authorization": "Bearer cfg-secret-98765"}
    assert redact.redact("sent Bearer cfg-secret-98765") == "sent ***"
    assert redact.redact("token cfg-secret-98765 alone") == "token *** alone"


def test_header_from_an_empty_variable_is_left_out() -> None:
    settings = parse_settings(
        "out", {"url": URL, "headers_from_env": {"Authorization": "EMPTY"}}, {"EMPTY": ""}
    )
    assert settings.headers == {}


def test_literal_secret_looking_headers_are_masked_too() -> None:
    parse_settings("out", {"url": URL, "headers": {"X-Api-Key": "literal-key-55501"}}, environ={})
    assert "literal-key-55501" not in redact.redact("key=literal-key-55501")
    assert looks_secret("Authorization") and looks_secret("x-auth-token") and looks_secret("Cookie")
    assert not looks_secret("Idempotency-Key") and not looks_secret("X-Site")


def test_missing_environment_variables_name_every_field() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            "up",
            {"url_from_env": "SINK_CFG_NO_URL", "headers_from_env": {"Authorization": "SINK_CFG_NO_TOKEN"}},
            environ={},
        )
    paths = [p.path for p in caught.value.problems]
    assert paths == ["nodes.up.config.url_from_env", "nodes.up.config.headers_from_env.Authorization"]
    assert "SINK_CFG_NO_TOKEN" in caught.value.problems[1].message
    assert str(caught.value).endswith("(and 1 more)")


def test_url_from_env_wins_and_is_displayed_without_path_or_credentials() -> None:
    env = {"SINK_CFG_URL": "https://u:pw-in-env-url@hooks.example.com:8443/services/T0/B1/s3cr3tpath"}
    settings = parse_settings("out", {"url": URL, "url_from_env": "SINK_CFG_URL"}, env)
    assert settings.url == env["SINK_CFG_URL"]
    assert settings.display_url == "https://hooks.example.com:8443/***"
    assert "s3cr3tpath" not in redact.redact(f"failed: {env['SINK_CFG_URL']}")


def test_url_from_env_falls_back_to_url_when_unset() -> None:
    settings = parse_settings("out", {"url": URL, "url_from_env": "SINK_CFG_UNSET"}, environ={})
    assert settings.url == URL


def test_graph_url_credentials_are_masked_and_registered() -> None:
    settings = parse_settings("out", {"url": "http://cam:pw-graph-4411@10.0.0.5/ingest"}, environ={})
    assert settings.display_url == "http://cam:***@10.0.0.5/ingest"
    assert redact.redact("auth pw-graph-4411 rejected") == "auth *** rejected"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param("https://user:pa55@host/x", "https://user:***@host/x", id="user-password"),
        pytest.param("rtsp://ghp_tokentoken@host/cam", "rtsp://***@host/cam", id="bare-token"),
        pytest.param("https://host/x?token=abc&b=1", "https://host/x?token=***&b=1", id="query-token"),
        pytest.param("https://host/x?b=1", "https://host/x?b=1", id="nothing-secret"),
    ],
)
def test_mask_url(text: str, masked: str) -> None:
    assert redact.mask_url(text) == masked


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("3", 3.0, id="seconds"),
        pytest.param(" 1.5 ", 1.5, id="fractional"),
        pytest.param("-4", 0.0, id="negative"),
        pytest.param("soon", None, id="garbage"),
        pytest.param(None, None, id="absent"),
        pytest.param("Wed, 21 Oct 2015 07:28:00 GMT", 0.0, id="date-in-the-past"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date_in_the_future() -> None:
    now = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(90.0)


def test_spec_is_registered_under_both_names() -> None:
    (spec,) = SPECS
    assert HttpJsonSink.SPEC is spec
    assert registry.resolve("http_sink").spec is spec
    assert registry.resolve("schnitzel_stream.nodes.http:HttpJsonSink").spec is spec
    assert spec.roles == frozenset({"sink", "node"}) and spec.portable
    assert spec.consumes == frozenset({"*"})


def test_importing_the_node_module_does_not_import_requests() -> None:
    code = "import sys, schnitzel_stream.nodes.http; sys.exit('requests' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_invalid_config_raises_config_error_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"nodes\.bad\.config\.url"):
        HttpJsonSink(node_id="bad", config={"url": "ftp://example.com/x"})


@pytest.mark.parametrize(
    ("config", "environ", "path", "fragment"),
    [
        pytest.param(
            {"headers_from_env": {"Authorization": "HDR_TOKEN"}},
            {"HDR_TOKEN": "Bearer abc\r\nX-Injected: 1"},
            "headers_from_env.Authorization",
            "the value of HDR_TOKEN holds a line break",
            id="crlf-from-env",
        ),
        pytest.param(
            {"headers": {"X-Site": "gate-\u2603"}}, {}, "headers.X-Site", "not Latin-1", id="not-latin-1"
        ),
        pytest.param({"headers": {"X Site": "a"}}, {}, "headers.X Site", "not an HTTP token", id="bad-name"),
    ],
)
def test_headers_http_cannot_carry_are_config_errors(
    config: dict[str, Any], environ: dict[str, str], path: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings("out", {"url": URL, **config}, environ=environ)
    (problem,) = caught.value.problems
    assert problem.path == f"nodes.out.config.{path}" and fragment in problem.message
    assert "abc" not in problem.message  # the value of a secret header is never repeated


@pytest.mark.parametrize("content", [None, "not a certificate\n"], ids=["missing", "not-pem"])
def test_a_ca_bundle_that_does_not_load_is_a_config_error(tmp_path: Path, content: str | None) -> None:
    bundle = tmp_path / "ca.pem"
    if content is not None:
        bundle.write_text(content)
    with pytest.raises(ConfigError) as caught:
        HttpJsonSink(node_id="out", config={"url": "https://events.example.com/x", "verify_tls": str(bundle)})
    (problem,) = caught.value.problems
    assert problem.path == "nodes.out.config.verify_tls" and str(bundle) in problem.message
