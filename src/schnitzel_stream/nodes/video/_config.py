"""Typed settings of the video sources (``rtsp_camera``, ``video_file``).

The settings take their defaults from the JSON Schemas (``_schema``), so a default is
written down once. This module imports nothing heavy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.video._schema import RTSP_SCHEMA, RTSP_URL_PATTERN, VIDEO_FILE_SCHEMA

Transport = Literal["tcp", "udp"]


def _config_error(node_id: str, key: str, message: str) -> ConfigError:
    return ConfigError(Problem(code="config.invalid", message=message, path=f"{node_id}.config.{key}"))


class RtspSettings(NamedTuple):
    """The settings of one ``rtsp_camera`` node, defaults filled in and cross-checked."""

    url: str
    source_id: str
    max_frames: int
    transport: Transport
    latest_frame: bool
    decode_threads: int
    width: int | None
    height: int | None
    open_timeout_sec: float
    read_timeout_sec: float
    stall_timeout_sec: float
    reconnect: bool
    reconnect_backoff_sec: float
    reconnect_backoff_max_sec: float
    reconnect_max_attempts: int

    @property
    def display_url(self) -> str:
        """The URL as it may appear in logs, errors and reports: password masked."""
        return redact.mask_url(self.url)

    @classmethod
    def from_config(
        cls, node_id: str, config: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> RtspSettings:
        """Settings from a schema-valid config; resolves ``url_from_env`` and registers secrets.

        Raises :class:`ConfigError` for what the schema cannot express: a missing or malformed
        environment variable, or a backoff cap below the base.
        """
        merged = with_defaults(RTSP_SCHEMA, config)
        url = _resolve_url(node_id, merged, os.environ if environ is None else environ)
        redact.register_url_secrets(url)
        settings = cls(
            url=url,
            source_id=str(merged["source_id"] or node_id),
            max_frames=int(merged["max_frames"]),
            transport="udp" if merged["transport"] == "udp" else "tcp",
            latest_frame=bool(merged["latest_frame"]),
            decode_threads=int(merged["decode_threads"]),
            width=_optional_int(merged["width"]),
            height=_optional_int(merged["height"]),
            open_timeout_sec=float(merged["open_timeout_sec"]),
            read_timeout_sec=float(merged["read_timeout_sec"]),
            stall_timeout_sec=float(merged["stall_timeout_sec"]),
            reconnect=bool(merged["reconnect"]),
            reconnect_backoff_sec=float(merged["reconnect_backoff_sec"]),
            reconnect_backoff_max_sec=float(merged["reconnect_backoff_max_sec"]),
            reconnect_max_attempts=int(merged["reconnect_max_attempts"]),
        )
        if settings.reconnect_backoff_max_sec < settings.reconnect_backoff_sec:
            raise _config_error(
                node_id,
                "reconnect_backoff_max_sec",
                f"reconnect_backoff_max_sec ({settings.reconnect_backoff_max_sec}) is below "
                f"reconnect_backoff_sec ({settings.reconnect_backoff_sec})",
            )
        return settings


class VideoFileSettings(NamedTuple):
    """The settings of one ``video_file`` node, defaults filled in."""

    path: str
    source_id: str
    max_frames: int
    loop: bool
    realtime: bool

    @classmethod
    def from_config(cls, node_id: str, config: Mapping[str, Any]) -> VideoFileSettings:
        merged = with_defaults(VIDEO_FILE_SCHEMA, config)
        return cls(
            path=str(merged["path"]),
            source_id=str(merged["source_id"] or node_id),
            max_frames=int(merged["max_frames"]),
            loop=bool(merged["loop"]),
            realtime=bool(merged["realtime"]),
        )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _resolve_url(node_id: str, merged: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    env_name = merged.get("url_from_env")
    if env_name is None:
        return str(merged["url"])
    value = environ.get(str(env_name), "").strip()
    # Name the variable, never its value: the value is the secret.
    if not value:
        raise _config_error(
            node_id, "url_from_env", f"environment variable {env_name} (url_from_env) is not set or empty"
        )
    redact.register_secret(value)
    if not re.match(RTSP_URL_PATTERN, value):
        raise _config_error(
            node_id,
            "url_from_env",
            f"environment variable {env_name} (url_from_env) does not hold an rtsp:// or rtsps:// URL",
        )
    return value
