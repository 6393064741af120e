"""Bounded inboxes between threads, with a per-node overflow policy.

The hot path is a ``collections.deque``: ``append`` and ``popleft`` are atomic under the
GIL, so producers and the consumer never take a lock per packet. Locks and events are only
touched when one side actually has to sleep: the consumer raises ``_consumer_waiting``
before it re-checks for data and sleeps, and a producer wakes it only when that flag is
up. The order (flag first, then re-check) closes the lost-wake-up window without a lock.

Overflow policies, set per node under ``config.__runtime__``:

- ``block``: the producer waits for space (backpressure up to the source);
- ``drop_oldest``: the oldest packet is discarded (live cameras: latency stays bounded);
- ``drop_new``: the incoming packet is discarded;
- ``error``: the graph stops with an error naming the node.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from schnitzel_stream.errors import NodeError
from schnitzel_stream.graph.model import Overflow
from schnitzel_stream.packet import Packet

#: Upper bound on one sleep, so shutdown flags are seen even if a wake-up were missed.
_MAX_SLEEP = 0.1


class Inbox:
    """A bounded multi-producer, single-consumer packet queue for one node."""

    def __init__(self, node_id: str, capacity: int, policy: Overflow, producers: int) -> None:
        self.node_id = node_id
        self.capacity = max(1, capacity)
        self.policy = policy
        self.dropped = 0
        self._items: deque[Packet] = deque()
        self._producers = producers
        self._closed = producers == 0
        self._aborted = False
        self._consumer_waiting = False
        self._data = threading.Event()
        self._space = threading.Event()
        self._producer_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, packet: Packet, aborted: Callable[[], bool]) -> None:
        """Add one packet, applying the overflow policy when the inbox is full."""
        items = self._items
        if len(items) >= self.capacity and not self._make_room(aborted):
            return
        items.append(packet)
        if self._consumer_waiting:
            self._data.set()

    def _make_room(self, aborted: Callable[[], bool]) -> bool:
        """Apply the policy to a full inbox; False when the new packet must not be added."""
        policy = self.policy
        items = self._items
        if policy == "drop_oldest":
            try:
                items.popleft()
            except IndexError:  # the consumer emptied it meanwhile
                pass
            else:
                self.dropped += 1
            return True
        if policy == "drop_new":
            self.dropped += 1
            return False
        if policy == "error":
            raise NodeError(
                f"inbox of node {self.node_id!r} is full ({self.capacity} packets) and its "
                "inbox_overflow policy is 'error'",
                code="runtime.inbox-full",
            )
        while len(items) >= self.capacity:
            if aborted() or self._aborted:
                self.dropped += 1
                return False
            self._space.clear()
            # Re-check after clearing: the consumer may have made room in between.
            if len(items) < self.capacity:
                break
            self._space.wait(_MAX_SLEEP)
        return True

    def take(self, limit: int, idle: float | None = None) -> list[Packet] | None:
        """Remove up to ``limit`` packets, sleeping while empty; [] once closed and drained.

        With ``idle``, return ``None`` after that many seconds without a packet, so the
        consumer can do time-driven work (flush a lingering batch) and come back.
        """
        items = self._items
        deadline = None if idle is None else time.monotonic() + idle
        while True:
            if items:
                count = min(len(items), limit)
                popleft = items.popleft
                batch = [popleft() for _ in range(count)]
                self._space.set()
                return batch
            if self._closed or self._aborted:
                return []
            if deadline is not None and time.monotonic() >= deadline:
                return None
            self._consumer_waiting = True
            if not items and not self._closed:
                self._data.wait(_MAX_SLEEP)
            self._data.clear()
            self._consumer_waiting = False

    def producer_done(self) -> None:
        """One upstream finished; the inbox closes when the last one does."""
        with self._producer_lock:
            self._producers -= 1
            if self._producers <= 0:
                self._closed = True
        self._data.set()

    def abort(self) -> int:
        """Stop accepting and waiting; return how many packets were left unprocessed."""
        self._aborted = True
        left = len(self._items)
        self._items.clear()
        self._data.set()
        self._space.set()
        return left
