"""Stop signals: SIGTERM, SIGINT and SIGHUP on POSIX; CTRL_BREAK (SIGBREAK) and CTRL_C on Windows.

SIGHUP (the terminal went away, or ``kill -HUP``, which many daemons read as "reload") is a
graceful stop too: by default Python dies of it at once, without ``close()``, so a queue's
group-commit buffer or a half-sent batch would be lost. There is no reload: a changed graph
takes a restart (``systemctl restart``), which validates it first.

The first signal asks for a graceful stop; the second exits at once. The handler only
assigns an attribute and, for the second signal, writes with ``os.write`` and calls
``os._exit``: a signal handler must never take a lock that the interrupted code may hold
(``logging`` and ``threading.Event`` both do).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Protocol


class Stoppable(Protocol):
    stop_requested: str | None


def stop_signals(platform: str = sys.platform) -> tuple[str, ...]:
    """Names of the signals that stop the runtime on ``platform``."""
    if platform.startswith("win"):
        return ("SIGINT", "SIGTERM", "SIGBREAK")
    return ("SIGINT", "SIGTERM", "SIGHUP")


def install(target: Stoppable) -> Callable[[], None]:
    """Route stop signals to ``target``; returns a function that restores the old handlers."""
    previous: dict[int, object] = {}
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        name = signal.Signals(signum).name
        if len(received) > 1:
            os.write(2, f"second {name}: exiting now without draining\n".encode())
            os._exit(128 + signum)
        target.stop_requested = name

    for name in stop_signals():
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        previous[signum] = signal.signal(signum, handle)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    return restore
