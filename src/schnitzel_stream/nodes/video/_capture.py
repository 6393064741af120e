"""OpenCV capture plumbing shared by the video sources.

- :func:`open_ffmpeg` opens a capture with OpenCV's FFmpeg backend, with open and read
  timeouts, and with the process-global FFmpeg settings set safely (see ``_ffmpeg_env``).
- :class:`~schnitzel_stream.nodes.video._frame_slot.FrameSlot` (its own module) hands frames from
  a reader thread to ``run()``: only the newest one, or one at a time with back-pressure.
- :class:`ReaderSession` is one connection: a thread that opens the capture, reads it into a
  slot, and records how it ended. The source supervises sessions and reconnects.
- :func:`frame_packet` builds the ``frame`` packet every video source emits.

cv2 is imported inside functions only: ``validate`` imports this module's package.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from schnitzel_stream.nodes.video._ffmpeg_env import GATE, allow_concurrent_opens
from schnitzel_stream.nodes.video._frame_slot import CapturedFrame, FramePool, FrameSlot
from schnitzel_stream.packet import IDEMPOTENCY_KEY, Packet, iso_from_ns, new_packet_id
from schnitzel_stream.redact import redact

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Image = npt.NDArray[np.uint8]

SessionEnd = Literal["open_failed", "lost", "stalled", "cancelled"]
Phase = Literal["opening", "streaming", "ended"]

# A read counts as timed out when it took at least this share of the read timeout: FFmpeg's
# interrupt fires after the timeout, and a read that returned True that late only drained
# frames left in the decoder, not new data from the camera.
_TIMEOUT_SHARE = 0.95
# A session's lag behind the live edge is judged after this long (the burst of frames FFmpeg
# buffered while probing arrives late), and a lag past _LAG_WARN_SEC is reported.
_LAG_SETTLE_SEC = 10.0
_LAG_WARN_SEC = 2.0
# Decoded-frame buffers a reader may reuse: the one it decodes into, the slot's frame and the
# one being processed (a frame still in flight elsewhere makes the reader allocate a new one).
_POOL_SIZE = 3
# Until a stream's start time is known, the reader asks for it again every this many frames.
_STREAM_START_EVERY = 16


def open_ffmpeg(
    target: str,
    *,
    options: str | None = None,
    open_timeout_sec: float | None = None,
    read_timeout_sec: float | None = None,
    decode_threads: int | None = None,
) -> Any | None:
    """A ``cv2.VideoCapture`` on the FFmpeg backend, or ``None`` when it does not open.

    The timeouts become ``CAP_PROP_OPEN_TIMEOUT_MSEC``/``CAP_PROP_READ_TIMEOUT_MSEC`` open
    parameters; OpenCV enforces them with FFmpeg's interrupt callback, so neither the open
    nor a read blocks longer when the other end goes silent. ``decode_threads`` becomes
    ``CAP_PROP_N_THREADS``; ``None`` or 0 keeps OpenCV's choice (one thread per CPU).
    """
    import cv2

    allow_concurrent_opens(cv2)
    params: list[int] = []
    if open_timeout_sec is not None:
        params += [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, max(1, round(open_timeout_sec * 1000))]
    if read_timeout_sec is not None:
        params += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, max(1, round(read_timeout_sec * 1000))]
    if decode_threads:
        params += [cv2.CAP_PROP_N_THREADS, decode_threads]
    with GATE.using(options):
        capture = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
    if not capture.isOpened():
        capture.release()
        return None
    return capture


class ReaderSession:
    """One connection to a stream: a daemon thread that opens it and reads it into ``slot``.

    The thread never outlives a blocking call by more than FFmpeg's timeouts. If FFmpeg
    ignores them, the supervisor may abandon the session (``cancel()`` and stop waiting): the
    thread then releases its capture whenever the call returns, and its slot is discarded.
    The attributes are written by the reader thread and read by the supervisor; each is a
    single reference, so no lock is needed.
    """

    def __init__(
        self,
        opener: Callable[[], Any | None],
        *,
        overwrite: bool,
        open_timeout_sec: float,
        read_timeout_sec: float,
        name: str,
    ) -> None:
        self.slot = FrameSlot(overwrite=overwrite)
        self.cancelled = threading.Event()
        self.phase: Phase = "opening"
        self.end: SessionEnd | None = None
        self.reason = ""
        self.frames = 0
        self.started_at = time.monotonic()
        self.opened_after: float | None = None
        #: The lag of this session's frames behind the camera's live edge (measured by run()).
        self.lag = LiveEdgeLag(settle_sec=_LAG_SETTLE_SEC, warn_sec=_LAG_WARN_SEC)
        #: FFmpeg decoder threads OpenCV reports for the open capture (0 until it opened).
        self.decode_threads = 0
        #: Wall time (epoch seconds) of stream time 0 by the camera's own clock, from its RTCP
        #: sender reports; None until known (a stream without them never tells).
        self.stream_start: float | None = None
        #: Monotonic start of the read in progress; None while not inside ``read()``.
        self.read_started: float | None = None
        #: The longest one FFmpeg call of this session can block, given its timeouts.
        self.max_block_sec = max(open_timeout_sec, read_timeout_sec) + 1.0
        self._opener = opener
        self._open_timeout = open_timeout_sec
        self._read_timeout = read_timeout_sec
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        with _LIVE_LOCK:
            _LIVE.add(self)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        """Ask the thread to finish; it does once its current FFmpeg call returns."""
        self.cancelled.set()
        self.slot.close()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the thread; True when it has finished."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            capture = self._opener()
        # Whatever OpenCV raises (cv2.error, OSError, ...) must end this session and let the
        # supervisor reconnect: an exception escaping a reader thread would be lost.
        except Exception as exc:  # noqa: BLE001
            self._finish("open_failed", redact(f"open raised {type(exc).__name__}: {exc}"))
            return
        took = time.monotonic() - self.started_at
        if capture is None:
            timed_out = took >= self._open_timeout * _TIMEOUT_SHARE
            why = f"no answer within {self._open_timeout:g}s" if timed_out else "refused or unreadable"
            self._finish("open_failed", f"cannot open stream ({why})")
            return
        import cv2

        self.decode_threads = int(capture.get(cv2.CAP_PROP_N_THREADS))
        self.stream_start = _stream_start(capture, cv2)
        self.opened_after = took
        self.phase = "streaming"
        end: SessionEnd = "cancelled"
        reason = "cancelled"
        # The per-frame path runs with caches cold after every wait for the camera, so it
        # does the least it can: bound methods in locals, one tuple per frame.
        read, get, pos_msec = capture.read, capture.get, cv2.CAP_PROP_POS_MSEC
        put, cancelled = self.slot.put, self.cancelled
        pool = FramePool(_POOL_SIZE)
        free, keep = pool.free, pool.keep
        monotonic, wall_ns = time.monotonic, time.time_ns
        timed_out_after = self._read_timeout * _TIMEOUT_SHARE
        try:
            while not cancelled.is_set():
                self.read_started = begun = monotonic()
                buffer = free()
                ok, image = read(buffer)
                now = monotonic()
                self.read_started = None
                if now - begun >= timed_out_after:
                    end, reason = "stalled", f"no data for {self._read_timeout:g}s"
                    break
                if not ok or image is None:
                    end, reason = "lost", "stream ended or connection lost"
                    break
                self.frames += 1
                if image is not buffer:
                    keep(image)
                if not put((image, now, wall_ns(), get(pos_msec)), cancelled):
                    break
                if self.stream_start is None and not self.frames % _STREAM_START_EVERY:
                    self.stream_start = _stream_start(capture, cv2)  # the first sender report came late
        except Exception as exc:  # noqa: BLE001 - as for the open: end the session, never the thread
            end, reason = "lost", redact(f"read raised {type(exc).__name__}: {exc}")
        finally:
            capture.release()
            self._finish(end, reason)

    def _finish(self, end: SessionEnd, reason: str) -> None:
        # OpenCV's messages may repeat the URL: ``reason`` reaches logs and errors, so it is
        # redacted where it is made (see the callers).
        self.end = "cancelled" if self.cancelled.is_set() else end
        self.reason = reason
        self.phase = "ended"
        self.slot.wake()
        with _LIVE_LOCK:
            _LIVE.discard(self)


def _stream_start(capture: Any, cv2: Any) -> float | None:
    """Wall time of stream time 0 from the camera's RTCP sender reports, or None."""
    start_us = float(capture.get(cv2.CAP_PROP_STREAM_OPEN_TIME_USEC))
    return start_us / 1e6 if start_us > 0 else None


