"""Config schemas and typed settings of the video sources (``rtsp_camera``, ``video_file``).

The JSON Schemas are the one source of truth: ``validate`` applies them statically, the
published ``graph.schema.json`` embeds them, and the settings below take their defaults from
them, so a default is written down once. This module imports nothing heavy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes._settings import with_defaults

Transport = Literal["tcp", "udp"]

#: An ``rtsp://`` or ``rtsps://`` URL with a host part and no whitespace.
RTSP_URL_PATTERN = r"^rtsps?://[^\s/?#]+([/?#]\S*)?$"
_ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

_POSITIVE_SECONDS: dict[str, Any] = {"type": "number", "exclusiveMinimum": 0}

_SOURCE_ID = {
    "type": ["string", "null"],
    "minLength": 1,
    "default": None,
    "title": "Source id",
    "description": "source_id of the packets this node emits; defaults to the node id.",
    "examples": ["front-door"],
}
_MAX_FRAMES = {
    "type": "integer",
    "minimum": 0,
    "default": 0,
    "title": "Frame limit",
    "description": "Stop after this many frames; 0 reads without end.",
    "examples": [0, 300],
}

RTSP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "rtsp_camera config",
    "description": (
        "An RTSP camera read through OpenCV's FFmpeg backend. Give exactly one of 'url' and "
        "'url_from_env'. The camera password is masked in every log line, error and report."
    ),
    "additionalProperties": False,
    "oneOf": [{"required": ["url"]}, {"required": ["url_from_env"]}],
    "properties": {
        "url": {
            "type": "string",
            "pattern": RTSP_URL_PATTERN,
            "title": "Camera URL",
            "description": (
                "rtsp:// or rtsps:// URL of the stream, credentials included if the camera needs them."
            ),
            "examples": ["rtsp://admin:${CAM_PASSWORD}@192.168.1.20:554/stream1"],
        },
        "url_from_env": {
            "type": "string",
            "pattern": _ENV_NAME_PATTERN,
            "title": "URL from environment",
            "description": (
                "Name of an environment variable that holds the whole camera URL, credentials "
                "included, so that the graph file holds no secret. Used instead of 'url'."
            ),
            "examples": ["FRONT_DOOR_RTSP_URL"],
        },
        "source_id": _SOURCE_ID,
        "max_frames": _MAX_FRAMES,
        "transport": {
            "enum": ["tcp", "udp"],
            "default": "tcp",
            "examples": ["tcp", "udp"],
            "title": "RTP transport",
            "description": (
                "tcp (interleaved, survives lossy links and NAT) or udp (lower latency on a clean LAN)."
            ),
        },
        "latest_frame": {
            "type": "boolean",
            "default": True,
            "examples": [True, False],
            "title": "Latest frame only",
            "description": (
                "Read the camera on its own thread and hand on only the newest frame, dropping "
                "(and counting) older ones, so frame age stays bounded when processing is slower "
                "than the camera. false delivers every frame in order, which lets frames age."
            ),
        },
        "decode_threads": {
            "type": "integer",
            "minimum": 0,
            "maximum": 64,
            "default": 1,
            "examples": [1, 0, 4],
            "title": "Decoder threads",
            "description": (
                "FFmpeg decoder threads. 1 decodes on the reader thread: the lowest latency and "
                "the least CPU. FFmpeg's frame threading with N threads hands out every frame "
                "N-1 frame intervals late (67 ms per extra thread at 15 fps). 0 lets OpenCV "
                "choose (one thread per CPU). Raise it only for a stream one core cannot "
                "decode in real time, such as 4K H.265: for such a stream the gauge "
                "live_edge_lag_ms grows and a warning says to raise this."
            ),
        },
        "width": {
            "type": ["integer", "null"],
            "minimum": 1,
            "title": "Output width",
            "description": "Resize frames to this width; given alone, the aspect ratio is kept.",
            "default": None,
            "examples": [640],
        },
        "height": {
            "type": ["integer", "null"],
            "minimum": 1,
            "title": "Output height",
            "description": "Resize frames to this height; given alone, the aspect ratio is kept.",
            "default": None,
            "examples": [360],
        },
        "open_timeout_sec": {
            **_POSITIVE_SECONDS,
            "default": 10.0,
            "examples": [10.0, 3.0],
            "title": "Open timeout",
            "description": "Give up connecting to the camera after this many seconds.",
        },
        "read_timeout_sec": {
            **_POSITIVE_SECONDS,
            "default": 5.0,
            "examples": [5.0, 2.0],
            "title": "Read timeout",
            "description": (
                "A read that receives no data for this long counts as a stall, and the "
                "connection is reopened."
            ),
        },
        "stall_timeout_sec": {
            **_POSITIVE_SECONDS,
            "default": 10.0,
            "examples": [10.0, 30.0],
            "title": "Stall timeout",
            "description": (
                "Watchdog: no new frame for this long counts as a stall and forces a reconnect, "
                "even when FFmpeg itself is stuck."
            ),
        },
        "reconnect": {
            "type": "boolean",
            "default": True,
            "examples": [True],
            "title": "Reconnect",
            "description": "Reopen a lost or stalled camera with backoff; false ends the run with an error.",
        },
        "reconnect_backoff_sec": {
            **_POSITIVE_SECONDS,
            "default": 1.0,
            "examples": [1.0, 0.5],
            "title": "Reconnect backoff",
            "description": "Base delay of the exponential backoff (with full jitter) between attempts.",
        },
        "reconnect_backoff_max_sec": {
            **_POSITIVE_SECONDS,
            "default": 30.0,
            "examples": [30.0, 60.0],
            "title": "Reconnect backoff cap",
            "description": "Largest delay between reconnect attempts.",
        },
        "reconnect_max_attempts": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "examples": [0, 10],
            "title": "Reconnect attempts",
            "description": "Failed attempts in a row before giving up with an error; 0 retries forever.",
        },
    },
    "examples": [
        {"url": "rtsp://admin:${CAM_PASSWORD}@192.168.1.20:554/stream1", "source_id": "front-door"},
        {"url_from_env": "FRONT_DOOR_RTSP_URL", "transport": "udp", "width": 640},
    ],
}

VIDEO_FILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "video_file config",
    "description": (
        "A video file decoded through OpenCV's FFmpeg backend, as fast as possible or at its own frame rate."
    ),
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": {
            "type": "string",
            "minLength": 1,
            "title": "Video file",
            "description": "Path of the video file (any container and codec FFmpeg decodes).",
            "examples": ["${state}/clips/driveway.mp4"],
        },
        "source_id": _SOURCE_ID,
        "max_frames": _MAX_FRAMES,
        "loop": {
            "type": "boolean",
            "default": False,
            "examples": [False, True],
            "title": "Loop",
            "description": "Start again from the beginning at the end of the file.",
        },
        "realtime": {
            "type": "boolean",
            "default": False,
            "examples": [False, True],
            "title": "Real-time pacing",
            "description": (
                "Emit frames at the file's own frame rate, like a camera; false reads as fast as possible."
            ),
        },
    },
    "examples": [{"path": "${state}/clips/driveway.mp4", "loop": True, "realtime": True}],
}


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
