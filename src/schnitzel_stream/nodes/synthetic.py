"""The synthetic camera: deterministic frames with moving rectangles and their ground truth.

It stands in for a real camera in demos, tests and CI. The background is a seeded texture
(so the same ``seed`` gives the same frames on every OS), and each configured object is a
solid rectangle that moves in a straight line between its ``enter`` and ``exit`` frames.
Every frame carries ``meta["truth"]``, the visible objects clipped to the frame, so a test
can check a detector against what was really drawn.

The texture's channel values lie in 40..130; an object needs a colour with some channel
well outside that range (0, or 200 and above) to stand out, which the defaults have.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.base import NodeSpec, Source
from schnitzel_stream.packet import IDEMPOTENCY_KEY, Packet, utc_now_iso

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Frame = npt.NDArray[np.uint8]

Color = tuple[int, int, int]
Truth = list[dict[str, Any]]

# The texture is coarse 16-pixel blocks plus fine per-pixel noise: structured enough that a
# detector cannot cheat with a flat background, smooth enough to look like a scene.
_BLOCK = 16
_TEXTURE_LOW, _TEXTURE_HIGH = 50, 120
_TEXTURE_NOISE = 10


class SyntheticObject(NamedTuple):
    """A solid rectangle that is drawn while ``enter <= n < exit`` (``exit=None``: forever).

    At frame ``n`` its top-left corner is ``(x + dx*(n-enter), y + dy*(n-enter))``.
    """

    id: str
    x: int
    y: int
    w: int
    h: int
    dx: int
    dy: int
    enter: int
    exit: int | None
    color: Color

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SyntheticObject:
        """An object from its config entry; the object schema's defaults fill what it leaves out."""
        merged = with_defaults(_OBJECT_SCHEMA, data)
        color = merged["color"]
        return cls(
            id=str(merged["id"]),
            x=int(merged["x"]),
            y=int(merged["y"]),
            w=int(merged["w"]),
            h=int(merged["h"]),
            dx=int(merged["dx"]),
            dy=int(merged["dy"]),
            enter=int(merged["enter"]),
            exit=None if merged["exit"] is None else int(merged["exit"]),
            color=(int(color[0]), int(color[1]), int(color[2])),
        )

    def visible_box(self, n: int, width: int, height: int) -> tuple[int, int, int, int] | None:
        """``(x0, y0, x1, y1)`` of the part inside a ``width`` x ``height`` frame, or None."""
        if n < self.enter or (self.exit is not None and n >= self.exit):
            return None
        steps = n - self.enter
        left = self.x + self.dx * steps
        top = self.y + self.dy * steps
        x0, y0 = max(left, 0), max(top, 0)
        x1, y1 = min(left + self.w, width), min(top + self.h, height)
        if x1 <= x0 or y1 <= y0:
            return None
        return x0, y0, x1, y1


class SyntheticCameraSettings(NamedTuple):
    """The camera's config with the schema's defaults applied (names match its properties)."""

    width: int
    height: int
    fps: float
    frames: int
    realtime: bool
    seed: int
    source_id: str | None
    loop: int
    objects: tuple[SyntheticObject, ...]

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> SyntheticCameraSettings:
        merged = with_defaults(_SCHEMA, config)
        return cls(
            width=int(merged["width"]),
            height=int(merged["height"]),
            fps=float(merged["fps"]),
            frames=int(merged["frames"]),
            realtime=bool(merged["realtime"]),
            seed=int(merged["seed"]),
            source_id=merged["source_id"],
            loop=int(merged["loop"]),
            objects=tuple(SyntheticObject.from_mapping(item) for item in merged["objects"]),
        )