class LiveEdgeLag:
    """How far a session's frames fall behind the camera's live edge, from the stream times.

    A frame read at monotonic time ``mono`` with stream time ``stream_ms`` has the offset
    ``mono - stream_ms / 1000``. The smallest offset seen is the live edge (the least-delayed
    frame) and a frame's lag is its offset above it. When the decoder cannot keep up with
    the camera the lag grows without end, and latest-frame mode cannot help: every frame
    must be decoded to reach the next. The frames FFmpeg buffered while probing arrive late
    in a burst, so a session is only judged after ``settle_sec``, and only while stream time
    advances (a stream without timestamps is never judged).
    """

    def __init__(self, *, settle_sec: float, warn_sec: float) -> None:
        self.lag_sec = 0.0
        self._edge = math.inf
        self._settle_sec = settle_sec
        self._warn_sec = warn_sec
        self._first: tuple[float, float] | None = None  # (mono, stream_ms) of the first frame

    def observe(self, mono: float, stream_ms: float) -> bool:
        """Take one frame's times; True when the lag is past ``warn_sec`` and the stream advances."""
        offset = mono - stream_ms / 1000
        self._edge = min(self._edge, offset)
        self.lag_sec = offset - self._edge
        if self._first is None:
            self._first = (mono, stream_ms)
            return False
        first_mono, first_stream_ms = self._first
        settled = mono - first_mono >= self._settle_sec
        advancing = stream_ms - first_stream_ms >= 1000 * self._settle_sec / 2
        return settled and advancing and self.lag_sec > self._warn_sec


