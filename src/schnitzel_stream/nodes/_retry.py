"""Backoff and retry budgets: the one retry mechanism every network node uses.

- :class:`Backoff` is exponential backoff with *full jitter* and a cap: the n-th delay is a
  uniform draw from ``[0, min(cap, base * 2**n)]``. Full jitter spreads a fleet of devices
  that lost the same backend at the same moment, so they do not come back in lockstep.
- :class:`RetryBudget` is a token bucket that bounds retries per second. An outage then
  costs at most ``rate`` extra requests per second, however many packets are waiting,
  so a backend that comes back is not met by a retry storm.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import NamedTuple


class Backoff(NamedTuple):
    """Exponential backoff with full jitter, capped at ``cap`` seconds.

    ``rng`` draws the jitter; ``None`` uses the ``random`` module's shared generator.
    """

    base: float
    cap: float
    rng: random.Random | None = None

    def ceiling(self, attempt: int) -> float:
        """The largest delay allowed before retry number ``attempt`` (0-based)."""
        # Clamp the exponent: 2**1100 overflows a float long after any cap is reached.
        return max(0.0, min(self.cap, self.base * (2.0 ** min(max(attempt, 0), 60))))

    def delay(self, attempt: int) -> float:
        """A jittered delay for retry number ``attempt`` (0-based)."""
        return (random.uniform if self.rng is None else self.rng.uniform)(0.0, self.ceiling(attempt))


class RetryBudget:
    """Token bucket for retries: ``rate`` tokens per second, at most ``burst`` saved up.

    ``rate <= 0`` disables the budget (every retry is allowed).
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = threading.Lock()
        #: try_acquire() calls that found the bucket empty.
        self.denied = 0
        #: times wait_for_token() had to wait for a token.
        self.waits = 0

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_acquire(self) -> bool:
        """Spend one token if there is one."""
        if self.rate <= 0:
            return True
        with self._lock:
            self._refill(self._clock())
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            self.denied += 1
            return False

    def wait_time(self) -> float:
        """Seconds until the next token is available (0 when one is available now)."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            self._refill(self._clock())
            missing = 1.0 - self._tokens
            return 0.0 if missing <= 0 else missing / self.rate

    def wait_for_token(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> bool:
        """Block until a token is spent; False when ``stop`` was set first.

        The wait is ``stop.wait(...)``, or ``wait(seconds)`` when given (a node passes its
        :meth:`Node.wait`, which also tells the watchdog it is alive); either way a node's
        ``interrupted`` event (the engine's stop deadline) ends it at once. Each time the
        bucket is found empty counts in ``waits``.
        """
        sleep = stop.wait if wait is None else wait
        while not self.try_acquire():
            self.waits += 1
            # A floor keeps a wait_time() of ~0 (a token about to arrive) from spinning.
            if sleep(max(self.wait_time(), 0.001)) or stop.is_set():
                return False
        return not stop.is_set()