class SyntheticCamera(Source):
    """A deterministic camera: seeded background, moving rectangles, ground truth in meta."""

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = SyntheticCameraSettings.from_mapping(self.config)
        self.source_id: str = self.settings.source_id or node_id
        # Paced frames go stale and may be dropped; unpaced runs must keep every frame.
        self.live = self.settings.realtime
        self._background: Frame | None = None
        # Frame indexes restart at 0 with the process; the run token (the start time) keeps
        # keys of a restarted camera from colliding with earlier ones in a durable queue.
        self._run_token = f"{time.time_ns():x}"
        self._frames = 0

    def render(self, n: int) -> tuple[Frame, Truth]:
        """Frame ``n`` as a fresh BGR array and its ground truth (visible objects, clipped)."""
        s = self.settings
        frame = self._texture().copy()
        index = n % s.loop if s.loop > 0 else n
        truth: Truth = []
        for obj in s.objects:
            box = obj.visible_box(index, s.width, s.height)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            frame[y0:y1, x0:x1] = obj.color
            truth.append({"id": obj.id, "bbox": {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0}})
        return frame, truth

    def run(self) -> Iterator[Packet]:
        s = self.settings
        self._texture()  # build it before the clock starts, so frame 0 is not late
        interval = 1.0 / s.fps
        start = time.monotonic()
        n = 0
        while s.frames == 0 or n < s.frames:
            if self.stopping.is_set():
                return
            if s.realtime:
                delay = start + n * interval - time.monotonic()
                if delay > 0:
                    if self.stopping.wait(delay):
                        return
                elif delay < -interval:
                    # We fell behind (a slow consumer or a suspended machine): restart the
                    # schedule from now instead of bursting out the missed frames.
                    start = time.monotonic() - n * interval
            yield self._packet(n)
            n += 1

    def _packet(self, n: int) -> Packet:
        s = self.settings
        frame, truth = self.render(n)
        self._frames += 1
        meta = {
            IDEMPOTENCY_KEY: f"{self.source_id}:{self._run_token}:frame:{n}",
            "frame_index": n,
            "width": s.width,
            "height": s.height,
            "fps": s.fps,
            "truth": truth,
        }
        return Packet.new("frame", self.source_id, frame, ts=utc_now_iso(), meta=meta)

    def _texture(self) -> Frame:
        if self._background is None:
            self._background = _make_texture(self.settings.width, self.settings.height, self.settings.seed)
        return self._background

    def metrics(self) -> dict[str, int]:
        return {"frames": self._frames}


