"""Every rendered root carries ``tests/smoke.test.yaml``, and ``test --deployment`` runs it for real.

The smoke test runs the root's own graph with the camera swapped for a synthetic one and the
network sink captured: it passes for every profile, sends nothing to the backend the root
names, and fails (exit 1) when the graph stops producing events.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.http_backend import running_backend
from tests.template._support import PROFILES, answers, cli, render

SINK = {
    "synthetic_demo": "events",
    "rtsp_to_http_durable": "backend",
    "synthetic_to_http_durable": "backend",
    "synthetic_to_mqtt": "broker",
}


def smoke(root: Path) -> tuple[int, dict[str, object]]:
    result = cli("test", "--deployment", str(root), "--format", "json")
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def only_case(report: dict[str, object]) -> dict[str, object]:
    files = report["files"]
    assert isinstance(files, list) and len(files) == 1
    assert Path(files[0]["path"]).as_posix().endswith("tests/smoke.test.yaml")
    (case,) = files[0]["cases"]
    assert isinstance(case, dict)
    return case


@pytest.mark.parametrize("profile", PROFILES)
def test_the_smoke_test_of_every_profile_passes(template_dir: Path, tmp_path: Path, profile: str) -> None:
    root = render(template_dir, tmp_path / "root", answers("linux", "portable", profile))
    code, report = smoke(root)
    case = only_case(report)
    assert code == 0, case
    assert case["name"] == "motion events come through"
    captured = case["captured"]
    assert isinstance(captured, dict) and captured[SINK[profile]] >= 1
    assert not (root / "state").exists()  # the root's own state directory is never touched


@pytest.mark.parametrize("os_name", ["windows", "macos"])
def test_roots_for_the_other_oses_carry_the_same_smoke_test(
    template_dir: Path, tmp_path: Path, os_name: str
) -> None:
    root = render(template_dir, tmp_path / "root", answers(os_name, "system", "synthetic_demo"))
    code, report = smoke(root)
    assert code == 0, report
    assert only_case(report)["status"] == "passed"


def test_the_smoke_test_never_reaches_the_backend_the_root_names(template_dir: Path, tmp_path: Path) -> None:
    with running_backend() as backend:
        data = answers("linux", "portable", "synthetic_to_http_durable", backend_url=backend.url)
        root = render(template_dir, tmp_path / "root", data)
        # The graph reads the backend from the env file, which the smoke test loads too.
        assert "${SCHNITZEL_BACKEND_URL" in (root / "config" / "graph.yaml").read_text(encoding="utf-8")
        assert backend.url in (root / "config" / "schnitzel-stream.env").read_text(encoding="utf-8")
        code, report = smoke(root)
        assert code == 0, report
        assert backend.stats()["requests"] == 0


def test_a_graph_that_stops_producing_events_fails_its_smoke_test(template_dir: Path, tmp_path: Path) -> None:
    root = render(template_dir, tmp_path / "root", answers("linux", "portable", "synthetic_demo"))
    graph = root / "config" / "graph.yaml"
    # A detector that can no longer see anything: every frame is below its threshold.
    graph.write_text(
        graph.read_text(encoding="utf-8").replace("min_area: 100", "min_area: 100000000"), encoding="utf-8"
    )
    result = cli("test", "--deployment", str(root))
    assert result.returncode == 1
    assert "FAIL   motion events come through" in result.stdout
    assert "expected at least 1 packets at 'events'; saw 0 [expect.count]" in result.stdout
