"""``video_file``: frames from a video file, optionally looped and paced like a camera.

A file never stalls the way a network camera does, so it is read on ``run()``'s own thread,
without a reader thread or timeouts. cv2 is imported lazily.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from schnitzel_stream.errors import NodeError, Problem
from schnitzel_stream.nodes._paths import require_input
from schnitzel_stream.nodes.base import Source
from schnitzel_stream.nodes.video._capture import frame_packet, open_ffmpeg
from schnitzel_stream.nodes.video._config import VideoFileSettings
from schnitzel_stream.nodes.video._frame_slot import CapturedFrame
from schnitzel_stream.nodes.video._spec import VIDEO_FILE_SPEC
from schnitzel_stream.packet import Packet

# Pace files that report no usable frame rate like a typical camera.
_FALLBACK_FPS = 25.0
# A consumer this far behind the pace restarts it instead of receiving a burst of frames.
_MAX_LAG_SEC = 1.0


class OpenCvVideoFileSource(Source):
    """``video_file``: frames from a video file, optionally looped and paced in real time.

    Frame meta adds ``file_frame``, the frame's position in the current pass over the file.
    Counters: ``frames`` and ``loops`` (times the file started over).
    """

    SPEC = VIDEO_FILE_SPEC

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = VideoFileSettings.from_config(node_id, self.config)
        # Checked at construction: a missing file is a config error (exit 78), which a service
        # restart would not fix; a FIFO would block the open for ever.
        require_input(node_id, "video_file", "video.path", self.settings.path)
        self._path = Path(self.settings.path)
        self._frames = 0
        self._loops = 0
        #: The pacing clock and its wait (True when stopped); a test injects its own.
        self.clock: Callable[[], float] = time.monotonic
        self.pause: Callable[[float], bool] = self.stopping.wait

    def run(self) -> Iterator[Packet]:
        """Yield the file's frames: once, or looping; as fast as possible, or at its frame rate."""
        import cv2

        settings = self.settings
        capture = self._open()
        try:
            fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
            interval = 1.0 / (fps if 0.0 < fps < 1000.0 else _FALLBACK_FPS)
            clock, pause = self.clock, self.pause
            anchor, paced, in_pass = clock(), 0, 0
            while not self.stopping.is_set():
                ok, image = capture.read()
                if not ok or image is None:
                    if not settings.loop:
                        return
                    if in_pass == 0:
                        raise self._error("video.empty", "has no decodable frames")
                    # Reopening rewinds reliably for every container; seeking to 0 does not.
                    capture.release()
                    capture = self._open()
                    self._loops += 1
                    in_pass = 0
                    continue
                if settings.realtime:
                    wait = anchor + paced * interval - clock()
                    if wait > 0 and pause(wait):
                        return
                    if wait < -_MAX_LAG_SEC:
                        anchor, paced = clock(), 0
                    paced += 1
                stream_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))
                frame: CapturedFrame = (image, time.monotonic(), time.time_ns(), stream_ms)
                packet = frame_packet(settings.source_id, image, self._frames, frame, {"file_frame": in_pass})
                self._frames += 1
                in_pass += 1
                yield packet
                if settings.max_frames and self._frames >= settings.max_frames:
                    return
        finally:
            capture.release()

    def metrics(self) -> dict[str, int]:
        return {"frames": self._frames, "loops": self._loops}

    def _open(self) -> Any:
        capture = open_ffmpeg(str(self._path))
        if capture is None:
            raise self._error("video.unreadable", "cannot be opened by OpenCV's FFmpeg backend")
        return capture

    def _error(self, code: str, what: str) -> NodeError:
        return NodeError(
            Problem(
                code=code,
                message=f"video_file {self.node_id!r}: {self._path} {what}",
                path=f"{self.node_id}.config.path",
            )
        )
