"""The ``http_sink`` settings: the typed config, built from the schema (``_schema``) and a config.

:func:`parse_settings` merges the schema's defaults, reads ``url_from_env``/``headers_from_env``,
registers every secret with :mod:`schnitzel_stream.redact` before anything can log it, and
checks what the schema cannot (a URL from the environment, headers HTTP cannot carry).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, cast
from urllib.parse import urlsplit

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._delivery import OnFailure
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.http._schema import SCHEMA

Method = Literal["POST", "PUT"]
BodyMode = Literal["payload", "packet"]

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

#: Header names whose literal values are treated as secrets (matched case-insensitively).
_SECRET_HEADER_WORDS = ("auth", "token", "secret", "key", "password", "cookie", "signature")


class HttpSinkSettings(NamedTuple):
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
            display_url = f"{redact.url_origin(url)}/{redact.MASK}"
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
        if looks_secret(str(name)):
            _register_header_secret(str(value))
        if _header_fits(str(name), str(value), f"{where}.headers.{name}", problems):
            headers[str(name)] = str(value)
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
            if _header_fits(str(name), value, f"{where}.headers_from_env.{name}", problems, var=str(var)):
                headers[str(name)] = value
    return headers


def _header_fits(name: str, value: str, path: str, problems: list[Problem], var: str | None = None) -> bool:
    """Whether HTTP/1.1 can carry the header as it is; a Problem naming it (never its value) if not."""
    source = f"the value of {var}" if var else "its value"
    if not _HEADER_NAME.fullmatch(name):
        message = f"header name {name!r} is not an HTTP token"
    elif any(ch in value for ch in "\r\n\x00"):
        message = f"header {name!r}: {source} holds a line break or NUL"
    elif not value.isascii() and not _latin1(value):
        message = f"header {name!r}: {source} holds characters HTTP headers cannot carry (not Latin-1)"
    else:
        return True
    problems.append(Problem("http.header", message, path))
    return False


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
