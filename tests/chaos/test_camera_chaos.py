"""Camera chaos: the RTSP camera goes away and comes back, again and again, during one run.

``rtsp_camera -> motion_detector -> jsonl_sink`` runs through the CLI against the real
GStreamer RTSP server. The server is killed (every connection drops at once, like a camera
losing power) and started again on the same port, ``scaled(5, 3)`` times, with outages of
different lengths: short ones, and ones long enough to push the reconnect backoff to its cap.

Measured from outside, as an operator would: the camera's ``reconnected to`` log line (the
source logs it when the first frame of a new connection arrives) gives the time from the
server being ready again to the first new frame; the status lines (``cam frames=...``) show
frames flowing again; the run report has the totals.

The promise: every outage ends with a reconnect within the backoff cap plus 3 s, frames
resume, and the process never exits. With several cameras in one graph (a camera list, each
camera on a server of its own), outages hit one camera at a time: that camera keeps the same
promise, and the others keep streaming through it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.chaos._figures import Figures, scaled
from tests.chaos._servers import latest_status, log_lines, reaches, start_chaos_cli
from tests.support.rtsp import RtspServer, start_rtsp_server

BACKOFF_SEC = 0.5
BACKOFF_MAX_SEC = 2.0
#: The promise: from the camera being back to the first new frame.
RECOVERY_BOUND_SEC = BACKOFF_MAX_SEC + 3.0
#: Outage lengths, cycled: 3 and 4 s let the backoff reach its cap before the camera returns.
OUTAGES_SEC = (1.0, 3.0, 2.0, 4.0, 1.5)
#: Frames that must arrive after a reconnect before the next outage (two seconds of video).
FRAMES_AFTER_RECOVERY = 30
RECONNECTED = "rtsp_camera cam: reconnected to"


#: The camera settings of every scenario here (the config block of the camera node).
CAMERA_CONFIG = f"""\
      transport: tcp
      reconnect: true
      reconnect_max_attempts: 0
      reconnect_backoff_sec: {BACKOFF_SEC}
      reconnect_backoff_max_sec: {BACKOFF_MAX_SEC}
      open_timeout_sec: 5
      read_timeout_sec: 3
      stall_timeout_sec: 6"""


def _graph(tmp_path: Path, server: RtspServer) -> Path:
    graph = tmp_path / "camera.yaml"
    graph.write_text(
        f"""\
version: 2
nodes:
  - id: cam
    kind: source
    plugin: rtsp_camera
    config:
      url: "{server.url}"
{CAMERA_CONFIG}
  - {{id: motion, kind: node, plugin: motion_detector, config: {{downscale: 2}}}}
  - {{id: events, kind: sink, plugin: jsonl_sink, config: {{path: "${{state}}/events.jsonl"}}}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: events}}
""",
        encoding="utf-8",
    )
    return graph


def test_camera_outages_reconnect_and_frames_resume(tmp_path: Path, figures: Figures) -> None:
    outages = scaled(5, 3)
    report = tmp_path / "report.json"
    server = start_rtsp_server()
    recoveries: list[float] = []
    try:
        with start_chaos_cli(
            tmp_path, _graph(tmp_path, server), "--report-json", str(report), "--stop-timeout", "3"
        ) as proc:

            def cam_frames() -> int:
                status = latest_status(proc.stderr())
                return status.get("cam", "frames") if status else 0

            def reconnects_logged() -> int:
                return len(log_lines(proc.stderr(), RECONNECTED))

            proc.wait_for_stderr("rtsp_camera cam: streaming from", timeout=30)
            proc.wait_until(lambda: cam_frames() >= 30, timeout=15, what="30 frames before the first outage")
            for outage in range(outages):
                down_for = OUTAGES_SEC[outage % len(OUTAGES_SEC)]
                server.kill()
                assert proc.runs_for(down_for), f"the process exited during outage {outage + 1}"
                server.start()
                ready = time.monotonic()
                proc.wait_until(
                    reaches(reconnects_logged, outage + 1),
                    timeout=RECOVERY_BOUND_SEC + 20,
                    what=f"a reconnect after outage {outage + 1}",
                )
                recoveries.append(round(time.monotonic() - ready, 2))
                resumed_from = cam_frames()
                proc.wait_until(
                    reaches(cam_frames, resumed_from + FRAMES_AFTER_RECOVERY),
                    timeout=10,
                    what=f"{FRAMES_AFTER_RECOVERY} frames after outage {outage + 1}",
                )
            assert proc.running(), "the process exited"
            finished = proc.stop(timeout=10)
    finally:
        server.fail_if_it_died()

    assert finished.returncode == 0, finished.describe()
    cam = json.loads(report.read_text(encoding="utf-8"))["nodes"]["cam"]
    metrics = cam["metrics"]
    figures.add("outages", outages)
    figures.add("outage_sec", list(OUTAGES_SEC[:outages]))
    figures.add("recovery_sec", recoveries)
    figures.add("recovery_max_sec", max(recoveries))
    figures.add("recovery_bound_sec", RECOVERY_BOUND_SEC)
    figures.add("reconnects", metrics["reconnects"])
    figures.add("reconnect_attempts", metrics["reconnect_attempts"])
    figures.add("frames", metrics["frames"])
    figures.add("exit_code", finished.returncode)

    assert metrics["reconnects"] == outages, metrics
    assert metrics["disconnects"] + metrics["stalls"] >= outages, metrics
    late = [(n + 1, took) for n, took in enumerate(recoveries) if took > RECOVERY_BOUND_SEC]
    assert not late, f"reconnects later than backoff cap + 3 s ({RECOVERY_BOUND_SEC}s): {late}"
    assert cam["errors"] == 0, cam


# -- several cameras in one graph ----------------------------------------------------------

CAMERAS = ("gate", "yard", "door")


def _multi_graph(tmp_path: Path, servers: dict[str, RtspServer]) -> Path:
    graph = tmp_path / "cameras.yaml"
    entries = "\n".join(f'  - {{id: {camera}, url: "{server.url}"}}' for camera, server in servers.items())
    graph.write_text(
        f"""\
