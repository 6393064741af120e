"""OpenCV's and FFmpeg's own log lines cannot break a JSON log stream.

A real RTSP server (GStreamer) answers 404 for a wrong path, and FFmpeg says so on fd 2
(``[rtsp @ 0x…] method DESCRIBE failed: 404``), as OpenCV does (``[ WARN:0@…] global
cap.cpp …``): the text run shows that they do complain, the JSON run that every line on
stderr is still one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_observability import ENV, REPO
from tests.support.rtsp import RtspServer, start_rtsp_server


@pytest.fixture(scope="module")
def camera() -> Iterator[RtspServer]:
    server = start_rtsp_server(width=320, height=180, fps=15)
    try:
        yield server
    finally:
        server.fail_if_it_died()


def _run(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    graph = tmp_path / "wrong.yaml"
    graph.write_text(
        f"""version: 2
nodes:
  - id: door
    kind: source
    plugin: rtsp_camera
    config: {{url: "{url}", open_timeout_sec: 2, reconnect_backoff_sec: 0.2, reconnect_backoff_max_sec: 0.5}}
  - {{id: motion, kind: node, plugin: motion_detector}}
  - {{id: events, kind: sink, plugin: jsonl_sink, config: {{path: "{(tmp_path / "events.jsonl").as_posix()}"}}}}
edges:
  - {{from: door, to: motion}}
  - {{from: motion, to: events}}
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "run", str(graph), "--duration", "4", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, **ENV},
        cwd=REPO,
        check=False,
    )


def test_ffmpeg_and_opencv_complain_in_text_mode(camera: RtspServer, tmp_path: Path) -> None:
    done = _run(tmp_path, camera.url.replace("/cam", "/wrong"))
    assert done.returncode == 0, done.stderr
    assert "[rtsp @ 0x" in done.stderr and "404" in done.stderr  # the scenario really makes FFmpeg talk


def test_under_json_every_line_is_still_one_object(camera: RtspServer, tmp_path: Path) -> None:
    done = _run(tmp_path, camera.url.replace("/cam", "/wrong"), "--log-format", "json")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # raises on any line that is not JSON
    assert all(isinstance(record, dict) for record in records)
    assert any("rtsp_camera door" in r["message"] and "reconnect attempt" in r["message"] for r in records), (
        lines
    )
    assert "[rtsp @" not in done.stderr and "WARN:" not in done.stderr
