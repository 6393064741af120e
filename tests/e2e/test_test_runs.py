"""``schnitzel-stream test`` running real graphs: verdicts, timeouts, failures, isolation, formats.

Every case here runs a real graph through the real engine with real nodes (synthetic camera,
motion detector, JSONL and HTTP sinks, the SQLite queue, a real HTTP backend on loopback);
only the captured nodes are stand-ins, which is the feature under test.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from schnitzel_stream.cli.__main__ import main
from tests.e2e.test_test_cli import REPO
from tests.support.corpus import cli
from tests.support.http_backend import running_backend

GRAPH = """\
version: 2
nodes:
  - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {n: 1}}], repeat: 3}}
  - {id: relay, kind: node, plugin: identity, config: {}}
  - {id: out, kind: sink, plugin: jsonl_sink, config: {path: "${state}/out.jsonl"}}
edges:
  - {from: src, to: relay}
  - {from: relay, to: out}
"""
CAMERA = "{plugin: synthetic_camera, config: {width: 640, height: 360, frames: 60, realtime: false}}"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def graph_test(directory: Path, cases: str) -> Path:
    """``GRAPH`` as ``g.yaml`` and a test file for it with these ``cases:`` (YAML, dedented)."""
    write(directory, "g.yaml", GRAPH)
    body = textwrap.indent(textwrap.dedent(cases), "  ")
    return write(directory, "t.test.yaml", f"version: 1\ngraph: g.yaml\ncases:\n{body}")


def run_json(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["test", *args, "--format", "json"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)


def case_of(report: dict[str, object], index: int = 0, file: int = 0) -> dict[str, object]:
    files = report["files"]
    assert isinstance(files, list)
    cases = files[file]["cases"]
    assert isinstance(cases, list)
    found = cases[index]
    assert isinstance(found, dict)
    return found


def test_a_failing_case_names_file_case_expectation_and_what_was_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = graph_test(
        tmp_path,
        """\
        - name: only frames arrive
          inputs:
            src: [{kind: event, payload: {n: 1}}, {kind: event, payload: {n: 2, deep: {x: 1}}}]
          capture: [out]
          expect:
            out:
              all: {payload: {deep: {x: 1}}}
        """,
    )
    code = main(["test", str(test)])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"{test}\n  FAIL " in out and "only frames arrive" in out
    expected = (
        f"{test}:10:14: error: cases[0].expect.out.all: case 'only frames arrive': packet #1 "
        "(kind 'event', source_id 'src') does not match 'all': payload.deep is missing [expect.all]"
    )
    assert expected in out
    assert "  10 |         all: {payload: {deep: {x: 1}}}" in out
    assert out.rstrip().endswith("1 test file, 1 case: 0 passed, 1 failed, 0 errors")
    assert "Traceback" not in out + err


def test_each_expectation_kind_passes_and_fails_on_a_real_camera_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        "cam.yaml",
        """\
        version: 2
        nodes:
          - {id: cam, kind: source, plugin: synthetic_camera, config: {width: 640, height: 360, fps: 15}}
          - {id: motion, kind: node, plugin: motion_detector, config: {}}
          - {id: out, kind: sink, plugin: jsonl_sink, config: {path: "${state}/events.jsonl"}}
        edges:
          - {from: cam, to: motion}
          - {from: motion, to: out}
        """,
    )
    (tmp_path / "strict.json").write_text(json.dumps({"type": "object", "required": ["nope"]}))
    schema = REPO / "schemas" / "event.schema.json"
    test = write(
        tmp_path,
        "t.test.yaml",
        f"""\
        version: 1
        graph: cam.yaml
        cases:
          - name: passes
            replace: {{cam: {CAMERA}}}
            capture: [out]
            expect:
              out:
                count: {{min: 1, max: 1000}}
                schema: {schema.as_posix()}
                all: {{kind: event}}
                any: {{payload: {{event_type: motion}}}}
                none: {{payload: {{event_type: error}}}}
          - name: count
            replace: {{cam: {CAMERA}}}
            capture: [out]
            expect: {{out: {{count: 100000}}}}
          - name: schema
            replace: {{cam: {CAMERA}}}
            capture: [out]
            expect: {{out: {{schema: strict.json}}}}
          - name: any
            replace: {{cam: {CAMERA}}}
            capture: [out]
            expect: {{out: {{any: {{payload: {{event_type: fire}}}}}}}}
          - name: none
            replace: {{cam: {CAMERA}}}
            capture: [out]
            expect: {{out: {{none: {{kind: event}}}}}}
        """,
    )
    code, report = run_json(str(test), capsys=capsys)
    assert code == 1
    statuses = {case_of(report, i)["name"]: case_of(report, i)["status"] for i in range(5)}
    assert statuses == {
        "passes": "passed",
        "count": "failed",
        "schema": "failed",
        "any": "failed",
        "none": "failed",
    }
    messages = {case_of(report, i)["name"]: case_of(report, i)["problems"][0]["message"] for i in range(1, 5)}  # type: ignore[index]
    assert "expected exactly 100000 packets at 'out'; saw 58" in messages["count"]
    assert "does not match " in messages["schema"] and "strict.json: payload: " in messages["schema"]
    assert "nope" in messages["schema"] and "is a required property" in messages["schema"]
    assert (
        "matches 'any'; the first differs at payload.event_type: expected 'fire', got 'motion'"
        in messages["any"]
    )
    assert "packet #1 (kind 'event', source_id 'cam') matches 'none'" in messages["none"]
    captured = case_of(report, 0)["captured"]
    assert isinstance(captured, dict) and captured["out"] >= 1


def test_a_timeout_fires_on_a_graph_that_never_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = graph_test(
        tmp_path,
        """\
        - name: endless
          replace:
            src: {plugin: static_source, config: {packets: [{kind: event}], repeat: 0, interval: 0.01}}
          capture: [out]
          expect: {out: {count: {min: 1}}}
          timeout_sec: 0.5
        """,
    )
    code, report = run_json(str(test), capsys=capsys)
    assert code == 0
    case = case_of(report)
    assert (case["status"], case["ended"]) == ("passed", "timeout")


def test_a_flood_is_decided_by_the_first_packet_too_many(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An endless, unpaced source and a small upper bound: the case stops at packet 11, not at the timeout."""
    test = graph_test(
        tmp_path,
        """\
        - name: flood
          replace:
            src: {plugin: static_source, config: {packets: [{kind: event}], repeat: 0}}
          capture: [out]
          expect: {out: {count: {max: 10}}}
          timeout_sec: 600
        """,
    )
    code, report = run_json(str(test), capsys=capsys)
    assert code == 1
    case = case_of(report)
    assert (case["status"], case["ended"]) == ("failed", "decided")
    problems = case["problems"]
    assert isinstance(problems, list) and len(problems) == 1
    assert (
        problems[0]["message"]
        == "case 'flood': expected at most 10 packets at 'out'; the graph was stopped at packet #11"
    )
    assert case["captured"] == {"out": 11}


