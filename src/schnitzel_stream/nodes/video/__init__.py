"""``rtsp_camera`` and ``video_file``: video sources through OpenCV and FFmpeg.

``_spec`` is what ``validate`` reads (the specs, with ``_schema`` their config schemas),
``_config`` the settings built from them, ``_rtsp`` the live camera, ``_file`` the file
source, ``_capture`` the reader thread, ``_ffmpeg_env`` the process-wide FFmpeg settings,
``_frame_slot`` the latest-frame hand-off and the frame buffer pool.
``schnitzel_stream.nodes.video:OpenCvRtspSource`` and
``schnitzel_stream.nodes.video:OpenCvVideoFileSource`` are the published import paths; the
classes are imported on first use (``_lazy``), so reading the specs loads none of this.
"""

from typing import TYPE_CHECKING

from schnitzel_stream.nodes._lazy import lazy_attributes
from schnitzel_stream.nodes.video._spec import RTSP_CAMERA_SPEC, SPECS, VIDEO_FILE_SPEC

if TYPE_CHECKING:
    from schnitzel_stream.nodes.video._file import OpenCvVideoFileSource
    from schnitzel_stream.nodes.video._rtsp import OpenCvRtspSource
else:
    __getattr__, __dir__ = lazy_attributes(
        __name__, {"OpenCvRtspSource": "_rtsp", "OpenCvVideoFileSource": "_file"}
    )

__all__ = ["RTSP_CAMERA_SPEC", "SPECS", "VIDEO_FILE_SPEC", "OpenCvRtspSource", "OpenCvVideoFileSource"]