# Sessions whose thread is running. A daemon thread still inside an OpenCV call when the
# interpreter finalises is torn down by a forced unwind through C++ code, which aborts the
# process ("FATAL: exception not rethrown"). So at exit, before finalisation, every session
# is cancelled and given the time its FFmpeg timeouts allow to return.
_LIVE: set[ReaderSession] = set()
_LIVE_LOCK = threading.Lock()
_EXIT_JOIN_CAP_SEC = 30.0


@atexit.register
def _finish_live_sessions() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    join_all(live, cap_sec=_EXIT_JOIN_CAP_SEC)


def join_all(sessions: list[ReaderSession], *, cap_sec: float) -> bool:
    """Cancel ``sessions`` and wait as long as their FFmpeg timeouts allow (at most ``cap_sec``).

    True when every thread has finished.
    """
    if not sessions:
        return True
    for session in sessions:
        session.cancel()
    budget = min(cap_sec, max(session.max_block_sec for session in sessions))
    deadline = time.monotonic() + budget
    finished = [session.join(max(0.0, deadline - time.monotonic())) for session in sessions]
    return all(finished)


def frame_packet(
    source_id: str,
    image: Image,
    index: int,
    frame: CapturedFrame,
    extra: dict[str, Any] | None = None,
    stream_start: float | None = None,
) -> Packet:
    """The ``frame`` packet: BGR payload, capture times, and a restart-proof idempotency key.

    ``frame_index`` restarts at 0 with the process, so the key also carries the capture time
    in wall-clock nanoseconds: a restarted source never repeats an earlier key in the
    durable queue. ``captured_at`` (epoch seconds) and ``captured_mono`` are when the frame
    was read; ``captured_mono`` is for in-process frame-age measurement only. ``stream_ms``
    is the frame's timestamp inside the stream, and ``camera_time`` (epoch seconds, with
    ``stream_start``) when the camera says it took the frame, by its own clock.
    """
    _, mono, wall_ns, stream_ms = frame
    shape = image.shape
    meta: dict[str, Any] = {
        "frame_index": index,
        "width": shape[1],
        "height": shape[0],
        "captured_at": wall_ns / 1e9,
        "captured_mono": mono,
        "stream_ms": stream_ms,
        IDEMPOTENCY_KEY: f"{source_id}:{wall_ns}:{index}",
    }
    if stream_start is not None:
        meta["camera_time"] = stream_start + stream_ms / 1000
    if extra:
        meta.update(extra)
    # Positional construction: Packet.new's keyword defaults cost more than the record.
    return Packet("frame", source_id, image, meta, new_packet_id(), iso_from_ns(wall_ns))
