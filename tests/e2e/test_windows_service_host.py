"""The Windows service host's supervision, run for real on any OS with ``--foreground``.

Under the SCM (``windows-service run`` without ``--foreground``) the same supervisor runs;
there the exit decides what the SCM does (see ``schnitzel_stream.winservice``), which the
Windows lifecycle job proves. Here: the graceful stop reaches the runtime and its ``close()``
runs (events flushed, exit 0), an invalid graph is exit 78, a killed runtime is a crash, and
the service definition a root carries is checked value by value.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from schnitzel_stream.errors import DeploymentError
from schnitzel_stream.winservice._supervisor import classify
from schnitzel_stream.winservice.spec import load_spec
from tests.support.proc import CliProcess

ENDLESS = """\
version: 2
nodes:
  - {id: cam, kind: source, plugin: synthetic_camera, config: {frames: 0, realtime: true, fps: 15}}
  - {id: motion, kind: node, plugin: motion_detector, config: {}}
  - {id: events, kind: sink, plugin: jsonl_sink, config: {path: "${state}/events.jsonl"}}
edges:
  - {from: cam, to: motion}
  - {from: motion, to: events}
"""


def _host(tmp_path: Path, graph_text: str) -> CliProcess:
    graph = tmp_path / "graph.yaml"
    graph.write_text(graph_text, encoding="utf-8")
    state = tmp_path / "state"
    command = [
        sys.executable, "-m", "schnitzel_stream", "windows-service", "run", "--name", "edge-1",
        "--foreground", "--host-log", str(tmp_path / "host.log"), "--cwd", str(tmp_path), "--stop-timeout", "15",
        "--", "--scope", "portable", "--root", str(tmp_path), "--state-dir", str(state),
        "--graph", str(graph),
    ]  # fmt: skip
    return CliProcess(command, log_dir=tmp_path / "out")


def _runtime_pid(log: Path) -> int:
    match = re.search(r"started the runtime, pid (\d+)", log.read_text(encoding="utf-8"))
    assert match, log.read_text(encoding="utf-8")
    return int(match.group(1))


def _events(tmp_path: Path) -> int:
    path = tmp_path / "state" / "events.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.is_file() else 0


def test_a_stop_reaches_the_runtime_gracefully_and_the_host_exits_0(tmp_path: Path) -> None:
    with _host(tmp_path, ENDLESS) as host:
        host.wait_until(lambda: _events(tmp_path) > 0, timeout=60, what="motion events")
        runtime = _runtime_pid(tmp_path / "host.log")
        finished = host.stop(timeout=20)
    assert finished.returncode == 0, finished.describe()
    log = (tmp_path / "host.log").read_text(encoding="utf-8")
    assert f"sending the graceful stop to pid {runtime}" in log
    assert "runtime exited with code 0: stopped" in log
    assert "killed" not in log
    # The runtime's own graceful path ran: it logged its stop and its sink summary.
    assert _events(tmp_path) > 0
    if sys.platform != "win32":  # os.kill(pid, 0) would terminate a process on Windows
        with pytest.raises(ProcessLookupError):
            os.kill(runtime, 0)


def test_an_invalid_graph_is_exit_78_and_is_not_a_crash(tmp_path: Path) -> None:
    with _host(tmp_path, ENDLESS.replace("motion_detector", "motion_detektor")) as host:
        finished = host.wait(timeout=60)
    assert finished.returncode == 78, finished.describe()
    assert "runtime exited with code 78: invalid" in (tmp_path / "host.log").read_text(encoding="utf-8")


def test_a_killed_runtime_is_a_crash(tmp_path: Path) -> None:
    with _host(tmp_path, ENDLESS) as host:
        host.wait_until(lambda: _events(tmp_path) > 0, timeout=60, what="motion events")
        # SIGKILL on POSIX; TerminateProcess (exit code 15) on Windows.
        os.kill(_runtime_pid(tmp_path / "host.log"), getattr(signal, "SIGKILL", signal.SIGTERM))
        finished = host.wait(timeout=20)
    assert finished.returncode in (1, 15), finished.describe()
    assert re.search(
        r"runtime exited with code (-9|15): crashed", (tmp_path / "host.log").read_text(encoding="utf-8")
    )


def test_a_runtime_that_ignores_the_stop_is_killed_after_the_timeout(tmp_path: Path) -> None:
    deaf = tmp_path / "deaf.py"
    deaf.write_text(
        "import signal, time\n"
        "for name in ('SIGTERM', 'SIGBREAK'):\n"
        "    if hasattr(signal, name):\n"
        "        signal.signal(getattr(signal, name), signal.SIG_IGN)\n"
        "time.sleep(60)\n"
    )
    from schnitzel_stream.winservice._supervisor import Supervisor

    lines: list[str] = []
    supervisor = Supervisor([sys.executable, str(deaf)], log=lines.append, stop_timeout=1.0)
    supervisor.start()
    time.sleep(0.5)
    supervisor.request_stop()
    finished = supervisor.wait()
    assert finished.forced and finished.outcome == "stopped"
    assert any("did not stop within 1 s: killing it" in line for line in lines)


@pytest.mark.parametrize(
    ("returncode", "stop_requested", "outcome"),
    [
        pytest.param(0, True, "stopped", id="graceful-stop"),
        pytest.param(0, False, "stopped", id="graph-finished"),
        pytest.param(78, False, "invalid", id="invalid-graph"),
        pytest.param(78, True, "invalid", id="invalid-even-when-stopping"),
        pytest.param(1, False, "crashed", id="error"),
        pytest.param(-9, False, "crashed", id="killed"),
        pytest.param(3221225786, False, "crashed", id="windows-terminated"),
        pytest.param(137, True, "stopped", id="killed-after-stop"),
    ],
)
def test_exits_are_classified_as_a_service_manager_needs(
    returncode: int, stop_requested: bool, outcome: str
) -> None:
    assert classify(returncode, stop_requested) == outcome


def test_install_and_remove_need_windows(tmp_path: Path) -> None:
    spec = tmp_path / "svc.winsvc.json"
    spec.write_text(json.dumps(_spec()), encoding="utf-8")
    with CliProcess(
        [sys.executable, "-m", "schnitzel_stream", "windows-service", "install", str(spec)],
        log_dir=tmp_path / "o",
    ) as proc:
        finished = proc.wait(timeout=60)
    assert finished.returncode == 2
    assert "windows-service install needs Windows" in finished.stderr


def _spec(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "schnitzel-stream-edge-1",
        "display_name": "schnitzel-stream edge-1",
        "description": "schnitzel-stream deployment edge-1 (synthetic_demo)",
        "account": "NT AUTHORITY\\LocalService",
        "python": "C:\\Program Files\\SchnitzelStream\\edge-1\\venv\\Scripts\\python.exe",
        "arguments": ["--graph", "C:\\ProgramData\\SchnitzelStream\\edge-1\\config\\graph.yaml"],
        "working_directory": "C:\\ProgramData\\SchnitzelStream\\edge-1\\state",
        "log": "C:\\ProgramData\\SchnitzelStream\\edge-1\\logs\\service-host.log",
        "restart_delay_sec": 5,
        "stop_timeout_sec": 15,
        "start": "delayed-auto",
    }
    spec.update(changes)
    return spec


def test_a_valid_definition_gives_an_isolated_quoted_command_line(tmp_path: Path) -> None:
    path = tmp_path / "svc.winsvc.json"
    path.write_text(json.dumps(_spec()), encoding="utf-8")
    spec = load_spec(path)
    assert spec.image_path().startswith(
        '"C:\\Program Files\\SchnitzelStream\\edge-1\\venv\\Scripts\\python.exe" -I -m schnitzel_stream '
        "windows-service run --name schnitzel-stream-edge-1 "
    )
    assert spec.host_command()[-2:] == [
        "--graph",
        "C:\\ProgramData\\SchnitzelStream\\edge-1\\config\\graph.yaml",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"account": "LocalSystem"}, "is not one of", id="privileged-account"),
        pytest.param({"python": "python.exe"}, "not an absolute Windows path", id="relative-python"),
        pytest.param({"log": 'C:\\x" & calc.exe & "'}, "not an absolute Windows path", id="quote-in-path"),
        pytest.param(
            {"working_directory": "C:\\a\\..\\Windows"}, "not an absolute Windows path", id="dot-dot"
        ),
        pytest.param(
            {"arguments": ["--graph", "x\n--log-level=debug"]}, "control characters", id="newline-arg"
        ),
        pytest.param({"arguments": []}, "non-empty list", id="no-arguments"),
        pytest.param({"name": "a b"}, "is not a service name", id="space-in-name"),
        pytest.param({"display_name": "x\ty"}, "printable", id="tab-in-display-name"),
        pytest.param({"restart_delay_sec": 0}, "from 1 to 3600", id="zero-delay"),
        pytest.param({"restart_delay_sec": True}, "from 1 to 3600", id="bool-delay"),
        pytest.param({"start": "boot"}, "is not one of", id="boot-start"),
        pytest.param({"extra": 1}, "unknown key 'extra'", id="unknown-key"),
    ],
)
def test_a_hostile_or_broken_definition_is_refused_with_its_key(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = tmp_path / "svc.winsvc.json"
    path.write_text(json.dumps(_spec(**changes)), encoding="utf-8")
    with pytest.raises(DeploymentError) as caught:
        load_spec(path)
    assert message in str(caught.value)
    assert str(path) in caught.value.problems[0].one_line()