version: 2
cameras:
{entries}
nodes:
  - id: cam
    kind: source
    plugin: rtsp_camera
    each_camera: true
    config:
{CAMERA_CONFIG}
  - {{id: motion, kind: node, plugin: motion_detector, each_camera: true}}
  - id: queue
    kind: sink
    plugin: sqlite_queue_sink
    config: {{path: "${{state}}/events.db", commit_every: 64, commit_interval_ms: 50}}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: queue}}
""",
        encoding="utf-8",
    )
    return graph


def test_outages_of_one_camera_at_a_time_in_a_multi_camera_graph(tmp_path: Path, figures: Figures) -> None:
    """Each outage hits one camera of three: it reconnects within the bound, the others stream on."""
    outages = scaled(6, 3)
    report = tmp_path / "report.json"
    servers = {camera: start_rtsp_server() for camera in CAMERAS}
    recoveries: list[float] = []
    others_during: list[int] = []
    try:
        graph = _multi_graph(tmp_path, servers)
        with start_chaos_cli(tmp_path, graph, "--report-json", str(report), "--stop-timeout", "3") as proc:

            def reconnects(camera: str) -> Callable[[], int]:
                line = f"rtsp_camera {camera}.cam: reconnected to"
                return lambda: len(log_lines(proc.stderr(), line))

            def frames(camera: str) -> Callable[[], int]:
                def count() -> int:
                    status = latest_status(proc.stderr())
                    return status.get(f"{camera}.cam", "frames") if status else 0

                return count

            for camera in CAMERAS:
                proc.wait_until(reaches(frames(camera), 30), timeout=30, what=f"30 frames of {camera}")
            for outage in range(outages):
                down = CAMERAS[outage % len(CAMERAS)]
                others = [camera for camera in CAMERAS if camera != down]
                before = {camera: frames(camera)() for camera in others}
                servers[down].kill()
                assert proc.runs_for(OUTAGES_SEC[outage % len(OUTAGES_SEC)]), f"exited in outage {outage + 1}"
                servers[down].start()
                ready = time.monotonic()
                proc.wait_until(
                    reaches(reconnects(down), outage // len(CAMERAS) + 1),
                    timeout=RECOVERY_BOUND_SEC + 20,
                    what=f"{down} reconnecting after outage {outage + 1}",
                )
                recoveries.append(round(time.monotonic() - ready, 2))
                # The other cameras streamed on from the outage to the reconnect (at least 2 s).
                others_during.append(min(frames(camera)() - before[camera] for camera in others))
                resumed_from = frames(down)()
                proc.wait_until(
                    reaches(frames(down), resumed_from + FRAMES_AFTER_RECOVERY),
                    timeout=10,
                    what=f"{FRAMES_AFTER_RECOVERY} frames of {down} after outage {outage + 1}",
                )
            assert proc.running(), "the process exited"
            finished = proc.stop(timeout=10)
    finally:
        for server in servers.values():
            server.kill()
        for server in servers.values():
            server.fail_if_it_died()

    assert finished.returncode == 0, finished.describe()
    nodes = json.loads(report.read_text(encoding="utf-8"))["nodes"]
    figures.add("cameras", len(CAMERAS))
    figures.add("outages", outages)
    figures.add("recovery_sec", recoveries)
    figures.add("recovery_max_sec", max(recoveries))
    figures.add("recovery_bound_sec", RECOVERY_BOUND_SEC)
    figures.add("other_cameras_min_frames_during_outage", others_during)
    for index, camera in enumerate(CAMERAS):
        metrics = nodes[f"{camera}.cam"]["metrics"]
        hit = len(range(index, outages, len(CAMERAS)))
        figures.add(f"{camera}_reconnects", metrics["reconnects"])
        assert metrics["reconnects"] == hit, (camera, metrics)
        assert nodes[f"{camera}.cam"]["errors"] == nodes[f"{camera}.motion"]["errors"] == 0
    late = [(n + 1, took) for n, took in enumerate(recoveries) if took > RECOVERY_BOUND_SEC]
    assert not late, f"reconnects later than backoff cap + 3 s ({RECOVERY_BOUND_SEC}s): {late}"
    # A second of a 15 fps camera at least (status lines come every 0.5 s), for every outage.
    assert min(others_during) >= 15, others_during