CAMERA_GRAPH = """\
version: 2
nodes:
  - {id: cam, kind: source, plugin: synthetic_camera, config: {frames: 3, realtime: false}}
  - {id: motion, kind: node, plugin: motion_detector, config: {}}
  - {id: out, kind: sink, plugin: jsonl_sink, config: {path: "${state}/events.jsonl"}}
edges:
  - {from: cam, to: motion}
  - {from: motion, to: out}
"""
#: An allowlisted third-party node whose constructor fails: the only way left for a node that
#: validated to fail before the graph runs (paths that cannot be created are caught statically).
BROKEN_PLUGIN = """\
from schnitzel_stream.nodes.base import Node


class Broken(Node):
    def __init__(self, *, node_id, config=None):
        raise RuntimeError("the device is gone")
"""


def test_a_node_that_fails_makes_the_case_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "cam.yaml", CAMERA_GRAPH)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "graphtest_broken_nodes.py").write_text(BROKEN_PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    test = write(
        tmp_path,
        "t.test.yaml",
        """\
        version: 1
        graph: cam.yaml
        env: {SCHNITZEL_STREAM_PLUGIN_ALLOWLIST: graphtest_broken_nodes}
        cases:
          - name: events into the detector
            inputs: {cam: [{kind: event, payload: {x: 1}}]}
            capture: [out]
          - name: a sink that cannot start
            replace:
              out: {plugin: "graphtest_broken_nodes:Broken"}
        """,
    )
    code, report = run_json(str(test), capsys=capsys)
    assert code == 1
    failed, not_started = case_of(report, 0), case_of(report, 1)
    assert (failed["status"], failed["ended"]) == ("error", "failed")
    assert (
        "case 'events into the detector': the graph failed: node 'motion' (motion_detector) needs frames"
        in (
            failed["problems"][0]["message"]  # type: ignore[index]
        )
    )
    assert (not_started["status"], not_started["ended"]) == ("error", "not-started")
    message = not_started["problems"][0]["message"]  # type: ignore[index]
    assert "the graph could not start: node 'out'" in message and "the device is gone" in message


def test_a_replacement_whose_path_cannot_be_created_is_reported_in_the_test_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "cam.yaml", CAMERA_GRAPH)
    (tmp_path / "a-file").write_text("not a directory")
    target = (tmp_path / "a-file" / "q.sqlite3").as_posix()
    test = write(
        tmp_path,
        "t.test.yaml",
        f"version: 1\ngraph: cam.yaml\ncases:\n  - name: a\n    replace:\n"
        f'      out: {{plugin: sqlite_queue_sink, config: {{path: "{target}"}}}}\n',
    )
    assert main(["test", str(test)]) == 1
    out, _ = capsys.readouterr()
    assert f"{test}:6:" in out and "cases[0].replace.out.config.path: " in out
    assert "invalid test file, no case ran" in out


