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
from schnitzel_stream.nodes.mqtt._schema import MAX_CLIENT_ID, URL_PATTERN
from schnitzel_stream.nodes.mqtt._topic import TopicError, TopicTemplate

BodyMode = Literal["payload", "packet"]
Protocol = Literal["mqttv5", "mqttv311"]

_URL = re.compile(URL_PATTERN)
_CLIENT_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

#: ``problem(code, message, key)``: collects one Problem for the config field ``key``.
_Report = Callable[[str, str, str], None]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False


@dataclass(frozen=True, slots=True)
class MqttSettings:
    """The ``mqtt_sink`` config with defaults applied and credentials resolved."""

    host: str
    port: int
    display_url: str
    topic: TopicTemplate
    client_id: str
    tls: TlsSettings | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    qos: Literal[0, 1] = 1
    retain: bool = False
    protocol: Protocol = "mqttv5"
    keepalive_sec: int = 30
    body: BodyMode = "payload"
    publish_timeout_sec: float = 5.0
    reconnect_backoff_sec: float = 0.5
    reconnect_backoff_max_sec: float = 30.0
    forward: bool = False
    on_failure: OnFailure = "auto"


def default_client_id(node_id: str) -> str:
    """``schnitzel-<host>-<node>``: stable across restarts, distinct per device and node."""
    raw = f"schnitzel-{socket.gethostname()}-{node_id}"
    return _CLIENT_ID_UNSAFE.sub("-", raw)[:MAX_CLIENT_ID]


def parse_settings(
    node_id: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> MqttSettings:
    """Build settings from a (schema-valid) config. Raises :class:`ConfigError` naming every bad field."""
    env = os.environ if environ is None else environ
    where = f"nodes.{node_id}.config"
    problems: list[Problem] = []

    def problem(code: str, message: str, key: str) -> None:
        problems.append(Problem(f"mqtt.{code}", message, f"{where}.{key}" if key else where))

    url = str(config.get("url") or "")
    redact.register_url_secrets(url)
    display_url = redact.mask_url(url)
    host, port, secure, url_user, url_password = "", 0, False, None, None
    if not _URL.fullmatch(url) or url.startswith("${"):
        problem("url", f"{display_url!r} is not mqtt://host:port or mqtts://host:port", "url")
    else:
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme == "mqtts"
        # The pattern guarantees digits; urlsplit().port raises above 65535, so read them directly.
        port = int(parts.netloc.rpartition(":")[2])
        if not 0 < port < 65536:
            problem("url", f"{display_url!r}: port {port} is outside 1-65535", "url")
        url_user = unquote(parts.username) if parts.username else None
        url_password = unquote(parts.password) if parts.password is not None else None
        display_url = f"{parts.scheme}://{_display_host(host)}:{port}"

    username = _credential(config, "username", env, problem)
    if url_user and username:
        problem(
            "credentials", "the user name is given both in the URL and in username/username_from_env", "url"
        )
    username = username or url_user
    password = url_password
    password_var = config.get("password_from_env")
    if password_var:
        value = env.get(str(password_var))
        if not value:
            problem(
                "env-missing",
                f"environment variable {password_var!r} is not set or empty",
                "password_from_env",
            )
        elif url_password:
            problem("credentials", "the password is given both in the URL and in password_from_env", "url")
        else:
            password = value
    redact.register_secret(password)
    if password and not username:
        problem(
            "credentials", "a password needs a user name (username or username_from_env)", "password_from_env"
        )

    tls = _tls(config.get("tls"), secure, problem)

    topic: TopicTemplate | None = None
    try:
        topic = TopicTemplate.parse(str(config.get("topic", "")), config.get("topic_vars"))
    except TopicError as exc:
        problem("topic", str(exc), "topic")

    backoff = float(config.get("reconnect_backoff_sec", 0.5))
    backoff_max = float(config.get("reconnect_backoff_max_sec", 30.0))
    if backoff_max < backoff:
        problem(
            "backoff",
            "reconnect_backoff_max_sec is smaller than reconnect_backoff_sec",
            "reconnect_backoff_max_sec",
        )
    if problems or topic is None:
        raise ConfigError(problems)

    return MqttSettings(
        host=host,
        port=port,
        display_url=display_url,
        topic=topic,
        client_id=str(config.get("client_id") or default_client_id(node_id)),
        tls=tls,
        username=username,
        password=password,
        qos=cast(Literal[0, 1], int(config.get("qos", 1))),
        retain=bool(config.get("retain", False)),
        protocol=cast(Protocol, config.get("protocol", "mqttv5")),
        keepalive_sec=int(config.get("keepalive_sec", 30)),
        body=cast(BodyMode, config.get("body", "payload")),
        publish_timeout_sec=float(config.get("publish_timeout_sec", 5.0)),
        reconnect_backoff_sec=backoff,
        reconnect_backoff_max_sec=backoff_max,
        forward=bool(config.get("forward", False)),
        on_failure=cast(OnFailure, config.get("on_failure", "auto")),
    )


def _display_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _credential(config: Mapping[str, Any], key: str, env: Mapping[str, str], problem: _Report) -> str | None:
    literal = config.get(key)
    var = config.get(f"{key}_from_env")
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


def _tls(raw: Any, secure: bool, problem: _Report) -> TlsSettings | None:
    if raw is not None and not secure:
        problem("tls", "tls settings need an mqtts:// URL", "tls")
        return None
    if not secure:
        return None
    cfg = dict(raw or {})
    files: dict[str, str | None] = {}
    for key in ("ca_file", "cert_file", "key_file"):
        value = cfg.get(key)
        files[key] = str(value) if value else None
        if value and not Path(str(value)).is_file():
            problem("tls", f"{key} {str(value)!r} does not exist or is not a file", f"tls.{key}")
    if files["key_file"] and not files["cert_file"]:
        problem("tls", "key_file needs cert_file", "tls.key_file")
    return TlsSettings(
        ca_file=files["ca_file"],
        cert_file=files["cert_file"],
        key_file=files["key_file"],
        insecure=bool(cfg.get("insecure", False)),
    )
