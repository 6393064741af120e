"""Stop signals: SIGTERM, SIGINT and SIGHUP on POSIX; CTRL_BREAK (SIGBREAK) and CTRL_C on Windows.

SIGHUP (the terminal went away, or ``kill -HUP``, which many daemons read as "reload") is a
graceful stop too: by default Python dies of it at once, without ``close()``, so a queue's
group-commit buffer or a half-sent batch would be lost. There is no reload: a changed graph
takes a restart (``systemctl restart``), which validates it first.

The first signal asks for a graceful stop; the second exits at once. One key press can
arrive twice, though: under ``uv run`` (the README's way to start it), Ctrl-C reaches the
runtime from the terminal (it signals the whole foreground process group) and again from
uv, which forwards it to its child. So a repeat of the *same* signal within
:data:`REPEAT_WINDOW_SEC` of the first is that same request; a later repeat, or another
stop signal, exits at once.

The handler only assigns attributes and, for the second signal, writes with ``os.write``
and calls ``os._exit``: a signal handler must never take a lock that the interrupted code
may hold (``logging`` and ``threading.Event`` both do).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Protocol

from schnitzel_stream.runtime.logs import last_words

#: A repeat of the first stop signal within this many seconds is the same request.
REPEAT_WINDOW_SEC = 0.5


class Stoppable(Protocol):
    stop_requested: str | None


def stop_signals(platform: str = sys.platform) -> tuple[str, ...]:
    """Names of the signals that stop the runtime on ``platform``."""
    if platform.startswith("win"):
        return ("SIGINT", "SIGTERM", "SIGBREAK")
    return ("SIGINT", "SIGTERM", "SIGHUP")


def install(target: Stoppable, clock: Callable[[], float] = time.monotonic) -> Callable[[], None]:
    """Route stop signals to ``target``; returns a function that restores the old handlers."""
    previous: dict[int, object] = {}
    first: list[tuple[int, float]] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        now = clock()
        name = signal.Signals(signum).name
        if not first:
            first.append((signum, now))
            target.stop_requested = name
            return
        first_signum, first_at = first[0]
        if signum == first_signum and now - first_at < REPEAT_WINDOW_SEC:
            return  # the same key press, delivered twice (see the module's docstring)
        os.write(2, (last_words(f"second {name}: exiting now without draining") + "\n").encode())
        os._exit(128 + signum)

    for name in stop_signals():
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        previous[signum] = signal.signal(signum, handle)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    return restore
