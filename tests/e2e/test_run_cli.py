"""The runtime contract end to end: ``python -m schnitzel_stream --graph GRAPH`` as a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from schnitzel_stream.runtime.signals import REPEAT_WINDOW_SEC
from tests.support.graphs import paced_camera
from tests.support.proc import CliProcess, start_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = REPO_ROOT / "ops" / "graphs" / "synthetic_camera.yaml"
#: tests.support nodes are importable by target from the repository root.
TEST_ENV = {"NO_COLOR": "1", "PYTHONPATH": str(REPO_ROOT)}


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m schnitzel_stream ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **TEST_ENV, **(env or {})},
        cwd=REPO_ROOT,
        check=False,
    )


def start(tmp_path: Path, *args: str) -> CliProcess:
    return start_cli(*args, log_dir=tmp_path / "proc", cwd=REPO_ROOT, env=TEST_ENV)


JSONL_SINK = '{id: events, kind: sink, plugin: jsonl_sink, config: {path: "${state}/events.jsonl"}}'


def _endless_graph(tmp_path: Path, sink_id: str = "events", sink: str = JSONL_SINK) -> Path:
    """A paced camera that never ends, into a JSONL sink or another sink node ``sink``."""
    graph = tmp_path / "endless.yaml"
    graph.write_text(
        f"""
