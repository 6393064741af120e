"""The compatibility corpus's RTSP graph (the design's vision-pack path) against a real camera.

tests/e2e starts no RTSP server, so ``tests/e2e/compat_graphs/vision_rtsp_camera.yaml`` runs
here, unchanged, against GStreamer's RTSP server, through the design's command line form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.rtsp import RtspServer, rtsp_server

__all__ = ["rtsp_server"]  # the fixture, imported for pytest

GRAPH = Path(__file__).resolve().parents[1] / "e2e" / "compat_graphs" / "vision_rtsp_camera.yaml"


def test_the_designs_rtsp_graph_runs_unchanged(rtsp_server: RtspServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "COMPAT_RTSP_URL": rtsp_server.url,
        "SCHNITZEL_STREAM_LOGS_DIR": str(tmp_path / "logs"),
        "SCHNITZEL_STREAM_STATE_DIR": str(tmp_path / "state"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "schnitzel_stream",
            "--graph",
            str(GRAPH),
            "--max-events",
            "5",
            "--report-json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    frames = [json.loads(line[5:]) for line in result.stdout.splitlines() if line.startswith("RTSP ")]
    assert len(frames) >= 5
    assert {frame["source_id"] for frame in frames} == {"yard-cam"}
    report = json.loads((tmp_path / "logs" / "run-report.json").read_text(encoding="utf-8"))
    assert report["reason"] == "max_events"
