"""The motion detector: frames in, one ``event`` per moving region out.

Method: background subtraction on a downscaled copy of each frame.

1. The first frame (and any frame whose size changed) becomes the background model; it
   yields no events, so objects must appear from the second frame on to be reported.
2. A pixel is foreground when some colour channel differs from the model by more than
   ``threshold``. Comparing channels, not grey levels, keeps a red object on a grey scene
   visible, which a luminance difference can miss.
3. Foreground pixels are grouped into 8-connected regions; a region of at least
   ``min_area`` full-resolution pixels becomes an event with its bounding box scaled back
   to full resolution (so a box is off by less than ``downscale`` pixels per side).
4. Background pixels follow the scene with ``learning_rate`` (slow light changes). A pixel
   that stays foreground for ``absorb_after`` frames is taken into the model, so an object
   that stops (a parked car) stops being reported.

Against the synthetic camera this reports exactly the configured objects: every frame with
an object whose visible part has at least ``min_area`` pixels gives one event per object
(objects that do not touch each other), each edge of its box within ``downscale - 1``
pixels of the true edge (``downscale`` pixels when the frame size is not a multiple of it;
equal boxes at ``downscale: 1``), and frames without objects give none.

An event's ``meta`` carries its ``idempotency_key`` (derived from the frame's), the
``frame_index``, and the frame's capture times when the source gave them: ``captured_at``
(epoch seconds, when the frame was read), ``stream_ms`` (the frame's own timestamp in the
camera's stream) and ``camera_time`` (epoch seconds by the camera's clock, from its RTCP
sender reports), so a receiver can tell how old an event's frame is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from schnitzel_stream.errors import NodeError, Problem
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.base import Node, NodeSpec
from schnitzel_stream.packet import IDEMPOTENCY_KEY, Packet

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Frame meta keys copied into each event's meta: when its frame was captured.
_FRAME_TIMES = ("captured_at", "stream_ms", "camera_time")

#: The published schema of a motion event's payload (``schemas/event.schema.json``).
EVENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://schnitzel-stream.dev/schemas/event.schema.json",
    "title": "schnitzel-stream motion event",
    "description": "Payload of an 'event' packet emitted by motion_detector: one moving region of one frame.",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "event_type",
        "source_id",
        "frame_index",
        "bbox",
        "area",
        "frame_width",
        "frame_height",
        "ts",
    ],
    "properties": {
        "event_type": {"const": "motion", "description": "Always 'motion'."},
        "source_id": {"type": "string", "description": "The camera (source_id of the frame)."},
        "frame_index": {"type": "integer", "minimum": 0, "description": "Index of the frame in its stream."},
        "bbox": {
            "type": "object",
            "description": "Bounding box in full-resolution pixels, clipped to the frame.",
            "additionalProperties": False,
            "required": ["x", "y", "w", "h"],
            "properties": {
                "x": {"type": "integer", "minimum": 0, "description": "Left edge."},
                "y": {"type": "integer", "minimum": 0, "description": "Top edge."},
                "w": {"type": "integer", "minimum": 1, "description": "Width."},
                "h": {"type": "integer", "minimum": 1, "description": "Height."},
            },
        },
        "area": {
            "type": "integer",
            "minimum": 1,
            "description": "Moving pixels in the region, in full-resolution pixels (at most w*h).",
        },
        "frame_width": {"type": "integer", "minimum": 1, "description": "Width of the frame in pixels."},
        "frame_height": {"type": "integer", "minimum": 1, "description": "Height of the frame in pixels."},
        "ts": {"type": "string", "description": "Time of the frame, ISO-8601 UTC."},
    },
}


class MotionSettings(NamedTuple):
    """The detector's config with the schema's defaults applied (names match its properties)."""

    threshold: int
    min_area: int
    downscale: int
    blur: int
    learning_rate: float
    absorb_after: int

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> MotionSettings:
        merged = with_defaults(_SCHEMA, config)
        return cls(
            threshold=int(merged["threshold"]),
            min_area=int(merged["min_area"]),
            downscale=int(merged["downscale"]),
            blur=int(merged["blur"]),
            learning_rate=float(merged["learning_rate"]),
            absorb_after=int(merged["absorb_after"]),
        )


class _Model:
    """The background model at the working (downscaled) resolution.

    ``mean`` is the running average that learning_rate updates, ``image`` that average
    rounded (uint8), which frames are compared with, and ``age`` the consecutive foreground
    frames per pixel.
    """

    __slots__ = ("age", "image", "mean", "shape")

    def __init__(
        self,
        shape: tuple[int, ...],
        mean: npt.NDArray[np.float32],
        image: npt.NDArray[Any],
        age: npt.NDArray[np.uint16] | None,
    ) -> None:
        self.shape, self.mean, self.image, self.age = shape, mean, image, age


class MotionDetector(Node):
    """Background-subtraction motion detector: one ``event`` packet per moving region."""

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = MotionSettings.from_mapping(self.config)
        # cv2 wants an odd kernel; round an even size up rather than reject it.
        self._blur = self.settings.blur | 1 if self.settings.blur > 0 else 0
        self._model: _Model | None = None
        self._frames = 0
        self._detections = 0

    def process(self, packet: Packet) -> Iterable[Packet]:
        frame = packet.payload
        shape = getattr(frame, "shape", None)
        if shape is None or len(shape) not in (2, 3) or getattr(frame, "dtype", None) != "uint8":
            raise NodeError(
                Problem(
                    code="node.bad-payload",
                    message=f"node {self.node_id!r} (motion_detector) needs frames as uint8 image arrays; "
                    f"packet {packet.packet_id} of kind {packet.kind!r} carries {type(frame).__name__}"
                    + (f" shape={tuple(shape)} dtype={frame.dtype}" if shape is not None else ""),
                )
            )
        self._frames += 1
        index = packet.meta.get("frame_index")
        frame_index = index if isinstance(index, int) else self._frames - 1
        regions = self._detect(frame)
        # An event's key derives from its frame's key, which sources keep unique across
        # restarts (frame indexes alone restart at 0 and would collide in a durable queue).
        frame_key = packet.meta.get(IDEMPOTENCY_KEY) or f"{packet.source_id}:{frame_index}"
        events: list[Packet] = []
        if not regions:
            return events
        frame_meta = packet.meta
        times = {key: frame_meta[key] for key in _FRAME_TIMES if key in frame_meta}
        height, width = int(shape[0]), int(shape[1])
        for k, (x, y, w, h, area) in enumerate(regions):
            payload = {
                "event_type": "motion",
                "source_id": packet.source_id,
                "frame_index": frame_index,
                "bbox": {"x": x, "y": y, "w": w, "h": h},
                "area": area,
                "frame_width": width,
                "frame_height": height,
                "ts": packet.ts,
            }
            meta = {
                IDEMPOTENCY_KEY: f"{frame_key}:motion:{k}",
                "frame_index": frame_index,
                **times,
            }
            events.append(Packet.new("event", packet.source_id, payload, ts=packet.ts, meta=meta))
        self._detections += len(events)
        return events

    def _detect(self, frame: npt.NDArray[np.uint8]) -> list[tuple[int, int, int, int, int]]:
        """Regions of frame as ``(x, y, w, h, area)`` in full-resolution pixels, raster order."""
        import cv2
        import numpy as np

        s = self.settings
        height, width = frame.shape[0], frame.shape[1]
        # cv2's stubs type every result as a generic Mat, so the working images are untyped arrays.
        small: npt.NDArray[Any] = frame
        if s.downscale > 1:
            size = (max(width // s.downscale, 1), max(height // s.downscale, 1))
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        if self._blur:
            small = cv2.GaussianBlur(small, (self._blur, self._blur), 0)
        model = self._model
        if model is None or model.shape != small.shape:
            age = np.zeros(small.shape[:2], np.uint16) if s.absorb_after > 0 else None
            self._model = _Model(small.shape, small.astype(np.float32), small.copy(), age)
            return []

        diff: npt.NDArray[Any] = cv2.absdiff(small, model.image)
        if diff.ndim == 3 and diff.shape[2] > 1:
            # cv2.max over the split channels: numpy's max(axis=2) is ~50x slower here.
            channels = cv2.split(diff)
            peak = channels[0]
            for channel in channels[1:]:
                peak = cv2.max(peak, channel)
            diff = peak
        _, moving = cv2.threshold(diff, s.threshold, 1, cv2.THRESH_BINARY)  # 0/1, uint8

        if model.age is not None:
            age = model.age
            np.add(age, moving, out=age, casting="unsafe")
            np.multiply(age, moving, out=age, casting="unsafe")
            settled = age > s.absorb_after
            if settled.any():
                model.mean[settled] = small[settled]
                moving[settled] = 0
                age[settled] = 0
        # Only background pixels learn, so a moving object never smears into the model.
        cv2.accumulateWeighted(small, model.mean, s.learning_rate, mask=1 - moving)
        model.image = cv2.convertScaleAbs(model.mean)

        count, _, stats, _ = cv2.connectedComponentsWithStats(moving, connectivity=8)
        scale_x = width / moving.shape[1]
        scale_y = height / moving.shape[0]
        pixel_area = scale_x * scale_y
        regions: list[tuple[int, int, int, int, int]] = []
        for label in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[label])
            full_area = round(area * pixel_area)
            if full_area < s.min_area:
                continue
            x0, y0 = round(x * scale_x), round(y * scale_y)
            x1, y1 = min(round((x + w) * scale_x), width), min(round((y + h) * scale_y), height)
            regions.append((x0, y0, x1 - x0, y1 - y0, min(full_area, (x1 - x0) * (y1 - y0))))
        return regions

    def metrics(self) -> dict[str, int]:
        return {"frames": self._frames, "detections": self._detections}


def _prop(
    kind: str, title: str, description: str, default: Any, examples: list[Any], **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "default": default,
        "examples": examples,
        **extra,
    }


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "threshold": _prop(
            "integer",
            "Threshold",
            "A pixel moves when some colour channel differs from the background by more than this.",
            25,
            [25, 40],
            minimum=1,
            maximum=254,
        ),
        "min_area": _prop(
            "integer",
            "Minimum area",
            "Smallest region, in full-resolution pixels, reported as an event.",
            100,
            [100, 400],
            minimum=1,
        ),
        "downscale": _prop(
            "integer",
            "Downscale factor",
            "Work on frames shrunk by this factor (faster); boxes are still reported in full resolution.",
            2,
            [1, 2, 4],
            minimum=1,
            maximum=16,
        ),
        "blur": _prop(
            "integer",
            "Blur kernel",
            "Gaussian blur size applied before comparing, against sensor noise; 0 is off, even sizes "
            "are rounded up to odd.",
            0,
            [0, 5],
            minimum=0,
            maximum=31,
        ),
        "learning_rate": _prop(
            "number",
            "Learning rate",
            "How fast background pixels follow the scene (slow light changes), per frame.",
            0.05,
            [0.05, 0.01],
            minimum=0,
            maximum=1,
        ),
        "absorb_after": _prop(
            "integer",
            "Absorb after",
            "Frames after which a pixel that keeps differing becomes background, so objects that stop "
            "moving stop being reported; 0 never absorbs.",
            150,
            [150, 0],
            minimum=0,
        ),
    },
}

MotionDetector.SPEC = NodeSpec(
    name="motion_detector",
    target="schnitzel_stream.nodes.motion:MotionDetector",
    roles=frozenset({"node"}),
    title="Motion detector",
    description="Background subtraction: one 'event' packet (see event.schema.json) per moving region of a frame.",
    schema=_SCHEMA,
    consumes=frozenset({"frame"}),
    produces=frozenset({"event"}),
    blocking=False,
)

SPECS: tuple[NodeSpec, ...] = (MotionDetector.SPEC,)
