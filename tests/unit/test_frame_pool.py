"""FramePool: a decoded-frame buffer is reused only when nothing else can still see it."""

from __future__ import annotations

import threading

import numpy as np

from schnitzel_stream.nodes.video._capture import frame_packet
from schnitzel_stream.nodes.video._frame_slot import FramePool, FrameSlot


def _image() -> np.ndarray:
    return np.zeros((36, 64, 3), np.uint8)


def test_a_buffer_only_the_pool_holds_is_free_again() -> None:
    pool = FramePool(3)
    assert pool.free() is None
    image = _image()
    pool.keep(image)
    assert pool.free() is None  # the caller still holds it
    ident = id(image)
    del image
    buffer = pool.free()
    assert buffer is not None and id(buffer) == ident


def test_every_kind_of_holder_keeps_a_buffer_busy() -> None:
    pool = FramePool(1)
    pool.keep(_image())
    buffer = pool.free()
    assert buffer is not None
    packet = frame_packet("cam", buffer, 0, (buffer, 0.0, 0, 0.0))
    slot = FrameSlot(overwrite=True)
    view = buffer[10:20]
    memory = buffer.data  # a memoryview of the buffer
    del buffer
    holders: list[object] = [packet, view, memory]
    for holder in holders:
        assert pool.free() is None, type(holder).__name__
    del packet, view, holders
    memory.release()
    del memory
    assert pool.free() is not None
    buffer = pool.free()
    assert buffer is not None
    slot.put((buffer, 0.0, 0, 0.0), threading.Event())
    del buffer
    assert pool.free() is None  # the slot's frame
    slot.take(0)
    assert pool.free() is not None


def test_a_full_pool_lets_go_of_a_busy_buffer_for_a_new_one() -> None:
    pool = FramePool(2)
    pinned = [_image(), _image()]  # a consumer keeps these for good
    for image in pinned:
        pool.keep(image)
    assert pool.free() is None
    fresh = _image()
    pool.keep(fresh)  # what the reader got when none was free
    ident = id(fresh)
    del fresh
    buffer = pool.free()
    assert buffer is not None and id(buffer) == ident  # the pool works again
    assert len(pool._buffers) == 2
    assert all(image.base is None for image in pinned)  # untouched, still their holder's


def test_opencv_decodes_into_a_buffer_that_fits_and_allocates_otherwise() -> None:
    # The reader relies on this: read(buffer) returns the very buffer when it fits.
    import cv2

    source = np.full((36, 64, 3), 7, np.uint8)
    everything = np.ones((36, 64), np.uint8)
    fits = np.zeros_like(source)
    out = cv2.copyTo(source, everything, fits)
    assert out is fits and int(fits[0, 0, 0]) == 7
    wrong = np.zeros((4, 4, 3), np.uint8)
    out = cv2.copyTo(source, everything, wrong)
    assert out is not wrong and out.shape == source.shape
