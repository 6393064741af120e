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
    memory = memoryview(buffer)
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


def test_the_pool_keeps_at_most_its_size() -> None:
    pool = FramePool(2)
    kept = [_image() for _ in range(3)]
    for image in kept:
        pool.keep(image)
    first, second, third = (id(image) for image in kept)
    del image, kept
    found = set()
    while (buffer := pool.free()) is not None and id(buffer) not in found:
        found.add(id(buffer))
        held = buffer  # hold it, so that free() must find the other one next
    del held
    assert found <= {first, second} and third not in found


def test_opencv_decodes_into_a_buffer_that_fits_and_allocates_otherwise() -> None:
    # The reader relies on this: read(buffer) returns the very buffer when it fits.
    import cv2

    source = np.full((36, 64, 3), 7, np.uint8)
    fits = np.zeros_like(source)
    out = cv2.copyTo(source, None, fits)
    assert out is fits and int(fits[0, 0, 0]) == 7
    wrong = np.zeros((4, 4, 3), np.uint8)
    out = cv2.copyTo(source, None, wrong)
    assert out is not wrong and out.shape == source.shape
