"""The process-wide FFmpeg settings that OpenCV reads from the environment at every open.

- ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` holds FFmpeg's demuxer options (``rtsp_transport``) for the
  whole process: :class:`_OptionsGate` lets opens that want different values take turns, and
  :func:`rtsp_options` keeps the operator's own options.
- ``OPENCV_FFMPEG_IS_THREAD_SAFE``: unset, OpenCV runs every FFmpeg open of the process under
  one lock, so one camera that takes its whole open timeout would hold up the (re)connects of
  all the others. The FFmpeg that OpenCV's wheels bundle is thread-safe (FFmpeg 4 removed the
  need for the lock), so :func:`allow_concurrent_opens` sets the variable unless the operator
  did. OpenCV then logs a warning at every open, so OpenCV's own log level goes to errors
  unless ``OPENCV_LOG_LEVEL`` says otherwise (our own log lines report every open, loss and
  timeout).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["GATE", "OPTIONS_ENV", "THREAD_SAFE_ENV", "allow_concurrent_opens", "rtsp_options"]

#: OpenCV reads FFmpeg's demuxer options from this variable at the start of every open.
OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
#: Unset or 0: OpenCV runs every FFmpeg open of the process under one lock.
THREAD_SAFE_ENV = "OPENCV_FFMPEG_IS_THREAD_SAFE"
_LOG_LEVEL_ENV = "OPENCV_LOG_LEVEL"


class _OptionsGate:
    """Coordinates opens that need different values of the process-global FFmpeg options.

    ``OPENCV_FFMPEG_CAPTURE_OPTIONS`` is one environment variable for the whole process, and
    OpenCV reads it inside ``VideoCapture`` without a hook that tells us when. Opens that want
    the same value run concurrently; an open that wants another value waits until those in
    flight have finished, then sets the variable. ``None`` means "any value" (video files).
    So two cameras with different transports never see each other's options, and the common
    case (all cameras on TCP) never serialises opens.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._current: str | None = None
        self._in_flight = 0

    @contextmanager
    def using(self, options: str | None) -> Iterator[None]:
        with self._cond:
            if options is not None:
                while self._in_flight and self._current != options:
                    self._cond.wait()
                if self._current != options:
                    os.environ[OPTIONS_ENV] = options
                    self._current = options
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()


GATE = _OptionsGate()
_CONCURRENT_OPENS = threading.Lock()
_concurrent_opens_set = False


def allow_concurrent_opens(cv2: Any) -> None:
    """Let FFmpeg opens run in parallel (see the module docstring), once per process."""
    global _concurrent_opens_set
    with _CONCURRENT_OPENS:
        if _concurrent_opens_set:
            return
        _concurrent_opens_set = True
        if THREAD_SAFE_ENV not in os.environ:
            os.environ[THREAD_SAFE_ENV] = "1"
            if _LOG_LEVEL_ENV not in os.environ:
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


# The operator's own FFmpeg options, read once before we first write the variable.
_OPERATOR_OPTIONS: str | None = None
_OPERATOR_LOCK = threading.Lock()


def rtsp_options(transport: str) -> str:
    """FFmpeg options for an RTSP open: the operator's own options, then our transport.

    FFmpeg keeps the last value of a repeated key, so ``rtsp_transport`` here wins over one
    the operator set, and every other option they set still applies.
    """
    global _OPERATOR_OPTIONS
    with _OPERATOR_LOCK:
        if _OPERATOR_OPTIONS is None:
            _OPERATOR_OPTIONS = os.environ.get(OPTIONS_ENV, "")
        base = _OPERATOR_OPTIONS
    ours = f"rtsp_transport;{transport}"
    return f"{base}|{ours}" if base else ours
