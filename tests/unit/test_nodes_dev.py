"""The dev nodes, and the spec rules every local built-in node (dev, synthetic, motion, files) keeps."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from typing import Any

import jsonschema
import numpy as np
import pytest

from schnitzel_stream.nodes import dev, files, motion, synthetic
from schnitzel_stream.nodes.base import Node, NodeSpec, Source
from schnitzel_stream.nodes.dev import Identity, PrintSink, StaticSource
from schnitzel_stream.nodes.registry import load_target
from schnitzel_stream.packet import Packet

_MODULES = (dev, synthetic, motion, files)
_SPECS: list[NodeSpec] = [spec for module in _MODULES for spec in module.SPECS]
#: The smallest config each node accepts: its required keys.
_REQUIRED: dict[str, dict[str, Any]] = {"jsonl_sink": {"path": "out.jsonl"}}


_SPEC_PARAMS = [pytest.param(spec, id=spec.name) for spec in _SPECS]


def test_every_local_node_is_listed() -> None:
    names = {spec.name for spec in _SPECS}
    assert names == {
        "static_source",
        "identity",
        "print_sink",
        "synthetic_camera",
        "motion_detector",
        "jsonl_sink",
    }


@pytest.mark.parametrize("spec", _SPEC_PARAMS)
def test_spec_target_is_the_class_carrying_it(spec: NodeSpec) -> None:
    cls = load_target(spec.target)
    assert issubclass(cls, Node)
    assert cls.SPEC is spec
    assert spec.target.startswith("schnitzel_stream.nodes.")
    assert issubclass(cls, Source) == ("source" in spec.roles)


@pytest.mark.parametrize("spec", _SPEC_PARAMS)
def test_spec_schema_is_complete(spec: NodeSpec) -> None:
    schema = dict(spec.schema)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    required = set(schema.get("required", ()))
    for name, prop in schema["properties"].items():
        assert prop.get("title") and prop.get("description"), name
        assert prop.get("examples"), name
        assert (name in required) != ("default" in prop), f"{name}: optional keys have a default"
        for example in prop["examples"]:
            jsonschema.Draft202012Validator(prop).validate(example)
        if "default" in prop:
            jsonschema.Draft202012Validator(prop).validate(prop["default"])


def test_node_modules_do_not_import_cv2_or_numpy() -> None:
    code = (
        "import sys\n"
        "import schnitzel_stream.nodes.dev, schnitzel_stream.nodes.synthetic\n"
        "import schnitzel_stream.nodes.motion, schnitzel_stream.nodes.files\n"
        "print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def _static(config: dict[str, Any]) -> StaticSource:
    return StaticSource(node_id="src", config=config)


def test_static_source_emits_the_list_repeat_times_with_fresh_ids() -> None:
    source = _static(
        {"packets": [{"payload": {"a": 1}}, {"kind": "event", "source_id": "s2", "payload": 2}], "repeat": 3}
    )
    packets = list(source.run())
    assert [p.payload for p in packets] == [{"a": 1}, 2] * 3
    assert [p.kind for p in packets] == ["raw", "event"] * 3
    assert [p.source_id for p in packets] == ["src", "s2"] * 3
    assert len({p.packet_id for p in packets}) == 6
    keys = [p.meta["idempotency_key"] for p in packets]
    assert keys == ["src:0:0", "src:0:1", "src:1:0", "src:1:1", "src:2:0", "src:2:1"]
    assert all(p.ts.endswith("Z") for p in packets)
    assert source.metrics() == {"emitted": 6, "rounds": 3}


def test_static_source_keeps_a_configured_key_ts_and_meta() -> None:
    item = {
        "payload": 1,
        "ts": "2026-01-01T00:00:00.000Z",
        "meta": {"idempotency_key": "order-7", "tag": "x"},
    }
    packets = list(_static({"packets": [item], "repeat": 2}).run())
    assert [p.meta for p in packets] == [{"idempotency_key": "order-7", "tag": "x"}] * 2
    assert [p.ts for p in packets] == ["2026-01-01T00:00:00.000Z"] * 2
    assert packets[0].packet_id != packets[1].packet_id


def test_static_source_gives_every_packet_its_own_meta() -> None:
    packets = list(_static({"packets": [{"payload": 1, "meta": {"tag": "x"}}], "repeat": 2}).run())
    packets[0].meta["added"] = True
    assert "added" not in packets[1].meta
    assert packets[1].meta == {"tag": "x", "idempotency_key": "src:1:0"}


def test_static_source_default_is_one_round_of_nothing() -> None:
    assert list(_static({}).run()) == []
    assert len(list(_static({"packets": [{"payload": 1}]}).run())) == 1


def test_static_source_repeat_zero_runs_until_stopped() -> None:
    source = _static({"packets": [{"payload": 1}, {"payload": 2}], "repeat": 0})
    run = source.run()
    taken = list(itertools.islice(run, 5001))
    assert taken[-1].meta["idempotency_key"] == "src:2500:0"
    source.stop()
    assert list(run) == []


def test_static_source_interval_wait_is_cut_short_by_stop() -> None:
    source = _static({"packets": [{"payload": 1}], "repeat": 0, "interval": 30})
    done = threading.Event()
    got: list[Packet] = []

    def consume() -> None:
        got.extend(source.run())
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    source.stop()
    assert done.wait(5), "run() kept waiting out its interval after stop()"
    assert got == []


def test_identity_returns_the_same_packet() -> None:
    packet = Packet.new("raw", "s", {"x": 1})
    out = Identity(node_id="id", config={}).process(packet)
    assert isinstance(out, tuple)
    assert len(out) == 1 and out[0] is packet


def test_print_sink_prints_one_json_line_per_packet(capsys: pytest.CaptureFixture[str]) -> None:
    sink = PrintSink(node_id="p", config={"prefix": "out: "})
    packet = Packet.new("event", "cam", {"n": 1, "text": "ü"}, meta={"idempotency_key": "k"})
    assert list(sink.process(packet)) == []
    line = capsys.readouterr().out
    assert line.startswith("out: ") and line.endswith("\n") and line.count("\n") == 1
    assert json.loads(line.removeprefix("out: ")) == packet.to_dict()
    assert sink.metrics() == {"lines": 1}


def test_print_sink_shows_frames_by_shape_and_can_forward(capsys: pytest.CaptureFixture[str]) -> None:
    sink = PrintSink(node_id="p", config={"forward": True})
    packet = Packet.new("frame", "cam", np.zeros((4, 6, 3), np.uint8))
    assert list(sink.process(packet)) == [packet]
    printed = json.loads(capsys.readouterr().out)
    assert printed["payload"] == "<ndarray shape=(4, 6, 3) dtype=uint8>"
