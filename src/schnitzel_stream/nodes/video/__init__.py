"""``rtsp_camera`` and ``video_file``: video sources through OpenCV and FFmpeg.

``_rtsp`` is the live camera, ``_file`` the file source, ``_config`` their schemas and
settings, ``_capture`` the reader thread, ``_ffmpeg_env`` the process-wide FFmpeg settings,
``_frame_slot`` the latest-frame hand-off and the frame buffer pool.
``schnitzel_stream.nodes.video:OpenCvRtspSource`` and
``schnitzel_stream.nodes.video:OpenCvVideoFileSource`` are the published import paths.
"""

from schnitzel_stream.nodes.video._file import OpenCvVideoFileSource
from schnitzel_stream.nodes.video._rtsp import SPECS, OpenCvRtspSource

__all__ = ["SPECS", "OpenCvRtspSource", "OpenCvVideoFileSource"]
