"""The ``http_sink`` config: its JSON Schema and the typed settings built from it.

This module imports nothing heavy: ``validate`` reads :data:`SCHEMA` through the registry.
:func:`parse_settings` fills in defaults, reads ``url_from_env``/``headers_from_env`` and
registers every secret with :mod:`schnitzel_stream.redact` before anything can log it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._delivery import ON_FAILURE_CHOICES, ON_FAILURE_DESCRIPTION, OnFailure
from schnitzel_stream.nodes._settings import with_defaults

Method = Literal["POST", "PUT"]
BodyMode = Literal["payload", "packet"]

DEFAULT_RETRY_ON_STATUS: tuple[int, ...] = (408, 425, 429, 500, 502, 503, 504)
#: 4xx answers that refuse the packet itself (not the configuration): dead letters behind a queue.
DEFAULT_REJECT_STATUS = (400, 409, 410, 413, 422)
_ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"

#: Header names whose literal values are treated as secrets (matched case-insensitively).
_SECRET_HEADER_WORDS = ("auth", "token", "secret", "key", "password", "cookie", "signature")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "http_sink config",
    "description": (
        "POST (or PUT) each packet, or a batch of packets, as JSON to an HTTP endpoint, with retries, "
        "a retry budget and an explicit policy for packets that cannot be delivered."
    ),
    "additionalProperties": False,
    "anyOf": [{"required": ["url"]}, {"required": ["url_from_env"]}],
    "properties": {
        "url": {
            "type": "string",
            "title": "Endpoint URL",
            "description": (
                "http:// or https:// URL. Credentials in it (https://user:pass@host) are sent as basic "
                "auth and masked in every log line, metric and error."
            ),
            "pattern": "^(https?://|\\$\\{)",
            "examples": ["https://events.example.com/ingest"],
        },
        "url_from_env": {
            "type": "string",
            "title": "Endpoint URL from the environment",
            "description": (
                "Name of an environment variable holding the URL. When it is set and not empty it wins "
                "over 'url'. The whole URL is then treated as a secret (webhook URLs carry tokens in "
                "their path): logs show only scheme, host and port."
            ),
            "pattern": _ENV_NAME,
            "examples": ["BACKEND_URL"],
        },
        "method": {
            "enum": ["POST", "PUT"],
            "title": "HTTP method",
            "description": "Request method.",
            "default": "POST",
            "examples": ["POST", "PUT"],
        },
        "timeout_sec": {
            "type": "number",
            "exclusiveMinimum": 0,
            "title": "Request deadline (s)",
            "description": (
                "The whole of one request attempt: connecting (TCP and TLS), sending the body and "
                "reading the whole answer. A backend that answers slowly, trickles its body or never "
                "finishes it is cut off at this deadline and the attempt counts as a timeout."
            ),
            "default": 3.0,
            "examples": [3.0],
        },
        "connect_timeout_sec": {
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "title": "Connect deadline (s)",
            "description": (
                "The connect part of an attempt (TCP and TLS), within 'timeout_sec'. null: only "
                "'timeout_sec' bounds it."
            ),
            "default": None,
            "examples": [1.0],
        },
        "body": {
            "enum": ["payload", "packet"],
            "title": "Body",
            "description": (
                "'payload' sends packet.payload as JSON; 'packet' sends the whole packet "
                "(packet_id, ts, kind, source_id, payload, meta)."
            ),
            "default": "payload",
            "examples": ["payload", "packet"],
        },
        "headers": {
            "type": "object",
            "title": "Extra headers",
            "description": (
                "Literal request headers. Values of headers whose names look secret (Authorization, "
                "*token*, *key*, ...) are masked in logs; prefer 'headers_from_env' for secrets."
            ),
            "additionalProperties": {"type": "string"},
            "default": {},
            "examples": [{"X-Site": "north-gate"}],
        },
        "headers_from_env": {
            "type": "object",
            "title": "Headers from the environment",
            "description": (
                "Header name to the name of an environment variable holding its value, so tokens never "
                "sit in the graph. The values are registered as secrets and masked everywhere. A "
                "variable that is not set stops the node from starting; one set to an empty value "
                "sends no such header."
            ),
            "additionalProperties": {"type": "string", "pattern": _ENV_NAME},
            "default": {},
            "examples": [{"Authorization": "BACKEND_AUTH"}],
        },
        "idempotency_header": {
            "type": "string",
            "title": "Idempotency header",
            "description": (
                "Header that carries packet.idempotency_key, so the receiver can de-duplicate retries "
                "and redeliveries. In batch mode it carries one key for the batch, derived from the "
                "keys of its packets ('batch-' and 64 hex digits), and each packet's own key travels "
                "in the body (see docs/reliability.md, 'HTTP wire format'). Empty disables it."
            ),
            "default": "Idempotency-Key",
            "examples": ["Idempotency-Key", "X-Request-Id", ""],
        },
        "retry_max_attempts": {
            "type": "integer",
            "minimum": 0,
            "title": "Attempts per request",
            "description": (
                "Total attempts per request, the first included. 0 retries forever (useful behind "
                "a durable queue)."
            ),
            "default": 3,
            "examples": [3, 0],
        },
        "retry_backoff_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Backoff base (s)",
            "description": "Exponential backoff base: retry n waits a random time in [0, base * 2^n].",
            "default": 1.0,
            "examples": [1.0, 0.5],
        },
        "retry_backoff_max_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Backoff cap (s)",
            "description": "Cap of every backoff, and of a server's Retry-After (429 and 503).",
            "default": 10.0,
            "examples": [10.0, 60.0],
        },
        "retry_on_status": {
            "type": "array",
            "items": {"type": "integer", "minimum": 100, "maximum": 599},
            "uniqueItems": True,
            "title": "Retryable statuses",
            "description": (
                "HTTP statuses that are retried. Connection errors and timeouts are always retried; "
                "any other non-2xx status is a final failure at once."
            ),
            "default": list(DEFAULT_RETRY_ON_STATUS),
            "examples": [[429, 500, 502, 503, 504]],
        },
        "retry_budget_per_sec": {
            "type": "number",
            "minimum": 0,
            "title": "Retry budget (requests/s)",
            "description": (
                "Token bucket per sink. Every retry, and every request while the backend is failing, "
                "spends a token; with none left the sink waits. An outage therefore costs at most this "
                "many requests per second. 0 disables the budget."
            ),
            "default": 5.0,
            "examples": [5.0, 0],
        },
        "forward": {
            "type": "boolean",
            "title": "Forward on success",
            "description": (
                "Pass each packet downstream after it was delivered (and only then), so that "
                "sqlite_queue_ack can acknowledge it."
            ),
            "default": False,
            "examples": [True],
        },
        "batch_max": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10000,
            "title": "Batch size",
            "description": (
                "1 sends one packet per request. Above 1 every request body is a JSON object "
                '{"idempotency_key": ..., "items": [{"idempotency_key": ..., "payload" or "packet": ...}]} '
                "with up to this many packets."
            ),
            "default": 1,
            "examples": [1, 500],
        },
        "batch_linger_ms": {
            "type": "number",
            "minimum": 0,
            "title": "Batch linger (ms)",
            "description": "Longest time a packet waits for its batch to fill before it is sent.",
            "default": 200,
            "examples": [200, 50],
        },
        "on_failure": {
            "enum": list(ON_FAILURE_CHOICES),
            "title": "On final failure",
            "description": ON_FAILURE_DESCRIPTION,
            "default": "auto",
            "examples": ["auto", "error", "dead_letter"],
        },
        "reject_status": {
            "type": "array",
            "items": {"type": "integer", "minimum": 400, "maximum": 499},
            "uniqueItems": True,
            "title": "Statuses that reject a packet",
            "description": (
                "4xx answers that mean the receiver refused this packet's content, so retrying can "
                "never succeed; behind a queue such packets go to the dead letters (on_failure auto). "
                "Only the application's own answer counts, that is one with a JSON body "
                "(Content-Type application/json or +json): a proxy's error page (nginx's 400 or 413 "
                "in HTML) is handled like a transient failure, so it never dead-letters valid events. "
                "A rejected batch is split and its halves sent again, down to the single packets the "
                "receiver refuses. Other 4xx answers (401, 403, 404, ...) point at the configuration, "
                "not the packet, and are handled like a transient failure."
            ),
            "default": list(DEFAULT_REJECT_STATUS),
            "examples": [[400, 409, 410, 413, 422], [400, 422]],
        },
        "max_response_bytes": {
            "type": "integer",
            "minimum": 0,
            "title": "Response read cap (bytes)",
            "description": "At most this much of a response body is read; the rest is discarded unread.",
            "default": 65536,
            "examples": [65536],
        },
        "verify_tls": {
            "type": ["boolean", "string"],
            "title": "Verify TLS",
            "description": "true, false, or the path of a CA bundle to verify the server against.",
            "default": True,
            "examples": [True, "/etc/schnitzel-stream/ca.pem"],
        },
    },
}


@dataclass(frozen=True, slots=True)
class HttpSinkSettings:
    """The ``http_sink`` config with the schema's defaults applied and secrets resolved."""

    url: str
    display_url: str
    method: Method
    #: The whole of one request: connect, TLS, sending the body, and reading the whole answer.
    timeout_sec: float
    #: The connect part of it (TCP and TLS), never more than ``timeout_sec``.
    connect_timeout_sec: float
    body: BodyMode
    headers: Mapping[str, str]
    idempotency_header: str
    retry_max_attempts: int
    retry_backoff_sec: float
    retry_backoff_max_sec: float
    retry_on_status: frozenset[int]
    reject_status: frozenset[int]
    retry_budget_per_sec: float
    forward: bool
    batch_max: int
    batch_linger_sec: float
    on_failure: OnFailure
    max_response_bytes: int
    verify_tls: bool | str


