"""Video sources through OpenCV's FFmpeg backend: ``rtsp_camera`` and ``video_file``.

**rtsp_camera** never hangs and comes back on its own. Every connection is a reader thread
(:class:`~schnitzel_stream.nodes.video._capture.ReaderSession`); ``run()`` supervises it:

- FFmpeg's own open and read timeouts end a silent connection; a watchdog
  (``stall_timeout_sec``) abandons one whose FFmpeg call ignores them.
- A lost, stalled or unopenable connection is reopened after an exponential backoff with full
  jitter (``_retry.Backoff``), ``reconnect_max_attempts`` times in a row (0 = forever). The
  waits use ``self.stopping``, so ``stop()`` ends them at once.
- In latest-frame mode (the default) the reader keeps only the newest frame, so frame age
  stays bounded when processing is slower than the camera.

The camera URL appears only masked (``rtsp://user:***@host``) in logs and errors.

``OPENCV_FFMPEG_CAPTURE_OPTIONS`` is process-global: each RTSP open sets it to
``rtsp_transport;<transport>`` appended to whatever the operator had set, coordinated so that
cameras with different transports never race (see ``_ffmpeg_env``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

from schnitzel_stream.errors import NodeError, Problem
from schnitzel_stream.nodes._retry import Backoff
from schnitzel_stream.nodes.base import Source
from schnitzel_stream.nodes.video._capture import (
    ReaderSession,
    SessionEnd,
    frame_packet,
    join_all,
    open_ffmpeg,
)
from schnitzel_stream.nodes.video._config import RtspSettings
from schnitzel_stream.nodes.video._ffmpeg_env import rtsp_options
from schnitzel_stream.nodes.video._spec import RTSP_CAMERA_SPEC
from schnitzel_stream.packet import Packet

if TYPE_CHECKING:
    from schnitzel_stream.nodes.video._capture import Image

_log = logging.getLogger(__name__)

__all__ = ["OpenCvRtspSource"]

# How often run() re-checks the watchdog while no frame arrives.
_POLL_SEC = 0.25
# Every this many frames run() measures the lag behind the camera's live edge.
_LAG_EVERY = 8
# close() waits for reader threads as long as their FFmpeg timeouts allow, at most this.
_CLOSE_JOIN_CAP_SEC = 30.0


class OpenCvRtspSource(Source):
    """``rtsp_camera``: frames from an RTSP camera, reconnecting with backoff.

    Counters: ``frames``, ``reconnects`` (connections restored after a loss),
    ``reconnect_attempts``, ``open_failures``, ``disconnects`` (stream ended or connection
    lost), ``stalls`` (camera silent for the read or stall timeout) and ``dropped_frames``
    (older frames replaced in latest-frame mode). Gauges: ``connected`` (1 while frames
    arrive), ``frame_age_ms`` (since the newest frame was read; present once one was) and
    ``live_edge_lag_ms``, how far the latest frames are behind the camera's live edge; it
    grows, with one warning per connection, when decoding cannot keep up with the camera.
    """

    SPEC = RTSP_CAMERA_SPEC

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = RtspSettings.from_config(node_id, self.config)
        self._session: ReaderSession | None = None
        self._retired: list[ReaderSession] = []  # ended sessions whose thread may still run
        self._lock = threading.Lock()
        self._frames = 0
        self._reconnects = 0
        self._reconnect_attempts = 0
        self._open_failures = 0
        self._disconnects = 0
        self._stalls = 0
        self._dropped_before = 0  # dropped_frames of sessions that have ended
        self._last_read: float | None = None  # monotonic time the newest frame was read
        self._size: tuple[int, int] | None = None

    # -- the node contract -------------------------------------------------------------

    def run(self) -> Iterator[Packet]:
        """Yield frames until ``max_frames``, ``stop()``, or reconnecting gives up.

        Raises :class:`NodeError` (URL masked) when the camera is lost and ``reconnect`` is
        off, or after ``reconnect_max_attempts`` failed attempts in a row.
        """
        settings = self.settings
        backoff = Backoff(settings.reconnect_backoff_sec, settings.reconnect_backoff_max_sec)
        attempt = 0  # reconnect attempts since the last connection that delivered a frame
        connected_before = False
        _log.info("rtsp_camera %s: connecting to %s", self.node_id, settings.display_url)
        try:
            while not self.stopping.is_set():
                session = self._start_session()
                ended = yield from self._pump(session, resumed=connected_before)
                if ended is None:
                    return
                end, reason = ended
                if session.frames:
                    connected_before = True
                    attempt = 0
                self._count_end(end)
                self._give_up_unless_allowed(reason, attempt)
                delay = backoff.delay(attempt)
                attempt += 1
                _log.warning(
                    "rtsp_camera %s: %s: %s; reconnect attempt %d in %.1fs",
                    self.node_id,
                    settings.display_url,
                    reason,
                    attempt,
                    delay,
                )
                if self.stopping.wait(delay):
                    return
                self._reconnect_attempts += 1
        finally:
            # No waiting here: stop() must end run() promptly even during a blocked read;
            # close() waits for the reader thread.
            self._end_session()

    def stop(self) -> None:
        super().stop()
        self._wake()

    def interrupt(self) -> None:
        super().interrupt()
        self._wake()

    def close(self) -> None:
        """End the connection and wait for reader threads, as long as the FFmpeg timeouts allow.

        A reader inside a read of a silent camera returns within ``read_timeout_sec``; one in
        an open, within ``open_timeout_sec``.
        """
        self.stopping.set()
        self._end_session()
        with self._lock:
            retired, self._retired = self._retired, []
        if not join_all(retired, cap_sec=_CLOSE_JOIN_CAP_SEC):
            _log.warning("rtsp_camera %s: a reader thread is still inside FFmpeg after close()", self.node_id)

    def metrics(self) -> dict[str, int]:
        session = self._session
        last_read = self._last_read
        # frame_age_ms appears once a frame arrived: an age of 0 for "never" would look fresh.
        age = {} if last_read is None else {"frame_age_ms": round(1000 * (time.monotonic() - last_read))}
        return {
            **age,
            "connected": int(session is not None and session.phase == "streaming" and session.frames > 0),
            "frames": self._frames,
            "reconnects": self._reconnects,
            "reconnect_attempts": self._reconnect_attempts,
            "open_failures": self._open_failures,
            "disconnects": self._disconnects,
            "stalls": self._stalls,
            "dropped_frames": self._dropped_before + (session.slot.dropped if session else 0),
            "live_edge_lag_ms": round(1000 * session.lag.lag_sec) if session else 0,
        }

    # -- sessions ----------------------------------------------------------------------

    def _start_session(self) -> ReaderSession:
        settings = self.settings
        options = rtsp_options(settings.transport)

        def opener() -> Any | None:
            return open_ffmpeg(
                settings.url,
                options=options,
                open_timeout_sec=settings.open_timeout_sec,
                read_timeout_sec=settings.read_timeout_sec,
                decode_threads=settings.decode_threads,
            )

        session = ReaderSession(
            opener,
            overwrite=settings.latest_frame,
            open_timeout_sec=settings.open_timeout_sec,
            read_timeout_sec=settings.read_timeout_sec,
            name=f"rtsp-reader-{self.node_id}",
        )
        self._session = session
        session.start()
        return session

    def _end_session(self) -> None:
        """Cancel the current session without waiting; close() joins it later."""
        with self._lock:  # close() on another thread may race run()'s own cleanup
            session, self._session = self._session, None
            if session is None:
                return
            self._dropped_before += session.slot.dropped
            self._retired = [old for old in self._retired if old.alive]
            self._retired.append(session)
        session.cancel()

    def _pump(
        self, session: ReaderSession, *, resumed: bool
    ) -> Generator[Packet, None, tuple[SessionEnd, str] | None]:
        """Yield the session's frames; return how and why it ended, or None when the source is done."""
        settings = self.settings
        # Bound once: the per-frame path runs with caches cold after every wait for the camera.
        take, stopping = session.slot.take, self.stopping
        source_id, max_frames = settings.source_id, settings.max_frames
        resize = settings.width is not None or settings.height is not None
        lag = session.lag
        lag_warned = False
        first = True
        while not stopping.is_set():
            frame = take(_POLL_SEC)
            if frame is None:
                if session.phase == "ended":
                    frame = take(0)  # a frame put just before the session ended
                    if frame is None:
                        self._end_session()
                        return session.end or "lost", session.reason
                elif self._watchdog_expired(session):
                    # Abandon the reader: it is stuck in FFmpeg beyond its own timeouts.
                    self._end_session()
                    return "stalled", f"no frame for {settings.stall_timeout_sec:g}s (watchdog)"
                else:
                    continue
            if first:
                first = False
                self._log_connected(session, resumed=resumed)
            image = self._resize(frame[0]) if resize else frame[0]
            index = self._frames
            packet = frame_packet(source_id, image, index, frame, stream_start=session.stream_start)
            self._frames = index + 1
            self._last_read = frame[1]
            if not index % _LAG_EVERY and lag.observe(frame[1], frame[3]) and not lag_warned:
                lag_warned = True
                self._warn_lagging(lag.lag_sec)
            yield packet
            if max_frames and self._frames >= max_frames:
                return None
        return None

    def _warn_lagging(self, lag_sec: float) -> None:
        settings = self.settings
        _log.warning(
            "rtsp_camera %s: frames arrive %.1fs behind the camera's live edge and fall further "
            "behind: %s cannot keep up with the camera; raise decode_threads (now %d) or lower the "
            "camera's resolution or frame rate",
            self.node_id,
            lag_sec,
            "decoding" if settings.latest_frame else "decoding or processing (latest_frame is off)",
            settings.decode_threads,
        )

    def _watchdog_expired(self, session: ReaderSession) -> bool:
        now = time.monotonic()
        settings = self.settings
        if session.phase == "opening":
            # FFmpeg enforces the open timeout itself; this only catches an open that ignores it.
            return now - session.started_at > settings.open_timeout_sec + settings.stall_timeout_sec
        started = session.read_started
        return started is not None and now - started > settings.stall_timeout_sec

    def _log_connected(self, session: ReaderSession, *, resumed: bool) -> None:
        opened = session.opened_after or 0.0
        if resumed:
            self._reconnects += 1
            _log.info("rtsp_camera %s: reconnected to %s", self.node_id, self.settings.display_url)
        else:
            _log.info(
                "rtsp_camera %s: streaming from %s (opened in %.1fs, %d decoder thread%s)",
                self.node_id,
                self.settings.display_url,
                opened,
                session.decode_threads,
                "" if session.decode_threads == 1 else "s",
            )

    def _count_end(self, end: SessionEnd) -> None:
        if end == "open_failed":
            self._open_failures += 1
        elif end == "stalled":
            self._stalls += 1
        elif end == "lost":
            self._disconnects += 1

    def _give_up_unless_allowed(self, reason: str, attempt: int) -> None:
        settings = self.settings
        if not settings.reconnect:
            why = "reconnect is off"
        elif settings.reconnect_max_attempts and attempt >= settings.reconnect_max_attempts:
            why = f"gave up after {attempt} reconnect attempt(s)"
        else:
            return
        raise NodeError(
            Problem(
                code="rtsp.unavailable",
                message=f"rtsp_camera {self.node_id!r}: camera {settings.display_url}: {reason}; {why}",
                path=f"{self.node_id}.config.{'url_from_env' if 'url_from_env' in self.config else 'url'}",
            )
        )

    def _wake(self) -> None:
        session = self._session
        if session is not None:
            session.slot.wake()

    def _resize(self, image: Image) -> Image:
        settings = self.settings
        height, width = image.shape[:2]
        if self._size is None:
            self._size = _target_size(width, height, settings.width, settings.height)
        if (width, height) == self._size:
            return image
        import cv2

        shrink = self._size[0] < width
        resized = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        return cast("Image", resized)


def _target_size(width: int, height: int, want_w: int | None, want_h: int | None) -> tuple[int, int]:
    """Output (width, height); with only one side given, the other keeps the aspect ratio."""
    if want_w is not None and want_h is not None:
        return want_w, want_h
    if want_w is not None:
        return want_w, max(1, round(height * want_w / width))
    assert want_h is not None
    return max(1, round(width * want_h / height)), want_h
