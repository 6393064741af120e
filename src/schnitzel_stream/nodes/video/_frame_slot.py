"""The hand-off of decoded frames from a camera's reader thread to the source's ``run()``.

:class:`FrameSlot` holds at most one :data:`CapturedFrame`. Both sides touch it once per
frame, right after waiting (for the camera, or for the slot), when the CPU caches are cold;
so it is built from bare locks, and a frame is a plain tuple. :class:`FramePool` lets the
reader decode into a buffer again once every frame made from it is gone.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Image = npt.NDArray[np.uint8]

__all__ = ["CapturedFrame", "FramePool", "FrameSlot"]

# A pooled buffer that nobody else holds has three references while free() looks at it: the
# pool's list, the loop variable and getrefcount's own argument.
_FREE_REFS = 3

# Every-frame mode: how often a put() waiting for room re-checks for a cancel (close() also
# ends the wait at once).
_ROOM_POLL_SEC = 0.5


#: A decoded frame as ``(image, mono, wall_ns, stream_ms)``: the BGR image, the monotonic and
#: the wall-clock (ns) time it was read, and its own timestamp in the stream
#: (``CAP_PROP_POS_MSEC``), which, unlike the read time, shows how far a frame lags behind
#: the camera's live edge. A plain tuple, not a NamedTuple or dataclass: the reader builds
#: one per frame with cold caches, where a tuple display costs ~2.5 us and a NamedTuple
#: call ~15 us (measured in situ on a 640x360 stream).
CapturedFrame: TypeAlias = "tuple[Image, float, int, float]"


class FrameSlot:
    """The hand-off from a reader thread to ``run()``, holding at most one frame.

    With ``overwrite`` a new frame replaces an untaken one (counted in ``dropped``), so the
    consumer always gets the newest frame. Without it, ``put`` waits until the consumer took
    the previous frame: every frame is delivered, in order.

    This runs once per frame on both threads, so it is built from bare locks rather than a
    ``threading.Condition`` (whose ``wait`` allocates a lock and runs a page of Python each
    time): ``_ready`` is released to signal "look at the slot", ``_room`` (every-frame mode)
    is held while a frame waits to be taken, and ``_guard`` protects the item itself.
    """

    def __init__(self, *, overwrite: bool) -> None:
        self._guard = threading.Lock()
        self._ready = threading.Lock()
        self._ready.acquire()  # held: nothing to look at
        self._room = threading.Lock()  # every-frame mode: held while a frame waits
        self._item: CapturedFrame | None = None
        self._overwrite = overwrite
        self._closed = False
        self.dropped = 0

    def put(self, item: CapturedFrame, cancelled: threading.Event) -> bool:
        """Store ``item``; False when the slot was closed or ``cancelled`` set while waiting for room."""
        if not self._overwrite:
            # close() releases _room to end this wait at once; the timeout is a safety net.
            while not self._room.acquire(True, _ROOM_POLL_SEC):
                if cancelled.is_set():
                    return False
            if self._closed or cancelled.is_set():
                return False
        with self._guard:
            if self._item is not None:
                self.dropped += 1
            self._item = item
        self._signal()
        return True

    def take(self, timeout: float) -> CapturedFrame | None:
        """The waiting frame, waiting up to ``timeout``; ``None`` when woken without one."""
        self._ready.acquire(True, timeout)
        with self._guard:
            item = self._item
            self._item = None
        if item is not None and not self._overwrite:
            self._release(self._room)  # room for the next put()
        return item

    def wake(self) -> None:
        """Wake a waiting ``take``, so that it re-checks its stop condition."""
        self._signal()

    def close(self) -> None:
        """End the slot: a ``put`` waiting for room returns False at once, a ``take`` wakes."""
        self._closed = True
        self._release(self._room)
        self._signal()

    def _signal(self) -> None:
        if self._ready.locked():
            self._release(self._ready)

    @staticmethod
    def _release(lock: threading.Lock) -> None:
        # Two threads may race to release the same lock (a put and a wake); the loser finds
        # it released already, which is the state it wanted. Not contextlib.suppress: that
        # builds an object per call, and this runs per frame.
        try:  # noqa: SIM105
            lock.release()
        except RuntimeError:
            pass


class FramePool:
    """Frame buffers a reader decodes into again, once nobody else holds them.

    OpenCV's ``read(image)`` decodes into ``image`` when its size and type fit, instead of
    allocating a new array for every frame (2.7 MB at 1280x720: a fresh allocation may fault
    in every page). A buffer is free when this pool holds the only reference to it, which
    CPython's reference count tells exactly: a packet in an inbox, a node that keeps a frame,
    a numpy view or a memoryview of it all hold a reference, so a buffer is never written
    while anything can still read it. The pool keeps at most ``size`` buffers; when none is
    free, the reader gets a new array and the pool takes it, letting go of one it had (its
    holder keeps it): so a consumer that keeps frames for a long time never pins the pool.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._buffers: list[Image] = []
        self._next = 0  # the buffer to let go of when a new one comes and the pool is full

    def free(self) -> Image | None:
        """A buffer nobody else holds, or None."""
        for buffer in self._buffers:
            if sys.getrefcount(buffer) == _FREE_REFS:
                return buffer
        return None

    def keep(self, image: Image) -> None:
        """Take a newly allocated ``image`` (none was free), in place of a busy one if full."""
        if len(self._buffers) < self._size:
            self._buffers.append(image)
        elif self._size:
            self._buffers[self._next] = image
            self._next = (self._next + 1) % self._size
