"""The compatibility corpus (``compat_graphs/``): graphs in the design's format validate and run unchanged.

Every graph validates with the ``compat.*`` warnings its header lists, is refused by
``validate --strict``, and, unless its header says why it cannot, runs as a real subprocess
through the design's own command line forms (``python -m schnitzel_stream --graph G
--report-json`` with the bare flag, ``validate --graph G``), with its outputs checked.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from schnitzel_stream.cli.__main__ import main
from tests.support.http_backend import LocalBackend, running_backend

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "compat_graphs"
GRAPHS = sorted(CORPUS.glob("*.yaml"))
_SCRUB = ("SCHNITZEL_STREAM_PLUGIN_ALLOWLIST", "NO_COLOR", "FORCE_COLOR")


def _header(path: Path, field: str) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {field}: "):
            return line[len(f"# {field}: ") :]
    raise AssertionError(f"{path.name} has no '# {field}:' line")


def test_the_corpus_covers_every_form_the_issue_names() -> None:
    warned = {code for path in GRAPHS for code in _header(path, "warn").split()}
    assert warned >= {
        "compat.no-version",
        "compat.version",
        "compat.node-id",
        "compat.no-kind",
        "compat.edge-port",
        "compat.plugin-path",
        "compat.oc-env",
    }
    texts = "\n".join(p.read_text(encoding="utf-8") for p in GRAPHS)
    for form in (
        "nodes.file_sink:JsonlSink",
        "body: payload",
        "flush: false",
        "packs.vision.nodes",
        "limit: ${oc",
    ):
        assert form in texts, form


@pytest.mark.parametrize("graph", [pytest.param(p, id=p.stem) for p in GRAPHS])
def test_valid_with_the_listed_warnings_and_refused_under_strict(
    graph: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)
    assert main(["validate", "--format", "json", str(graph)]) == 0
    report = json.loads(capsys.readouterr().out)
    problems = report["files"][0]["problems"]
    assert {p["severity"] for p in problems} == {"warning"}
    assert {p["code"] for p in problems} == set(_header(graph, "warn").split())
    assert all(p["line"] for p in problems), problems
    assert main(["validate", "--strict", str(graph)]) == 1
    out = capsys.readouterr().out
    assert "0 warnings" in out and "1 invalid" in out


def _python(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if key not in _SCRUB}
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "NO_COLOR": "1", **env},
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def backend() -> Iterator[LocalBackend]:
    with running_backend(keep_bodies=True) as server:
        yield server


@pytest.fixture
def compat_env(tmp_path: Path, backend: LocalBackend) -> dict[str, str]:
    import cv2
    import numpy as np

    out = tmp_path / "out"
    out.mkdir()
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (64, 48))
    for i in range(8):
        writer.write(np.full((48, 64, 3), i * 20, dtype=np.uint8))
    writer.release()
    return {
        "COMPAT_OUT": str(out),
        "COMPAT_BACKEND_URL": backend.url,
        "COMPAT_VIDEO": str(video),
        "COMPAT_LIMIT": "2",
        "COMPAT_REPEAT": "2",
        "SCHNITZEL_STREAM_STATE_DIR": str(tmp_path / "state"),
        "SCHNITZEL_STREAM_LOGS_DIR": str(tmp_path / "logs"),
        "SCHNITZEL_STREAM_CONFIG_DIR": str(tmp_path / "config"),
    }


def _run(name: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run a corpus graph as the design does: ``--graph G --max-events N --report-json``."""
    graph = CORPUS / f"{name}.yaml"
    header = _header(graph, "run")
    assert not header.startswith("no:"), header
    events = re.match(r"--max-events (\d+)", header)
    assert events is not None, header
    result = _python(
        "--graph", str(graph), "--max-events", events.group(1), "--report-json", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def _report(env: dict[str, str]) -> dict[str, object]:
    # The bare --report-json writes ${logs}/run-report.json.
    report: dict[str, object] = json.loads(
        Path(env["SCHNITZEL_STREAM_LOGS_DIR"], "run-report.json").read_text()
    )
    return report


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_graph_that_can_run_here_is_run_below() -> None:
    runnable = {p.stem for p in GRAPHS if not _header(p, "run").startswith("no:")}
    ran_here = {
        "inproc_print",
        "jsonl_body_flush",
        "shapes_node_id_kind_ports",
        "durable_enqueue",
        "durable_drain_ack_typed",
        "http_event_sink",
        "vision_video_file",
    }
    assert runnable == ran_here
    assert {p.stem for p in GRAPHS} - runnable == {"vision_rtsp_camera"}  # tests/integration runs it


def test_static_source_into_print_sink(compat_env: dict[str, str], tmp_path: Path) -> None:
    result = _run("inproc_print", compat_env, tmp_path)
    printed = [line for line in result.stdout.splitlines() if line.startswith("YARD ")]
    assert [json.loads(line[5:])["payload"]["message"] for line in printed] == ["first", "second"]
    assert _report(compat_env)["reason"] in ("completed", "max_events")


def test_jsonl_sink_body_and_flush(compat_env: dict[str, str], tmp_path: Path) -> None:
    _run("jsonl_body_flush", compat_env, tmp_path)
    out = Path(compat_env["COMPAT_OUT"])
    assert _lines(out / "payloads.jsonl") == [
        {"event_id": "g-1", "level": 3},
        {"event_id": "g-2", "level": 4},
        {"event_id": "g-3", "level": 5},
    ]
    packets = _lines(out / "packets.jsonl")
    assert [p["payload"] for p in packets] == _lines(out / "payloads.jsonl")
    assert {p["source_id"] for p in packets} == {"gate7"} and all("packet_id" in p for p in packets)


def test_legacy_shapes_run(compat_env: dict[str, str], tmp_path: Path) -> None:
    _run("shapes_node_id_kind_ports", compat_env, tmp_path)
    written = _lines(Path(compat_env["COMPAT_OUT"]) / "shapes.jsonl")
    assert [w["payload"] for w in written] == [{"n": 1}, {"n": 2}]


def test_durable_enqueue_then_drain_and_ack_with_a_typed_limit(
    compat_env: dict[str, str], tmp_path: Path
) -> None:
    _run("durable_enqueue", compat_env, tmp_path)
    queue = Path(compat_env["COMPAT_OUT"]) / "queue.sqlite3"
    drained = _run("durable_drain_ack_typed", compat_env, tmp_path)
    printed = [json.loads(line[6:]) for line in drained.stdout.splitlines() if line.startswith("DRAIN ")]
    assert sorted(p["payload"]["parcel"] for p in printed) == ["p-1", "p-2", "p-3"]
    # Acknowledged: a second drain finds nothing left.
    again = _python(
        "--graph",
        str(CORPUS / "durable_drain_ack_typed.yaml"),
        "--duration",
        "3",
        env=compat_env,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "DRAIN " not in again.stdout
    with sqlite3.connect(queue) as db:
        tables = [row[0] for row in db.execute("select name from sqlite_master where type='table'")]
    assert tables  # the queue file is a real SQLite database


def test_http_sink_with_the_designs_keys(
    compat_env: dict[str, str], tmp_path: Path, backend: LocalBackend
) -> None:
    _run("http_event_sink", compat_env, tmp_path)
    records = [record for record in backend.records() if record.accepted]
    assert len(records) == 2  # repeat: ${oc.env:COMPAT_REPEAT,1} read as the integer 2
    assert all(record.method == "POST" and record.body["event_id"] == "pier4-1" for record in records)


def test_vision_pack_video_file_source(compat_env: dict[str, str], tmp_path: Path) -> None:
    result = _run("vision_video_file", compat_env, tmp_path)
    frames = [line for line in result.stdout.splitlines() if line.startswith("FRAME ")]
    assert len(frames) == 4
    assert json.loads(frames[0][6:])["kind"] == "frame"


def test_the_designs_validate_form(compat_env: dict[str, str], tmp_path: Path) -> None:
    graph = CORPUS / "inproc_print.yaml"
    result = _python("validate", "--graph", str(graph), env=compat_env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{graph}: valid (1 warning)" in result.stdout
    strict = _python("validate", "--strict", "--graph", str(graph), env=compat_env, cwd=tmp_path)
    assert strict.returncode == 1
    assert "[compat.no-version]" in strict.stdout


def test_a_graph_taken_as_the_report_path_is_a_usage_error(
    compat_env: dict[str, str], tmp_path: Path
) -> None:
    graph = CORPUS / "inproc_print.yaml"
    result = _python("run", "--report-json", str(graph), env=compat_env, cwd=tmp_path)
    assert result.returncode == 2
    assert "--report-json took" in result.stderr and "Traceback" not in result.stderr
    explicit = _python(
        "run", str(graph), f"--report-json={tmp_path / 'r.json'}", env=compat_env, cwd=tmp_path
    )
    assert explicit.returncode == 0 and json.loads((tmp_path / "r.json").read_text())["nodes"]
