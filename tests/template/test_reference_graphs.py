"""One set of reference graphs: each profile's deployed graph is ops/graphs/<profile>.yaml.

The template includes the reference graph itself (config/graph.yaml.jinja), so the graph CI
runs and the graph a device runs cannot drift apart; here every profile is rendered and
compared with its reference, line for line. A deployed synthetic graph must keep producing
events for as long as it runs: its camera's objects loop. That is proven by running the
rendered camera and detector (unpaced, ``realtime: false``) for 600 frames, four loops,
and finding motion events in every loop; the same camera without ``loop`` goes silent after
its objects leave the view, which shows the test can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from schnitzel_stream.deploy.layout import PROFILES
from tests.template._support import REPO_ROOT, answers, render

REFERENCE = REPO_ROOT / "ops" / "graphs"
#: The lines the template writes above the reference graph (which loses its own modeline).
HEADER_LINES = 5
FRAMES = 600


def test_every_profile_has_its_reference_graph() -> None:
    assert {f"{profile}.yaml" for profile in PROFILES} <= {p.name for p in REFERENCE.glob("*.yaml")}


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_graph_is_the_reference(template_dir: Path, tmp_path: Path, profile: str) -> None:
    root = render(template_dir, tmp_path / "root", answers("linux", "system", profile))
    rendered = (root / "config" / "graph.yaml").read_text(encoding="utf-8").splitlines()
    reference = (REFERENCE / f"{profile}.yaml").read_text(encoding="utf-8").splitlines()
    assert rendered[0].startswith("# yaml-language-server: $schema=https://")
    assert rendered[HEADER_LINES:] == reference[1:]
    # The reference's own first line is its modeline; nothing else of it is dropped.
    assert reference[0].startswith("# yaml-language-server: $schema=")


def _camera_and_detector(graph: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    nodes = {node["id"]: node for node in graph["nodes"]}
    assert nodes["cam"]["plugin"] == "synthetic_camera"
    return dict(nodes["cam"]["config"]), dict(nodes["motion"]["config"])


def _motion_frames(tmp_path: Path, cam: dict[str, Any], motion: dict[str, Any]) -> list[int]:
    """Frame indices of the motion events the camera and detector give over FRAMES frames."""
    graph = {
        "version": 2,
        "nodes": [
            {"id": "cam", "kind": "source", "plugin": "synthetic_camera", "config": cam},
            {"id": "motion", "kind": "node", "plugin": "motion_detector", "config": motion},
            {
                "id": "out",
                "kind": "sink",
                "plugin": "jsonl_sink",
                "config": {"path": "${state}/events.jsonl"},
            },
        ],
        "edges": [{"from": "cam", "to": "motion"}, {"from": "motion", "to": "out"}],
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "graph.yaml"
    path.write_text(yaml.safe_dump(graph), encoding="utf-8")
    state = tmp_path / "state"
    result = subprocess.run(
        [sys.executable, "-I", "-m", "schnitzel_stream", "run", str(path), "--state-dir", str(state),
         "--logs-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=300, check=False, env={"SCHNITZEL_SOURCE_ID": "edge-1-cam"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = (state / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["payload"]["frame_index"] for line in lines]


@pytest.mark.parametrize("profile", [p for p in PROFILES if p.startswith("synthetic")])
def test_deployed_synthetic_graph_keeps_producing_events(
    template_dir: Path, tmp_path: Path, profile: str
) -> None:
    root = render(template_dir, tmp_path / "root", answers("linux", "system", profile))
    cam, motion = _camera_and_detector(yaml.safe_load((root / "config" / "graph.yaml").read_text("utf-8")))
    assert cam["frames"] == 0, "a service's camera runs until it is stopped"
    assert cam["realtime"] is True
    loop = cam["loop"]
    assert 0 < loop <= 300
    # The same camera, unpaced, for a fixed number of frames: four loops and more.
    unpaced = {**cam, "realtime": False, "frames": FRAMES}
    frames = _motion_frames(tmp_path / "looped", unpaced, motion)
    for start in range(0, FRAMES - loop + 1, loop):
        assert any(start <= n < start + loop for n in frames), f"no motion in frames {start}..{start + loop}"
    # Control: without loop its objects leave the view and the camera goes silent.
    silent = _motion_frames(tmp_path / "control", {k: v for k, v in unpaced.items() if k != "loop"}, motion)
    assert silent
    assert max(silent) < loop
