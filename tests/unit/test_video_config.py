"""The video sources' specs and config: schema rules, defaults, secrets, and cheap imports."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError
from schnitzel_stream.nodes import registry
from schnitzel_stream.nodes.video import SPECS, OpenCvRtspSource, OpenCvVideoFileSource
from schnitzel_stream.nodes.video._config import RtspSettings, VideoFileSettings

RTSP_SCHEMA = registry.builtin_specs()["rtsp_camera"].schema
FILE_SCHEMA = registry.builtin_specs()["video_file"].schema


def _errors(schema: Any, config: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(config)]


def test_specs_resolve_by_short_name_and_target() -> None:
    rtsp = registry.resolve("rtsp_camera").spec
    assert registry.resolve("schnitzel_stream.nodes.video:OpenCvRtspSource").spec is rtsp
    assert rtsp.roles == {"source"} and rtsp.produces == {"frame"} and rtsp.live
    video = registry.resolve("video_file").spec
    assert registry.resolve("schnitzel_stream.nodes.video:OpenCvVideoFileSource").spec is video
    assert video.produces == {"frame"} and not video.live
    assert registry.node_class(rtsp) is OpenCvRtspSource
    assert registry.node_class(video) is OpenCvVideoFileSource
    assert {spec.name for spec in SPECS} == {"rtsp_camera", "video_file"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_schemas_are_documented_and_closed(spec: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(spec.schema)
    assert spec.schema["additionalProperties"] is False
    for key, prop in spec.schema["properties"].items():
        assert prop.get("title") and prop.get("description"), f"{spec.name}.{key} lacks title/description"
    for example in spec.schema["examples"]:
        assert _errors(spec.schema, example) == []


@pytest.mark.parametrize(
    "config",
    [
        pytest.param({"url": "rtsp://cam.local/stream1"}, id="plain"),
        pytest.param(
            {"url": "rtsps://admin:p%40ss@10.0.0.5:322/live?channel=1"}, id="rtsps-credentials-query"
        ),
        pytest.param({"url_from_env": "CAM_URL", "transport": "udp", "latest_frame": False}, id="from-env"),
        pytest.param({"url": "rtsp://cam/s", "width": 320, "reconnect_max_attempts": 5}, id="resize"),
        pytest.param({"url": "rtsp://cam/s", "decode_threads": 0}, id="opencv-chooses-threads"),
        pytest.param({"url": "rtsp://cam/s", "decode_threads": 4}, id="frame-threading"),
    ],
)
def test_rtsp_schema_accepts(config: dict[str, Any]) -> None:
    assert _errors(RTSP_SCHEMA, config) == []


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        pytest.param({"url": "http://cam/stream"}, "does not match", id="http-scheme"),
        pytest.param({"url": "rtsp://"}, "does not match", id="no-host"),
        pytest.param({"url": "rtsp://cam/has space"}, "does not match", id="whitespace"),
        pytest.param({"url": "/dev/video0"}, "does not match", id="device-path"),
        pytest.param({}, "is not valid under any of the given schemas", id="neither-url"),
        pytest.param(
            {"url": "rtsp://cam/s", "url_from_env": "CAM"}, "is valid under each of", id="both-urls"
        ),
        pytest.param({"url_from_env": "cam-url"}, "does not match", id="bad-env-name"),
        pytest.param({"url": "rtsp://cam/s", "transport": "http"}, "is not one of", id="transport"),
        pytest.param(
            {"url": "rtsp://cam/s", "read_timeout_sec": 0}, "less than or equal to", id="zero-timeout"
        ),
        pytest.param(
            {"url": "rtsp://cam/s", "max_frames": -1}, "less than the minimum", id="negative-frames"
        ),
        pytest.param({"url": "rtsp://cam/s", "fps": 15}, "Additional properties", id="unknown-key"),
        pytest.param(
            {"url": "rtsp://cam/s", "decode_threads": -1}, "less than the minimum", id="negative-threads"
        ),
        pytest.param(
            {"url": "rtsp://cam/s", "decode_threads": 1.5},
            "is not of type 'integer'",
            id="fractional-threads",
        ),
    ],
)
def test_rtsp_schema_rejects(config: dict[str, Any], fragment: str) -> None:
    errors = _errors(RTSP_SCHEMA, config)
    assert any(fragment in error for error in errors), errors


@pytest.mark.parametrize(
    ("config", "ok"),
    [
        pytest.param({"path": "clip.mp4", "loop": True, "realtime": True, "max_frames": 10}, True, id="full"),
        pytest.param({}, False, id="no-path"),
        pytest.param({"path": ""}, False, id="empty-path"),
        pytest.param({"path": "a.mp4", "url": "rtsp://x/y"}, False, id="unknown-key"),
    ],
)
def test_video_file_schema(config: dict[str, Any], ok: bool) -> None:
    assert (_errors(FILE_SCHEMA, config) == []) is ok


def test_rtsp_defaults_come_from_the_schema() -> None:
    settings = RtspSettings.from_config("cam", {"url": "rtsp://cam/s"})
    props = RTSP_SCHEMA["properties"]
    assert settings.source_id == "cam"
    assert settings.transport == "tcp" and settings.latest_frame is True and settings.reconnect is True
    assert settings.max_frames == 0 and settings.reconnect_max_attempts == 0
    assert settings.read_timeout_sec == props["read_timeout_sec"]["default"]
    assert settings.reconnect_backoff_max_sec == props["reconnect_backoff_max_sec"]["default"]
    assert (settings.width, settings.height) == (None, None)
    # Live cameras decode on one thread: frame threading delays every frame (bench_rtsp.py).
    assert settings.decode_threads == props["decode_threads"]["default"] == 1
    video = VideoFileSettings.from_config("clip", {"path": "x.mp4"})
    assert (video.source_id, video.loop, video.realtime, video.max_frames) == ("clip", False, False, 0)


def test_url_from_env_resolves_and_registers_the_password() -> None:
    url = "rtsp://viewer:Unit-Env-Secret@10.1.2.3/stream"
    settings = RtspSettings.from_config("cam", {"url_from_env": "CAM_URL"}, environ={"CAM_URL": url})
    assert settings.url == url
    assert settings.display_url == "rtsp://viewer:***@10.1.2.3/stream"
    assert "Unit-Env-Secret" not in redact.redact("a library said: auth failed for Unit-Env-Secret")


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        pytest.param({}, "CAM_URL (url_from_env) is not set", id="unset"),
        pytest.param({"CAM_URL": "  "}, "is not set or empty", id="blank"),
        pytest.param({"CAM_URL": "http://u:Leaky-Value@cam/"}, "does not hold an rtsp://", id="not-rtsp"),
    ],
)
def test_url_from_env_errors_name_the_variable_not_the_value(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RtspSettings.from_config("cam", {"url_from_env": "CAM_URL"}, environ=environ)
    assert fragment in str(caught.value)
    assert "Leaky-Value" not in str(caught.value)
    assert caught.value.problems[0].path == "cam.config.url_from_env"


def test_backoff_cap_below_base_is_a_config_error() -> None:
    config = {"url": "rtsp://cam/s", "reconnect_backoff_sec": 5, "reconnect_backoff_max_sec": 1}
    with pytest.raises(ConfigError, match="reconnect_backoff_max_sec"):
        OpenCvRtspSource(node_id="cam", config=config)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        pytest.param("rtsp://admin:hunter2@cam:554/s1", "rtsp://admin:***@cam:554/s1", id="password"),
        pytest.param("rtsp://admin:p@ss/w@cam/s", "rtsp://admin:***@cam/s", id="unencoded-at-and-slash"),
        pytest.param("rtsp://cam/s?token=abc123", "rtsp://cam/s?token=***", id="query-token"),
        pytest.param("rtsp://cam/s", "rtsp://cam/s", id="no-credentials"),
    ],
)
def test_camera_urls_are_masked(url: str, masked: str) -> None:
    settings = RtspSettings.from_config("cam", {"url": url}, {})
    assert settings.display_url == masked


def test_importing_the_video_module_does_not_import_cv2_or_numpy() -> None:
    code = (
        "import sys, schnitzel_stream.nodes.video as v; v.SPECS; "
        "print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
