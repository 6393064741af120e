"""Config schemas of the video sources (``rtsp_camera``, ``video_file``).

The JSON Schemas are the one source of truth: ``validate`` applies them statically, the
published ``graph.schema.json`` embeds them, and the settings (``_config``) take their
defaults from them, so a default is written down once. Plain data, nothing imported:
``validate`` reads them without the settings' masking and errors.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RTSP_SCHEMA", "RTSP_URL_PATTERN", "VIDEO_FILE_SCHEMA"]

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
