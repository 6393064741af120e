"""What ``validate`` knows of ``rtsp_camera`` and ``video_file``: their specs, without the sources.

``_schema`` holds their config schemas. The package's ``__init__`` imports this module eagerly and the sources (``_rtsp``,
``_file``) lazily, so reading the specs loads neither logging nor the capture machinery.
"""

from __future__ import annotations

from schnitzel_stream.nodes._paths import input_check
from schnitzel_stream.nodes.base import NodeSpec
from schnitzel_stream.nodes.video._schema import RTSP_SCHEMA, VIDEO_FILE_SCHEMA

__all__ = ["RTSP_CAMERA_SPEC", "SPECS", "VIDEO_FILE_SPEC"]

RTSP_CAMERA_SPEC = NodeSpec(
    name="rtsp_camera",
    target="schnitzel_stream.nodes.video:OpenCvRtspSource",
    roles=frozenset({"source"}),
    title="RTSP camera",
    description="Frames from an RTSP camera; reconnects with backoff and never hangs on a silent camera.",
    schema=RTSP_SCHEMA,
    produces=frozenset({"frame"}),
    live=True,
    blocking=True,
)

VIDEO_FILE_SPEC = NodeSpec(
    name="video_file",
    target="schnitzel_stream.nodes.video:OpenCvVideoFileSource",
    roles=frozenset({"source"}),
    title="Video file",
    description="Frames from a video file, optionally looped and paced at the file's frame rate.",
    schema=VIDEO_FILE_SCHEMA,
    produces=frozenset({"frame"}),
    blocking=True,
    check=input_check("video.path"),
)

SPECS: tuple[NodeSpec, ...] = (RTSP_CAMERA_SPEC, VIDEO_FILE_SPEC)
