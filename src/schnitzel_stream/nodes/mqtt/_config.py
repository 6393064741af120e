"""The ``mqtt_sink`` settings: the typed config, built from a schema-valid mapping.

:func:`parse_settings` fills in defaults, reads the ``*_from_env`` credentials, registers
every secret with :mod:`schnitzel_stream.redact` before anything can log it, and checks what
the schema cannot (credentials given twice, TLS files, the topic template).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import unquote, urlsplit

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._delivery import OnFailure
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.mqtt._schema import MAX_CLIENT_ID, SCHEMA, TLS_SCHEMA, URL_PATTERN
from schnitzel_stream.nodes.mqtt._topic import TopicError, TopicTemplate

BodyMode = Literal["payload", "packet"]
Protocol = Literal["mqttv5", "mqttv311"]

_URL = re.compile(URL_PATTERN)
_CLIENT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

#: ``problem(code, message, key)``: collects one Problem for the config field ``key``.
_Report = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: str | None
    cert_file: str | None
    key_file: str | None
    insecure: bool


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The ``mqtt_sink`` config with the schema's defaults applied and credentials resolved."""

    host: str
    port: int
    display_url: str
    topic: TopicTemplate
    client_id: str
    tls: TlsSettings | None
    username: str | None
    password: str | None = field(repr=False)
    qos: Literal[0, 1]
    retain: bool
    protocol: Protocol
    keepalive_sec: int
    body: BodyMode
    publish_timeout_sec: float
    reconnect_backoff_sec: float
    reconnect_backoff_max_sec: float
    forward: bool
    on_failure: OnFailure

    @property
    def connect_timeout_sec(self) -> float:
        """The whole of one connection attempt: TCP, TLS and the broker's CONNACK."""
        return min(10.0, max(1.0, self.publish_timeout_sec))


@dataclass(frozen=True, slots=True)
class _Broker:
    host: str = ""
    port: int = 0
    secure: bool = False
    user: str | None = None
    password: str | None = None


def default_client_id(node_id: str) -> str:
    """``schnitzel-<host>-<node>``: stable across restarts, distinct per device and node."""
    raw = f"schnitzel-{socket.gethostname()}-{node_id}"
    return _CLIENT_ID_UNSAFE.sub("-", raw)[:MAX_CLIENT_ID]


def parse_settings(
    node_id: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> MqttSettings:
    """Build settings from a (schema-valid) config. Raises :class:`ConfigError` naming every bad field."""
    env = os.environ if environ is None else environ
    merged = with_defaults(SCHEMA, config)
    where = f"nodes.{node_id}.config"
    problems: list[Problem] = []

    def problem(code: str, message: str, key: str) -> None:
        problems.append(Problem(f"mqtt.{code}", message, f"{where}.{key}" if key else where))

    url = str(merged["url"])
    redact.register_url_secrets(url)
    broker, display_url = _broker(url, problem)
    username, password = _credentials(merged, broker, env, problem)
    tls = _tls(merged["tls"], broker.secure, problem)
    topic: TopicTemplate | None = None
    try:
        topic = TopicTemplate.parse(str(merged["topic"]), merged["topic_vars"])
    except TopicError as exc:
        problem("topic", str(exc), "topic")
    if merged["reconnect_backoff_max_sec"] < merged["reconnect_backoff_sec"]:
        problem(
            "backoff",
            "reconnect_backoff_max_sec is smaller than reconnect_backoff_sec",
            "reconnect_backoff_max_sec",
        )
    if problems or topic is None:
        raise ConfigError(problems)
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        display_url=display_url,
        topic=topic,
        client_id=str(merged["client_id"] or default_client_id(node_id)),
        tls=tls,
        username=username,
        password=password,
        qos=cast(Literal[0, 1], int(merged["qos"])),
        retain=bool(merged["retain"]),
        protocol=cast(Protocol, merged["protocol"]),
        keepalive_sec=int(merged["keepalive_sec"]),
        body=cast(BodyMode, merged["body"]),
        publish_timeout_sec=float(merged["publish_timeout_sec"]),
        reconnect_backoff_sec=float(merged["reconnect_backoff_sec"]),
        reconnect_backoff_max_sec=float(merged["reconnect_backoff_max_sec"]),
        forward=bool(merged["forward"]),
        on_failure=cast(OnFailure, merged["on_failure"]),
    )


def _broker(url: str, problem: _Report) -> tuple[_Broker, str]:
    """The broker's address and URL credentials, and the URL as logs may show it."""
    display_url = redact.mask_url(url)
    if not _URL.fullmatch(url) or url.startswith("${"):
        problem("url", f"{display_url!r} is not mqtt://host:port or mqtts://host:port", "url")
        return _Broker(), display_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    # The pattern guarantees digits; urlsplit().port raises above 65535, so read them directly.
    port = int(parts.netloc.rpartition(":")[2])
    if not 0 < port < 65536:
        problem("url", f"{display_url!r}: port {port} is outside 1-65535", "url")
    broker = _Broker(
        host=host,
        port=port,
        secure=parts.scheme == "mqtts",
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )
    return broker, redact.url_origin(url)


def _credentials(
    merged: Mapping[str, Any], broker: _Broker, env: Mapping[str, str], problem: _Report
) -> tuple[str | None, str | None]:
    username = _credential(merged, "username", env, problem)
    if broker.user and username:
        problem(
            "credentials", "the user name is given both in the URL and in username/username_from_env", "url"
        )
    username = username or broker.user
    password = broker.password
    password_var = merged["password_from_env"]
    if password_var:
        value = env.get(str(password_var))
        if not value:
            problem(
                "env-missing",
                f"environment variable {password_var!r} is not set or empty",
                "password_from_env",
            )
        elif broker.password:
            problem("credentials", "the password is given both in the URL and in password_from_env", "url")
        else:
            password = value
    redact.register_secret(password)
    if password and not username:
        problem(
            "credentials", "a password needs a user name (username or username_from_env)", "password_from_env"
        )
    return username, password


def _credential(merged: Mapping[str, Any], key: str, env: Mapping[str, str], problem: _Report) -> str | None:
    literal = merged[key]
    var = merged[f"{key}_from_env"]
    if literal and var:
        problem("credentials", f"give either {key} or {key}_from_env, not both", f"{key}_from_env")
        return None
    if var:
        value = env.get(str(var))
        if not value:
            problem("env-missing", f"environment variable {var!r} is not set or empty", f"{key}_from_env")
            return None
        return value
    return str(literal) if literal else None


def _tls(tls: Mapping[str, Any] | None, secure: bool, problem: _Report) -> TlsSettings | None:
    """TLS settings from the merged ``tls`` object (its own defaults filled in), or None."""
    if tls is not None and not secure:
        problem("tls", "tls settings need an mqtts:// URL", "tls")
        return None
    if not secure:
        return None
    cfg = with_defaults(TLS_SCHEMA, tls)
    files: dict[str, str | None] = {}
    for key in ("ca_file", "cert_file", "key_file"):
        value = cfg[key]
        files[key] = str(value) if value else None
        if value and not Path(str(value)).is_file():
            problem("tls", f"{key} {str(value)!r} does not exist or is not a file", f"tls.{key}")
    if files["key_file"] and not files["cert_file"]:
        problem("tls", "key_file needs cert_file", "tls.key_file")
    return TlsSettings(
        ca_file=files["ca_file"],
        cert_file=files["cert_file"],
        key_file=files["key_file"],
        insecure=bool(cfg["insecure"]),
    )