def looks_secret(header: str) -> bool:
    """True for header names whose values should never be logged."""
    lowered = header.lower()
    return lowered != "idempotency-key" and any(word in lowered for word in _SECRET_HEADER_WORDS)


def _register_header_secret(value: str) -> None:
    redact.register_secret(value)
    # "Bearer abc" -> also mask "abc" on its own, in case something logs the bare token.
    scheme, _, token = value.partition(" ")
    if token and scheme.isalpha():
        redact.register_secret(token.strip())


def _display_secret_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***"


def parse_settings(
    node_id: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> HttpSinkSettings:
    """Build settings from a (schema-valid) config. Raises :class:`ConfigError` naming the field."""
    env = os.environ if environ is None else environ
    merged = with_defaults(SCHEMA, config)
    where = f"nodes.{node_id}.config"
    problems: list[Problem] = []
    url, display_url = _url(merged, env, where, problems)
    headers = _headers(merged, env, where, problems)
    if problems:
        raise ConfigError(problems)
    timeout = float(merged["timeout_sec"])
    connect_timeout = merged["connect_timeout_sec"]
    backoff = float(merged["retry_backoff_sec"])
    verify = merged["verify_tls"]
    return HttpSinkSettings(
        url=url,
        display_url=display_url,
        method=cast(Method, str(merged["method"]).upper()),
        timeout_sec=timeout,
        connect_timeout_sec=timeout if connect_timeout is None else min(timeout, float(connect_timeout)),
        body=cast(BodyMode, merged["body"]),
        headers=headers,
        idempotency_header=str(merged["idempotency_header"]),
        retry_max_attempts=int(merged["retry_max_attempts"]),
        retry_backoff_sec=backoff,
        retry_backoff_max_sec=max(backoff, float(merged["retry_backoff_max_sec"])),
        retry_on_status=frozenset(int(s) for s in merged["retry_on_status"]),
        reject_status=frozenset(int(s) for s in merged["reject_status"]),
        retry_budget_per_sec=float(merged["retry_budget_per_sec"]),
        forward=bool(merged["forward"]),
        batch_max=int(merged["batch_max"]),
        batch_linger_sec=float(merged["batch_linger_ms"]) / 1000.0,
        on_failure=cast(OnFailure, merged["on_failure"]),
        max_response_bytes=int(merged["max_response_bytes"]),
        verify_tls=verify if isinstance(verify, str) else bool(verify),
    )


def _url(
    merged: Mapping[str, Any], env: Mapping[str, str], where: str, problems: list[Problem]
) -> tuple[str, str]:
    """The endpoint URL (``url_from_env`` wins when set) and the form logs may show."""
    url = str(merged.get("url") or "")
    display_url = redact.mask_url(url)
    url_var = merged.get("url_from_env")
    if url_var:
        from_env = env.get(str(url_var), "")
        if from_env:
            url = from_env
            redact.register_secret(url)
            display_url = _display_secret_url(url)
        elif not url:
            problems.append(
                Problem(
                    "http.env-missing",
                    f"environment variable {url_var!r} is not set",
                    f"{where}.url_from_env",
                )
            )
    redact.register_url_secrets(url)
    if url and urlsplit(url).scheme.lower() not in ("http", "https"):
        problems.append(
            Problem("http.url", f"{display_url!r} is not an http:// or https:// URL", f"{where}.url")
        )
    if not url and not url_var:
        problems.append(Problem("http.url", "'url' or 'url_from_env' is required", where))
    return url, display_url


def _headers(
    merged: Mapping[str, Any], env: Mapping[str, str], where: str, problems: list[Problem]
) -> dict[str, str]:
    """Literal headers and headers from the environment; secret values are registered."""
    headers: dict[str, str] = {}
    for name, value in dict(merged["headers"]).items():
        headers[str(name)] = str(value)
        if looks_secret(str(name)):
            _register_header_secret(str(value))
    for name, var in dict(merged["headers_from_env"]).items():
        value = env.get(str(var))
        if value is None:
            problems.append(
                Problem(
                    "http.env-missing",
                    f"environment variable {var!r} for header {name!r} is not set",
                    f"{where}.headers_from_env.{name}",
                )
            )
            continue
        if value:  # set but empty: no such header (lets an env file switch auth off)
            _register_header_secret(value)
            headers[str(name)] = value
    return headers