def test_the_network_is_reached_only_by_a_node_the_test_keeps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """env supplies ${BACKEND_URL}; a kept http_sink posts to the backend, a captured one never does."""
    write(
        tmp_path,
        "http.yaml",
        """\
        version: 2
        nodes:
          - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {n: 1}}], repeat: 4}}
          - {id: backend, kind: sink, plugin: http_sink, config: {url: "${BACKEND_URL}", batch_max: 1}}
        edges:
          - {from: src, to: backend}
        """,
    )
    with running_backend() as backend:
        for name, capture in (("kept", "[]"), ("captured", "[backend]")):
            test = write(
                tmp_path,
                f"{name}.test.yaml",
                f"""\
                version: 1
                graph: http.yaml
                env: {{BACKEND_URL: "{backend.url}"}}
                cases: [{{name: {name}, capture: {capture}}}]
                """,
            )
            before = backend.stats()["requests"]
            code, report = run_json(str(test), capsys=capsys)
            assert code == 0, report
            sent = backend.stats()["requests"] - before
            assert (sent > 0) if name == "kept" else (sent == 0), (name, sent)


def test_cases_never_touch_the_real_directories_and_clean_up(tmp_path: Path) -> None:
    real = {
        name: tmp_path / f"real-{name}" for name in ("config", "state", "logs", "xdg-state", "xdg-config")
    }
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        "SCHNITZEL_STREAM_CONFIG_DIR": str(real["config"]),
        "SCHNITZEL_STREAM_STATE_DIR": str(real["state"]),
        "SCHNITZEL_STREAM_LOGS_DIR": str(real["logs"]),
        "XDG_STATE_HOME": str(real["xdg-state"]),
        "XDG_CONFIG_HOME": str(real["xdg-config"]),
        "TMPDIR": str(scratch),
        "TEMP": str(scratch),
        "TMP": str(scratch),
    }
    result = cli("test", "ops/graphs/tests/synthetic_camera.test.yaml", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [path for path in real.values() if path.exists()] == []
    assert list(scratch.iterdir()) == []  # every case's temporary directory is gone


def test_a_kept_node_that_would_write_into_the_real_state_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_state = tmp_path / "real-state"
    monkeypatch.setenv("SCHNITZEL_STREAM_STATE_DIR", str(real_state))
    write(tmp_path, "g.yaml", GRAPH.replace("${state}/out.jsonl", "${SCHNITZEL_STREAM_STATE_DIR}/out.jsonl"))
    test = write(tmp_path, "t.test.yaml", "version: 1\ngraph: g.yaml\ncases: [{name: a}]\n")
    code = main(["test", str(test)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "[test.real-path]" in out and "g.yaml:5:" in out
    assert not real_state.exists()
    # Captured, the same node runs nowhere, so the test may go ahead.
    write(tmp_path, "t.test.yaml", "version: 1\ngraph: g.yaml\ncases: [{name: a, capture: [out]}]\n")
    assert main(["test", str(test)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("forward", "reaches_ack"), [("true", 2), ("false", 0)])
def test_a_captured_sink_passes_packets_on_exactly_when_its_forward_setting_says(
    forward: str, reaches_ack: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        "g.yaml",
        f"""\
        version: 2
        nodes:
          - {{id: src, kind: source, plugin: static_source, config: {{packets: [{{kind: event}}], repeat: 2}}}}
          - {{id: backend, kind: node, plugin: http_sink, config: {{url: "http://127.0.0.1:9/", forward: {forward}}}}}
          - {{id: ack, kind: sink, plugin: print_sink, config: {{}}}}
        edges:
          - {{from: src, to: backend}}
          - {{from: backend, to: ack}}
        """,
    )
    expect = f"{{backend: {{count: 2}}, ack: {{count: {reaches_ack}}}}}"
    cases = f"[{{name: a, capture: [backend, ack], expect: {expect}}}]"
    test = write(tmp_path, "t.test.yaml", f"version: 1\ngraph: g.yaml\ncases: {cases}\n")
    assert main(["test", str(test)]) == 0, capsys.readouterr().out
    capsys.readouterr()