version: 2
plugins: {{allow: [tests.support]}}
nodes:
{paced_camera()}  - {sink}
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: {sink_id}}}
""",
        encoding="utf-8",
    )
    return graph


def _expected_boxes(graph_file: Path) -> dict[int, list[tuple[int, int, int, int]]]:
    """Ground truth straight from the graph: every visible object's box per frame."""
    config = yaml.safe_load(graph_file.read_text(encoding="utf-8"))["nodes"][0]["config"]
    width, height = config["width"], config["height"]
    boxes: dict[int, list[tuple[int, int, int, int]]] = {}
    for frame in range(config["frames"]):
        for obj in config["objects"]:
            if not obj["enter"] <= frame < obj["exit"]:
                continue
            x = obj["x"] + obj["dx"] * (frame - obj["enter"])
            y = obj["y"] + obj["dy"] * (frame - obj["enter"])
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(width, x + obj["w"]), min(height, y + obj["h"])
            if x1 > x0 and y1 > y0:
                boxes.setdefault(frame, []).append((x0, y0, x1 - x0, y1 - y0))
    return boxes


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_synthetic_camera_graph_events_match_the_configured_objects(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = cli("--graph", str(SYNTHETIC), "--state-dir", str(tmp_path), "--report-json", str(report))
    assert done.returncode == 0, done.stderr
    events = _read_jsonl(tmp_path / "events" / "synthetic_camera.jsonl")
    expected = _expected_boxes(SYNTHETIC)
    found: dict[int, list[tuple[int, int, int, int]]] = {}
    for event in events:
        assert event["kind"] == "event"
        payload = event["payload"]
        box = payload["bbox"]
        found.setdefault(payload["frame_index"], []).append((box["x"], box["y"], box["w"], box["h"]))
        # The event's key extends its frame's key: cam:<run token>:frame:<n>:motion:<k>.
        pattern = rf"cam:[0-9a-f]+:frame:{payload['frame_index']}:motion:\d+"
        assert re.fullmatch(pattern, event["meta"]["idempotency_key"])
    # Frame 0 only seeds the background model; from then on every visible object is found.
    assert set(found) == set(expected) - {0}
    for frame, boxes in found.items():
        truth = expected[frame]
        assert len(boxes) == len(truth), f"frame {frame}: {boxes} vs {truth}"
        for box in boxes:
            assert max(_iou(box, t) for t in truth) >= 0.8, f"frame {frame}: {box} vs {truth}"
    run = json.loads(report.read_text(encoding="utf-8"))
    assert run["reason"] == "completed"
    assert run["nodes"]["cam"]["out"] == 150
    assert run["nodes"]["events"]["in"] == len(events)
    assert "events (jsonl_sink) received" in done.stderr
    assert str(tmp_path / "events" / "synthetic_camera.jsonl") in done.stderr


def test_run_subcommand_is_the_same_contract(tmp_path: Path) -> None:
    done = cli("run", str(SYNTHETIC), "--state-dir", str(tmp_path), "--max-events", "5")
    assert done.returncode == 0, done.stderr
    assert len(_read_jsonl(tmp_path / "events" / "synthetic_camera.jsonl")) >= 5


def test_the_embedded_demo_runs_without_arguments(tmp_path: Path) -> None:
    done = cli("run", env={"SCHNITZEL_STREAM_STATE_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    out = tmp_path / "events" / "synthetic_camera.jsonl"
    assert len(_read_jsonl(out)) > 100
    assert f"-> {out}" in done.stderr


def test_an_invalid_graph_is_refused_with_exit_78_and_the_validate_problems(tmp_path: Path) -> None:
    graph = tmp_path / "bad.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - {id: a, kind: source, plugin: synthetic_camera, config: {widht: 3}}\n"
        "edges: []\n",
        encoding="utf-8",
    )
    done = cli("--graph", str(graph))
    assert done.returncode == 78
    assert f"{graph}:3:" in done.stderr
    assert "nodes[0].config" in done.stderr and "widht" in done.stderr
    assert "Traceback" not in done.stderr
    validated = cli("validate", str(graph))
    assert validated.returncode == 1
    assert "widht" in validated.stdout + validated.stderr


def test_validate_only_checks_and_exits(tmp_path: Path) -> None:
    done = cli("--graph", str(SYNTHETIC), "--validate-only", "--state-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    assert not (tmp_path / "events").exists()


@pytest.mark.parametrize("twice", [False, True], ids=["once", "delivered-twice"])
def test_sigterm_stops_gracefully_within_five_seconds(tmp_path: Path, twice: bool) -> None:
    """``delivered-twice``: under ``uv run``, one Ctrl-C reaches the runtime from the terminal
    and again, forwarded, from uv; that is still one graceful stop."""
    graph = _endless_graph(tmp_path)
    report = tmp_path / "report.json"
    events = tmp_path / "events.jsonl"
    with start(
        tmp_path, "--graph", str(graph), "--state-dir", str(tmp_path), "--report-json", str(report)
    ) as proc:
        proc.wait_until(lambda: events.exists() and events.stat().st_size > 0, timeout=20, what="an event")
        if twice:
            proc.send_stop()
        finished = proc.stop()
    assert finished.returncode == 0, finished.describe()
    assert "without draining" not in finished.stderr
    assert finished.seconds < 5.0
    run = json.loads(report.read_text(encoding="utf-8"))
    assert run["reason"] == "stopped"
    assert run["nodes"]["events"]["in"] == len(_read_jsonl(events))


def test_a_second_signal_exits_at_once(tmp_path: Path) -> None:
    graph = _endless_graph(
        tmp_path,
        "stuck",
        "{id: stuck, kind: sink, plugin: 'tests.support.nodes:Hang', config: {forever: true}}",
    )
    with start(tmp_path, "--graph", str(graph), "--state-dir", str(tmp_path), "--stop-timeout", "30") as proc:
        proc.wait_for_stderr("started: 3 nodes", timeout=20)
        time.sleep(0.5)
        proc.send_stop()
        first = time.monotonic()
        proc.wait_for_stderr("stop requested", timeout=5)
        # A repeat within REPEAT_WINDOW_SEC is the same request (one key press, delivered twice).
        time.sleep(max(0.0, first + REPEAT_WINDOW_SEC + 0.2 - time.monotonic()))
        started = time.monotonic()
        proc.send_stop()
        finished = proc.wait(5)
    assert time.monotonic() - started < 2.0
    second = signal.SIGBREAK if sys.platform == "win32" else signal.SIGTERM  # type: ignore[attr-defined,unused-ignore]
    assert finished.returncode == 128 + int(second), finished.describe()
    assert "exiting now without draining" in finished.stderr


def test_a_failing_node_exits_non_zero_so_the_service_manager_restarts(tmp_path: Path) -> None:
    graph = _endless_graph(
        tmp_path, "bad", "{id: bad, kind: sink, plugin: 'tests.support.nodes:Fail', config: {at: 1}}"
    )
    report = tmp_path / "report.json"
    done = cli("--graph", str(graph), "--state-dir", str(tmp_path), "--report-json", str(report), timeout=60)
    assert done.returncode == 1
    assert "node 'bad'" in done.stderr and "boom" in done.stderr
    assert json.loads(report.read_text(encoding="utf-8"))["reason"] == "failed"


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    done = cli("--graph", str(SYNTHETIC), "--state-dir", str(tmp_path), "--log-format", "json")
    assert done.returncode == 0
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(r["message"].startswith("graph ") and r["level"] == "info" for r in records)


def test_log_file_auto_goes_under_the_logs_path_class(tmp_path: Path) -> None:
    done = cli(
        "--graph",
        str(SYNTHETIC),
        "--state-dir",
        str(tmp_path),
        "--logs-dir",
        str(tmp_path / "logs"),
        "--log-file",
        "auto",
    )
    assert done.returncode == 0
    assert "graph stopped (completed)" in (tmp_path / "logs" / "schnitzel-stream.log").read_text(
        encoding="utf-8"
    )


def test_status_lines_report_every_node(tmp_path: Path) -> None:
    done = cli(
        "--graph",
        str(_endless_graph(tmp_path)),
        "--state-dir",
        str(tmp_path),
        "--duration",
        "1.5",
        "--status-interval",
        "0.5",
    )
    assert done.returncode == 0
    status = [line for line in done.stderr.splitlines() if "status uptime=" in line]
    assert status, done.stderr
    assert "cam out=" in status[-1] and "motion in=" in status[-1] and "events in=" in status[-1]


def test_no_command_prints_usage_and_exits_2() -> None:
    done = cli()
    assert done.returncode == 2
    assert "usage: schnitzel-stream" in done.stderr


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from schnitzel_stream.cli.__main__ import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('cv2', 'numpy', 'requests', 'paho', 'prometheus_client', "
        "'schnitzel_stream.runtime.metrics') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("flag", "target", "problem"),
    [
        ("--log-file", "a-directory", "is a directory, not a file"),
        ("--report-json", "a-directory", "is a directory, not a file"),
        ("--log-file", "a-file/run.log", "is not a directory"),
        ("--report-json", "a-file/run.json", "is not a directory"),
        ("--report-json", "/proc/no-such-dir/run.json", "cannot be created"),
        ("--log-file", "/proc/run.log", "cannot be written in /proc"),
    ],
)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_output_file_that_cannot_be_written_is_refused_before_the_graph_starts(
    tmp_path: Path, flag: str, target: str, problem: str, log_format: str
) -> None:
    (tmp_path / "a-directory").mkdir()
    (tmp_path / "a-file").write_text("keep me\n", encoding="utf-8")
    path = target if target.startswith("/") else str(tmp_path / target)
    done = cli(
        "--graph", str(SYNTHETIC), "--state-dir", str(tmp_path / "state"),
        "--log-format", log_format, f"{flag}={path}",
    )  # fmt: skip
    assert done.returncode == 78, done.stderr
    (line,) = done.stderr.splitlines()  # one line: no traceback, the graph never started
    if log_format == "json":
        record = json.loads(line)
        assert (record["level"], record["code"]) == ("error", "run.output-path")
        line = record["message"]
    assert f"{flag} {path}: " in line and problem in line
    assert not (tmp_path / "state").exists()
    assert (tmp_path / "a-file").read_text(encoding="utf-8") == "keep me\n"
    assert list((tmp_path / "a-directory").iterdir()) == []
