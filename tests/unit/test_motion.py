"""The motion detector against the synthetic camera's ground truth.

Tolerance: at ``downscale: d`` each edge of a reported box lies within ``d - 1`` pixels of
the true edge when the frame size is a multiple of ``d`` (a downscaled pixel that is only
partly covered may count either way), and within ``d`` pixels otherwise; at ``downscale: 1``
the boxes equal the truth. Objects must not touch each other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
import numpy as np
import pytest

from schnitzel_stream.errors import NodeError
from schnitzel_stream.nodes.motion import EVENT_SCHEMA, MotionDetector
from schnitzel_stream.nodes.synthetic import SyntheticCamera
from schnitzel_stream.packet import Packet, is_json_portable

Box = dict[str, int]


@dataclass(frozen=True)
class _Frame:
    index: int
    truth: list[Box]
    events: list[Packet]


def _run(camera_config: Mapping[str, Any], motion_config: Mapping[str, Any] | None = None) -> list[_Frame]:
    camera = SyntheticCamera(node_id="cam", config={"realtime": False, **camera_config})
    motion = MotionDetector(node_id="motion", config=motion_config or {})
    return [
        _Frame(p.meta["frame_index"], [t["bbox"] for t in p.meta["truth"]], list(motion.process(p)))
        for p in camera.run()
    ]


def _edges_close(box: Box, truth: Box, tolerance: int) -> bool:
    return (
        abs(box["x"] - truth["x"]) <= tolerance
        and abs(box["y"] - truth["y"]) <= tolerance
        and abs(box["x"] + box["w"] - truth["x"] - truth["w"]) <= tolerance
        and abs(box["y"] + box["h"] - truth["y"] - truth["h"]) <= tolerance
    )


def _iou(a: Box, b: Box) -> float:
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    inter = max(w, 0) * max(h, 0)
    return inter / (a["w"] * a["h"] + b["w"] * b["h"] - inter)


def _mismatches(frames: list[_Frame], *, min_area: int, tolerance: int) -> list[str]:
    """Frames whose events are not exactly one close box per visible object."""
    found: list[str] = []
    for frame in frames:
        if frame.index == 0:
            continue  # the first frame only seeds the background model
        wanted = [t for t in frame.truth if t["w"] * t["h"] >= min_area]
        boxes = [e.payload["bbox"] for e in frame.events]
        unmatched = list(boxes)
        for truth in wanted:
            match = next((b for b in unmatched if _edges_close(b, truth, tolerance)), None)
            if match is not None:
                unmatched.remove(match)
        if len(boxes) != len(wanted) or unmatched:
            found.append(f"frame {frame.index}: truth {wanted} events {boxes}")
    return found


def _obj(
    oid: str, x: int, y: int, w: int, h: int, dx: int, dy: int, enter: int, exit_: int
) -> dict[str, Any]:
    return {"id": oid, "x": x, "y": y, "w": w, "h": h, "dx": dx, "dy": dy, "enter": enter, "exit": exit_}


_CASES = [
    pytest.param({"frames": 140}, {}, id="default-camera"),
    pytest.param(
        {"frames": 100, "objects": [_obj("a", -60, 100, 60, 40, 7, 0, 1, 100)]},
        {},
        id="one-object-left-to-right",
    ),
    pytest.param(
        {
            "frames": 90,
            "objects": [
                {**_obj("a", 10, 40, 70, 50, 6, 1, 3, 90), "color": [0, 0, 255]},
                {**_obj("b", 560, 250, 50, 60, -5, -1, 3, 90), "color": [255, 255, 0]},
            ],
        },
        {},
        id="two-objects-at-once",
    ),
    pytest.param(
        {
            "frames": 120,
            "objects": [
                _obj("down", 300, -50, 40, 50, 0, 9, 1, 60),
                _obj("left", 650, 20, 60, 30, -11, 0, 30, 120),
                {**_obj("corner", -40, 330, 40, 40, 5, -4, 70, 120), "color": [0, 255, 0]},
            ],
        },
        {},
        id="entering-and-leaving-at-edges",
    ),
    pytest.param({"frames": 40, "objects": []}, {}, id="no-objects"),
    pytest.param(
        {"frames": 60, "objects": [_obj("a", -60, 100, 60, 40, 7, 2, 1, 60)]},
        {"downscale": 1},
        id="downscale-1-exact",
    ),
    pytest.param(
        {
            "frames": 80,
            "objects": [_obj("a", -60, 100, 60, 40, 9, 0, 1, 80), _obj("b", 300, 300, 30, 30, 3, -3, 10, 80)],
        },
        {"downscale": 4, "min_area": 200},
        id="downscale-4",
    ),
    pytest.param(
        {
            "frames": 70,
            "width": 333,
            "height": 211,
            "seed": 9,
            "objects": [_obj("a", -40, 50, 40, 40, 6, 2, 1, 70)],
        },
        {},
        id="odd-frame-size",
    ),
    pytest.param(
        {"frames": 120, "loop": 40, "objects": [_obj("a", 0, 100, 60, 40, 12, 0, 1, 35)]},
        {},
        id="looping-schedule",
    ),
]


@pytest.mark.parametrize(("camera_config", "motion_config"), _CASES)
def test_detects_exactly_the_configured_objects(
    camera_config: dict[str, Any], motion_config: dict[str, Any]
) -> None:
    frames = _run(camera_config, motion_config)
    settings = MotionDetector(node_id="m", config=motion_config).settings
    width, height = camera_config.get("width", 640), camera_config.get("height", 360)
    divisible = width % settings.downscale == 0 and height % settings.downscale == 0
    tolerance = settings.downscale - 1 if divisible else settings.downscale
    problems = _mismatches(frames, min_area=settings.min_area, tolerance=tolerance)
    assert problems == [], "\n".join(problems[:10])
    empty = [f for f in frames if not f.truth]
    assert all(not f.events for f in empty), "frames without objects must give no events"


def test_two_objects_at_once_are_reported_in_the_same_frame() -> None:
    frames = _run(
        {
            "frames": 30,
            "objects": [_obj("a", 10, 40, 70, 50, 6, 1, 3, 90), _obj("b", 560, 250, 50, 60, -5, -1, 3, 90)],
        }
    )
    assert [len(f.events) for f in frames[3:]] == [2] * 27


def test_boxes_overlap_the_truth_well_with_blur() -> None:
    frames = _run({"frames": 60, "objects": [_obj("a", -60, 100, 60, 40, 7, 0, 1, 60)]}, {"blur": 5})
    pairs = [(f.events, f.truth) for f in frames[2:] if f.truth and f.truth[0]["w"] >= 20]
    assert len(pairs) > 40
    for events, truth in pairs:
        assert len(events) == 1
        assert _iou(events[0].payload["bbox"], truth[0]) >= 0.75


def test_object_that_stops_is_absorbed_after_absorb_after_frames() -> None:
    still = _obj("parked", 100, 100, 50, 50, 0, 0, 3, 100)
    frames = _run({"frames": 30, "objects": [still]}, {"absorb_after": 5})
    assert [f.index for f in frames if f.events] == [3, 4, 5, 6, 7]


def test_first_frame_seeds_the_model_and_gives_no_events() -> None:
    frames = _run({"frames": 3, "objects": [_obj("a", 10, 10, 50, 50, 2, 0, 0, 10)]})
    assert frames[0].truth != [] and frames[0].events == []


def test_event_payloads_follow_the_published_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(EVENT_SCHEMA)
    validator = jsonschema.Draft202012Validator(EVENT_SCHEMA)
    events = [e for f in _run({"frames": 80}) for e in f.events]
    assert len(events) > 50
    for event in events:
        validator.validate(event.payload)
        assert is_json_portable(event.payload)
    first = events[0]
    assert first.kind == "event"
    assert first.source_id == "cam"
    assert first.payload["event_type"] == "motion"
    assert (first.payload["frame_width"], first.payload["frame_height"]) == (640, 360)


def test_events_carry_the_frame_time_and_index() -> None:
    camera = SyntheticCamera(node_id="cam", config={"realtime": False, "frames": 5})
    motion = MotionDetector(node_id="motion", config={})
    for frame in camera.run():
        for event in motion.process(frame):
            assert event.ts == frame.ts == event.payload["ts"]
            assert event.meta["frame_index"] == frame.meta["frame_index"] == event.payload["frame_index"]


def test_events_carry_their_frame_s_capture_times_when_the_source_gave_them() -> None:
    camera = SyntheticCamera(node_id="cam", config={"realtime": False, "frames": 5})
    motion = MotionDetector(node_id="motion", config={})
    frames = list(camera.run())
    timed = [
        f.with_meta(captured_at=1767225600.25 + i, stream_ms=66.7 * i, camera_time=1767225600.1 + i)
        for i, f in enumerate(frames)
    ]
    events = [(f, e) for f in timed for e in motion.process(f)]
    assert events
    for frame, event in events:
        assert event.meta["captured_at"] == frame.meta["captured_at"]
        assert event.meta["stream_ms"] == frame.meta["stream_ms"]
        assert event.meta["camera_time"] == frame.meta["camera_time"]
    untimed = MotionDetector(node_id="motion", config={})
    plain = [e for f in frames for e in untimed.process(f)]
    assert plain and all(not {"captured_at", "stream_ms", "camera_time"} & e.meta.keys() for e in plain)


def test_idempotency_keys_derive_from_the_frame_and_never_repeat_across_runs() -> None:
    config = {"frames": 70}
    first = [e.meta["idempotency_key"] for f in _run(config) for e in f.events]
    second = [e.meta["idempotency_key"] for f in _run(config) for e in f.events]
    # cam:<run token>:frame:<n> is the frame's key; events append :motion:<k>.
    assert re.fullmatch(r"cam:[0-9a-f]+:frame:2:motion:0", first[0]), first[0]
    assert len(set(first)) == len(first)
    # A restarted camera produces new logical items: no key may repeat an earlier run's.
    assert set(first).isdisjoint(second)
    first_ids = [e.packet_id for f in _run(config) for e in f.events]
    assert set(first_ids).isdisjoint(e.packet_id for f in _run(config) for e in f.events)


def test_metrics_count_frames_and_detections() -> None:
    camera = SyntheticCamera(node_id="cam", config={"realtime": False, "frames": 10})
    motion = MotionDetector(node_id="motion", config={})
    total = sum(len(list(motion.process(p))) for p in camera.run())
    assert motion.metrics() == {"frames": 10, "detections": total}
    assert total == 8


def test_frame_index_falls_back_to_a_counter() -> None:
    camera = SyntheticCamera(node_id="cam", config={"realtime": False, "frames": 4})
    motion = MotionDetector(node_id="motion", config={})
    events: list[Packet] = []
    for p in camera.run():
        events.extend(motion.process(Packet.new("frame", "door", p.payload)))
    assert [e.payload["frame_index"] for e in events] == [2, 3]
    assert events[0].meta["idempotency_key"] == "door:2:motion:0"


def test_a_new_frame_size_restarts_the_model() -> None:
    motion = MotionDetector(node_id="motion", config={})
    big = SyntheticCamera(node_id="cam", config={"realtime": False, "frames": 5})
    small = SyntheticCamera(
        node_id="cam", config={"realtime": False, "frames": 5, "width": 320, "height": 180}
    )
    for p in big.run():
        list(motion.process(p))
    after = [list(motion.process(p)) for p in small.run()]
    assert after[0] == [], "the first frame of the new size seeds the model"
    assert [len(events) for events in after[2:]] == [1, 1, 1]


def test_grey_frames_are_accepted() -> None:
    motion = MotionDetector(node_id="motion", config={"downscale": 1})
    background = np.full((100, 100), 80, np.uint8)
    moved = background.copy()
    moved[10:30, 40:70] = 250
    assert list(motion.process(Packet.new("frame", "g", background))) == []
    (event,) = motion.process(Packet.new("frame", "g", moved))
    assert event.payload["bbox"] == {"x": 40, "y": 10, "w": 30, "h": 20}
    assert event.payload["area"] == 600


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"not": "a frame"}, id="dict"),
        pytest.param(np.zeros((4, 4, 3), np.float32), id="float-array"),
        pytest.param(np.zeros(4, np.uint8), id="one-dimensional"),
    ],
)
def test_non_frame_payload_is_a_node_error(payload: Any) -> None:
    motion = MotionDetector(node_id="motion", config={})
    with pytest.raises(NodeError, match="'motion'"):
        motion.process(Packet.new("frame", "cam", payload))