def _make_texture(width: int, height: int, seed: int) -> Frame:
    import numpy as np

    rng = np.random.default_rng(seed)
    rows, cols = -(-height // _BLOCK), -(-width // _BLOCK)
    coarse = rng.integers(_TEXTURE_LOW, _TEXTURE_HIGH + 1, size=(rows, cols, 3), dtype=np.int16)
    base = np.repeat(np.repeat(coarse, _BLOCK, axis=0), _BLOCK, axis=1)[:height, :width]
    noise = rng.integers(-_TEXTURE_NOISE, _TEXTURE_NOISE + 1, size=(height, width, 3), dtype=np.int16)
    texture: Frame = np.ascontiguousarray((base + noise).clip(0, 255).astype(np.uint8))
    return texture


#: The demo objects used when ``objects`` is not configured: one box crosses the view from
#: frame 2, a second one falls through it from frame 60; they never overlap.
_DEMO_OBJECTS: list[dict[str, Any]] = [
    {
        "id": "box-a",
        "x": 24,
        "y": 150,
        "w": 80,
        "h": 60,
        "dx": 8,
        "dy": 0,
        "enter": 2,
        "exit": 80,
        "color": [0, 200, 255],
    },
    {
        "id": "box-b",
        "x": 480,
        "y": -48,
        "w": 48,
        "h": 48,
        "dx": 0,
        "dy": 6,
        "enter": 60,
        "exit": 130,
        "color": [255, 90, 0],
    },
]


def _int_prop(title: str, description: str, examples: Sequence[int], **extra: Any) -> dict[str, Any]:
    return {
        "type": "integer",
        "title": title,
        "description": description,
        "examples": list(examples),
        **extra,
    }


_OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Moving object",
    "description": "A solid rectangle drawn while enter <= frame < exit, moving by (dx, dy) per frame.",
    "additionalProperties": False,
    "required": ["id", "x", "y", "w", "h"],
    "properties": {
        "id": {
            "type": "string",
            "minLength": 1,
            "title": "Object id",
            "description": "Name of the object in the ground truth (meta.truth[].id).",
            "examples": ["car-1"],
        },
        "x": _int_prop("Start x", "Left edge in pixels at the enter frame; may be off-screen.", [0, -80]),
        "y": _int_prop("Start y", "Top edge in pixels at the enter frame; may be off-screen.", [150, -48]),
        "w": _int_prop("Width", "Width in pixels.", [80], minimum=1),
        "h": _int_prop("Height", "Height in pixels.", [60], minimum=1),
        "dx": _int_prop("Step x", "Pixels moved right per frame (negative: left).", [8, -4], default=0),
        "dy": _int_prop("Step y", "Pixels moved down per frame (negative: up).", [0, 6], default=0),
        "enter": _int_prop(
            "Enter frame", "First frame index that draws the object.", [2], minimum=0, default=0
        ),
        "exit": {
            "type": ["integer", "null"],
            "minimum": 0,
            "title": "Exit frame",
            "description": "First frame index that no longer draws the object; null keeps it forever.",
            "default": None,
            "examples": [80, None],
        },
        "color": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 255},
            "minItems": 3,
            "maxItems": 3,
            "title": "Colour",
            "description": "Colour as [blue, green, red]; the background texture lies in 40..130 "
            "per channel, so use a channel at 0 or 200 and above to make the object stand out.",
            "default": [0, 200, 255],
            "examples": [[0, 200, 255], [255, 90, 0]],
        },
    },
}

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "width": _int_prop(
            "Width", "Frame width in pixels.", [640, 1280], minimum=16, maximum=7680, default=640
        ),
        "height": _int_prop(
            "Height", "Frame height in pixels.", [360, 720], minimum=16, maximum=4320, default=360
        ),
        "fps": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 1000,
            "title": "Frames per second",
            "description": "Frame rate; with realtime on, frames are paced to it.",
            "default": 15,
            "examples": [15, 30],
        },
        "frames": _int_prop(
            "Frame count",
            "Frames to emit before the source ends; 0 (the default) runs until the graph is stopped.",
            [150, 0],
            minimum=0,
            default=0,
        ),
        "realtime": {
            "type": "boolean",
            "title": "Real time",
            "description": "Pace frames at fps like a real camera; false emits them as fast as possible.",
            "default": True,
            "examples": [True, False],
        },
        "seed": _int_prop(
            "Seed", "Seed of the background texture: the same seed gives the same frames.", [0, 42], default=0
        ),
        "source_id": {
            "type": ["string", "null"],
            "minLength": 1,
            "title": "Source id",
            "description": "source_id of the emitted packets; null (the default) uses the node id.",
            "default": None,
            "examples": ["cam-entrance"],
        },
        "loop": _int_prop(
            "Loop length",
            "Replay the objects' schedule every this many frames (frame index modulo loop); 0 never repeats.",
            [150, 0],
            minimum=0,
            default=0,
        ),
        "objects": {
            "type": "array",
            "items": _OBJECT_SCHEMA,
            "title": "Objects",
            "description": "Moving rectangles with known positions; the default is a two-object demo "
            "(the first enters at frame 2).",
            "default": _DEMO_OBJECTS,
            "examples": [
                [{"id": "car-1", "x": -80, "y": 150, "w": 80, "h": 60, "dx": 8, "enter": 1, "exit": 100}]
            ],
        },
    },
}

#: The demo objects, as the camera draws them when ``objects`` is not configured.
DEFAULT_OBJECTS: tuple[SyntheticObject, ...] = tuple(SyntheticObject.from_mapping(o) for o in _DEMO_OBJECTS)

SyntheticCamera.SPEC = NodeSpec(
    name="synthetic_camera",
    target="schnitzel_stream.nodes.synthetic:SyntheticCamera",
    roles=frozenset({"source"}),
    title="Synthetic camera",
    description="Deterministic BGR frames with moving rectangles and their ground truth in meta.truth.",
    schema=_SCHEMA,
    consumes=frozenset(),
    produces=frozenset({"frame"}),
    live=True,
    blocking=False,
)

SPECS: tuple[NodeSpec, ...] = (SyntheticCamera.SPEC,)
