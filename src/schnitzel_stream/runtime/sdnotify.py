"""``sd_notify`` without a dependency: READY=1, WATCHDOG=1, STOPPING=1, STATUS=.

systemd passes ``NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace) to a
``Type=notify`` service, and ``WATCHDOG_USEC`` when ``WatchdogSec=`` is set. We ping at
half the interval, as systemd recommends. When a node hangs, the engine *withholds* the
ping, so systemd kills and restarts the hung process: that is the point of the watchdog.

Without ``NOTIFY_SOCKET`` (Windows, macOS, an interactive run) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger("schnitzel_stream.runtime")


class Notifier:
    """Sends state changes to the service manager when one listens."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_interval = watchdog_usec / 1e6 if watchdog_usec else None
        self._next_ping = 0.0
        self._withheld = False
        self._socket: socket.socket | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not hasattr(socket, "AF_UNIX"):
            address = None
        usec: int | None = None
        raw = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if raw.isdigit() and int(raw) > 0 and (not pid or pid == str(os.getpid())):
            usec = int(raw)
        return cls(address, usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def _send(self, message: str) -> None:
        if self.address is None:
            return
        target = self.address
        if target.startswith("@"):
            target = "\0" + target[1:]
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.sendto(message.encode("utf-8"), target)
        except OSError as exc:
            # The service manager going away must never take the data path down with it.
            log.warning("sd_notify to %s failed: %s", self.address, exc)

    def ready(self, status: str = "") -> None:
        self._send("READY=1\nSTATUS=" + status if status else "READY=1")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def stopping(self) -> None:
        self._send("STOPPING=1")

    def watchdog_due(self, now: float) -> bool:
        return self.watchdog_interval is not None and self.address is not None and now >= self._next_ping

    def watchdog(self, now: float) -> None:
        """Ping, and schedule the next ping at half the interval."""
        if self.watchdog_interval is None:
            return
        if self._withheld:
            log.info("all nodes responsive again; resuming watchdog pings")
            self._withheld = False
        self._send("WATCHDOG=1")
        self._next_ping = now + self.watchdog_interval / 2

    def withhold(self, reason: str) -> None:
        """Skip this ping because something hangs; log it once per episode."""
        if not self._withheld:
            log.error("withholding watchdog ping: %s", reason)
            self._withheld = True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
