"""The synthetic camera: determinism, ground truth, pacing, and the reference demo graph."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
import yaml

from schnitzel_stream.demo import demo_graph
from schnitzel_stream.nodes.files import JsonlSink
from schnitzel_stream.nodes.motion import MotionDetector
from schnitzel_stream.nodes.synthetic import DEFAULT_OBJECTS, SyntheticCamera
from schnitzel_stream.packet import Packet

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_GRAPH = ROOT / "ops" / "graphs" / "synthetic_camera.yaml"

_BOX = {"id": "box", "x": -30, "y": 40, "w": 50, "h": 30, "dx": 10, "dy": 3, "enter": 5, "exit": 40}


def _camera(**config: Any) -> SyntheticCamera:
    return SyntheticCamera(node_id="cam", config={"realtime": False, **config})


def test_same_seed_gives_identical_frames() -> None:
    first, second = _camera(seed=3), _camera(seed=3)
    for n in (0, 5, 17, 63):
        assert np.array_equal(first.render(n)[0], second.render(n)[0])


def test_other_seed_gives_other_background() -> None:
    assert not np.array_equal(_camera(seed=3).render(0)[0], _camera(seed=4).render(0)[0])


def test_frames_are_bgr_uint8_of_the_configured_size() -> None:
    frame, _ = _camera(width=320, height=200).render(0)
    assert frame.shape == (200, 320, 3)
    assert frame.dtype == np.uint8
    assert frame.flags.c_contiguous


def test_every_frame_is_a_fresh_array() -> None:
    camera = _camera()
    first, _ = camera.render(0)
    first[:] = 0
    assert camera.render(0)[0].any(), "drawing on one frame must not change the next"


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        pytest.param(4, None, id="before-enter"),
        pytest.param(5, {"x": 0, "y": 40, "w": 20, "h": 30}, id="enter-clipped-left"),
        pytest.param(10, {"x": 20, "y": 55, "w": 50, "h": 30}, id="inside"),
        pytest.param(39, {"x": 310, "y": 142, "w": 10, "h": 30}, id="clipped-right"),
        pytest.param(40, None, id="at-exit"),
    ],
)
def test_truth_follows_the_configured_path(n: int, expected: dict[str, int] | None) -> None:
    camera = _camera(width=320, height=200, objects=[_BOX])
    frame, truth = camera.render(n)
    if expected is None:
        assert truth == []
        return
    assert truth == [{"id": "box", "bbox": expected}]
    x, y, w, h = expected["x"], expected["y"], expected["w"], expected["h"]
    assert (frame[y : y + h, x : x + w] == (0, 200, 255)).all(), "the object is drawn where the truth says"


def test_object_off_screen_is_not_in_truth() -> None:
    camera = _camera(width=320, height=200, objects=[{**_BOX, "x": 400, "exit": None}])
    assert camera.render(5)[1] == []


def test_loop_replays_the_schedule() -> None:
    camera = _camera(width=320, height=200, objects=[_BOX], loop=50)
    assert camera.render(60)[1] == camera.render(10)[1] != []
    assert np.array_equal(camera.render(60)[0], camera.render(10)[0])


def test_default_objects_cross_the_view_early() -> None:
    camera = _camera(frames=12)
    packets = list(camera.run())
    visible = [p.meta["frame_index"] for p in packets if p.meta["truth"]]
    assert visible[0] == DEFAULT_OBJECTS[0].enter == 2
    assert visible == list(range(2, 12))


def test_run_emits_frame_packets_with_meta() -> None:
    camera = _camera(frames=3, width=64, height=48, fps=10)
    packets = list(camera.run())
    assert [p.kind for p in packets] == ["frame"] * 3
    assert [p.source_id for p in packets] == ["cam"] * 3
    keys = [p.meta["idempotency_key"] for p in packets]
    run_token = keys[0].split(":")[1]
    assert keys == [f"cam:{run_token}:frame:{n}" for n in range(3)]
    assert packets[1].meta["frame_index"] == 1
    assert (packets[0].meta["width"], packets[0].meta["height"], packets[0].meta["fps"]) == (64, 48, 10)
    assert isinstance(packets[0].payload, np.ndarray)
    assert len({p.packet_id for p in packets}) == 3
    assert packets[0].ts.endswith("Z")
    assert camera.metrics() == {"frames": 3}


def test_source_id_overrides_the_node_id() -> None:
    packet = next(iter(_camera(frames=1, source_id="entrance").run()))
    assert packet.source_id == "entrance"
    assert packet.meta["idempotency_key"].startswith("entrance:")
    assert packet.meta["idempotency_key"].endswith(":frame:0")


def test_frames_zero_runs_until_stopped() -> None:
    camera = _camera(width=32, height=32, frames=0)
    run = camera.run()
    assert len(list(itertools.islice(run, 300))) == 300
    camera.stop()
    assert list(run) == []


def test_realtime_paces_frames_at_fps() -> None:
    camera = SyntheticCamera(node_id="cam", config={"width": 32, "height": 32, "fps": 50, "frames": 6})
    started = time.monotonic()
    assert len(list(camera.run())) == 6
    # Frame n is due n/fps after the start, so six frames cannot come sooner than 5/50 s.
    assert time.monotonic() - started >= 5 / 50


def test_stop_interrupts_the_realtime_wait() -> None:
    # At 0.2 fps the second frame is due 5 s after the first; stop() must cut that wait short.
    camera = SyntheticCamera(node_id="cam", config={"width": 32, "height": 32, "fps": 0.2})
    received: list[Packet] = []
    first = threading.Event()

    def consume() -> None:
        for packet in camera.run():
            received.append(packet)
            first.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    assert first.wait(5)
    camera.stop()
    thread.join(2.5)
    assert not thread.is_alive(), "run() kept waiting for the next frame after stop()"
    assert len(received) == 1


def test_demo_graph_is_the_reference_graph_byte_for_byte() -> None:
    assert demo_graph().read_bytes() == REFERENCE_GRAPH.read_bytes()


def test_reference_graph_starts_with_the_schema_comment() -> None:
    first_line = REFERENCE_GRAPH.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "# yaml-language-server: $schema=../../schemas/graph.schema.json"


def _reference_nodes() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(REFERENCE_GRAPH.read_text(encoding="utf-8"))
    assert document["version"] == 2
    assert [(e["from"], e["to"]) for e in document["edges"]] == [("cam", "motion"), ("motion", "events")]
    return {node["id"]: node for node in document["nodes"]}


def test_reference_graph_configs_match_the_node_schemas() -> None:
    classes = {"cam": SyntheticCamera, "motion": MotionDetector, "events": JsonlSink}
    for node_id, node in _reference_nodes().items():
        spec = classes[node_id].SPEC
        assert spec is not None
        assert node["plugin"] == spec.name
        config = {k: v for k, v in node["config"].items() if k != "__runtime__"}
        jsonschema.Draft202012Validator(spec.schema).validate(config)


def test_reference_graph_writes_one_event_per_visible_object(tmp_path: Path) -> None:
    """The demo chained by hand (the engine is tested elsewhere): events match the truth."""
    nodes = _reference_nodes()
    camera = SyntheticCamera(node_id="cam", config=nodes["cam"]["config"])
    motion_config = {k: v for k, v in nodes["motion"]["config"].items() if k != "__runtime__"}
    motion = MotionDetector(node_id="motion", config=motion_config)
    path = str(nodes["events"]["config"]["path"]).replace("${state}", str(tmp_path))
    sink = JsonlSink(node_id="events", config={"path": path})
    expected = 0
    for frame in camera.run():
        expected += len(frame.meta["truth"])
        for event in motion.process(frame):
            sink.process(event)
    sink.close()
    lines = (tmp_path / "events" / "synthetic_camera.jsonl").read_text(encoding="utf-8").splitlines()
    assert camera.metrics()["frames"] == 150
    assert expected > 100, "the demo shows its objects for most of its frames"
    assert len(lines) == expected
