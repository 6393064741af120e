"""``schnitzel-stream test --deployment ROOT``: a root's own graph tests, with its own env file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schnitzel_stream.cli.__main__ import main
from tests.e2e.test_test_cli import REPO

SMOKE = """\
version: 1
graph: ../config/graph.yaml
cases:
  - name: smoke
    replace:
      cam: {plugin: synthetic_camera, config: {frames: 30, realtime: false, source_id: "${CAMERA_NAME}"}}
    capture: [events]
    expect:
      events:
        count: {min: 1}
        all: {kind: event, source_id: "gate-7"}
    timeout_sec: 60
"""


def make_root(tmp_path: Path, env: str = "CAMERA_NAME=gate-7\n") -> Path:
    root = tmp_path / "root"
    (root / "config").mkdir(parents=True)
    (root / "tests").mkdir()
    graph = (REPO / "ops" / "graphs" / "synthetic_camera.yaml").read_text(encoding="utf-8")
    # Only the env file says what the camera is called: ${CAMERA_NAME} has no default.
    graph = graph.replace("      seed: 0\n", "      seed: 0\n      source_id: ${CAMERA_NAME}\n")
    (root / "config" / "graph.yaml").write_text(graph, encoding="utf-8")
    (root / "config" / "schnitzel-stream.env").write_text(env, encoding="utf-8")
    (root / "tests" / "smoke.test.yaml").write_text(SMOKE, encoding="utf-8")
    return root


def test_a_roots_tests_run_with_its_env_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAMERA_NAME", raising=False)
    root = make_root(tmp_path)
    assert main(["test", "--deployment", str(root)]) == 0
    out, _ = capsys.readouterr()
    assert "PASS   smoke" in out and out.rstrip().endswith(
        "1 test file, 1 case: 1 passed, 0 failed, 0 errors"
    )
    # The same test without the root's env file cannot resolve ${CAMERA_NAME}.
    assert main(["test", str(root / "tests")]) == 1
    out, _ = capsys.readouterr()
    assert "environment variable 'CAMERA_NAME' is not set" in out
    assert not (root / "state").exists()  # the cases ran in their own temporary directories


def test_a_roots_tests_may_not_reach_outside_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    shutil.copy(root / "config" / "graph.yaml", tmp_path / "elsewhere.yaml")
    (root / "tests" / "smoke.test.yaml").write_text(
        SMOKE.replace("../config/graph.yaml", "../../elsewhere.yaml")
    )
    assert main(["test", "--deployment", str(root)]) == 1
    out, _ = capsys.readouterr()
    assert "graph: '../../elsewhere.yaml' is outside the deployment root" in out
    assert "[test.graph-path]" in out


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param("no-root", "no such deployment root", id="no-root"),
        pytest.param("no-env-file", "the root has no env file", id="no-env-file"),
        pytest.param("bad-env-file", "schnitzel-stream.env", id="malformed-env-file"),
        pytest.param("no-tests", "the directory holds no *.test.yaml", id="no-tests"),
    ],
)
def test_a_broken_root_is_reported_with_exit_1(
    setup: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_root(
        tmp_path,
        env="CAMERA_NAME=gate-7\nnot an assignment\n" if setup == "bad-env-file" else "CAMERA_NAME=x\n",
    )
    if setup == "no-root":
        root = tmp_path / "absent"
    elif setup == "no-env-file":
        (root / "config" / "schnitzel-stream.env").unlink()
    elif setup == "no-tests":
        (root / "tests" / "smoke.test.yaml").unlink()
    assert main(["test", "--deployment", str(root)]) == 1
    out, err = capsys.readouterr()
    assert message in out + err
    assert "Traceback" not in out + err


def test_paths_and_a_deployment_together_are_a_usage_error(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    assert main(["test", str(root / "tests"), "--deployment", str(root)]) == 2
