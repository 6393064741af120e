"""The service host's supervision (launchd, Windows SCM), run for real here in a console.

Under the SCM (``service run --scm``) and under launchd the same supervisor runs; there the
exit decides what the manager does (see ``schnitzel_stream.service``), which the macOS and
Windows lifecycle jobs prove. Here: the graceful stop reaches the runtime and its ``close()``
runs (events flushed, exit 0), an invalid graph is exit 78, a killed runtime is a crash, and
the service definition a root carries is checked value by value.
"""

from __future__ import annotations

import contextlib
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

from schnitzel_stream.errors import DeploymentError
from schnitzel_stream.service._supervisor import classify
from schnitzel_stream.service.windows_spec import load_spec
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


def _host(tmp_path: Path, graph_text: str, *options: str) -> CliProcess:
    graph = tmp_path / "graph.yaml"
    graph.write_text(graph_text, encoding="utf-8")
    state = tmp_path / "state"
    command = [
        sys.executable, "-m", "schnitzel_stream", "service", "run", "--name", "edge-1",
        "--host-log", str(tmp_path / "host.log"), "--cwd", str(tmp_path), "--stop-timeout", "15",
        "--pid-file", str(tmp_path / "runtime.pid"), *options, "--", "--scope", "portable", "--root", str(tmp_path), "--state-dir", str(state),
        "--graph", str(graph),
    ]  # fmt: skip
    return CliProcess(command, log_dir=tmp_path / "out")


def _runtime_pid(log: Path) -> int:
    match = re.search(r"started the runtime, pid (\d+)", log.read_text(encoding="utf-8"))
    assert match, log.read_text(encoding="utf-8")
    return int(match.group(1))


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie (an orphan's exit may wait for a reaper)."""
    done = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False)
    state = done.stdout.strip()
    return bool(state) and not state.startswith("Z")


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
    if sys.platform != "win32":  # ps is POSIX
        assert not _alive(runtime)


@pytest.mark.parametrize(
    ("options", "code"),
    [pytest.param((), 78, id="console"), pytest.param(("--exit-0-when-invalid",), 0, id="launchd")],
)
def test_an_invalid_graph_is_not_a_crash(tmp_path: Path, options: tuple[str, ...], code: int) -> None:
    with _host(tmp_path, ENDLESS.replace("motion_detector", "motion_detektor"), *options) as host:
        finished = host.wait(timeout=60)
    assert finished.returncode == code, finished.describe()
    log = (tmp_path / "host.log").read_text(encoding="utf-8")
    assert "runtime exited with code 78: invalid" in log
    assert "edge-1: the graph is invalid (exit 78); fix it and start the service again" in log


def test_a_killed_runtime_is_a_crash(tmp_path: Path) -> None:
    with _host(tmp_path, ENDLESS) as host:
        host.wait_until(lambda: _events(tmp_path) > 0, timeout=60, what="motion events")
        # SIGKILL on POSIX; TerminateProcess (exit code 15) on Windows.
        os.kill(_runtime_pid(tmp_path / "host.log"), getattr(signal, "SIGKILL", signal.SIGTERM))
        finished = host.wait(timeout=20)
    # A non-zero exit: launchd's KeepAlive restarts it.
    assert finished.returncode in (1, 15), finished.describe()
    assert not (tmp_path / "runtime.pid").exists()
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
    from schnitzel_stream.service._supervisor import Supervisor

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


def _service(tmp_path: Path, *args: str) -> tuple[int, str]:
    command = [sys.executable, "-m", "schnitzel_stream", "service", *args]
    with CliProcess(command, log_dir=tmp_path / "o") as proc:
        finished = proc.wait(timeout=60)
    return finished.returncode, finished.stderr


def test_install_checks_the_definition_first_and_needs_windows(tmp_path: Path) -> None:
    broken = tmp_path / "broken.winsvc.json"
    broken.write_text(json.dumps(_spec(account="LocalSystem")), encoding="utf-8")
    code, stderr = _service(tmp_path, "install", str(broken))
    assert code == 1
    assert f"{broken}: account: 'LocalSystem' is not one of" in stderr
    if sys.platform != "win32":  # on Windows a valid definition really installs (the lifecycle job)
        valid = tmp_path / "svc.winsvc.json"
        valid.write_text(json.dumps(_spec()), encoding="utf-8")
        for action in ("install", "remove"):
            code, stderr = _service(tmp_path, action, str(valid))
            assert code == 2
            assert f"service {action} needs Windows" in stderr
        code, stderr = _service(tmp_path, "run", "--scm", "--name", "x", "--", "--graph", "g.yaml")
        assert code == 2
        assert "service run --scm needs Windows" in stderr


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
        "service run --scm --name schnitzel-stream-edge-1 "
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


def test_a_runtime_left_by_a_killed_host_is_stopped_before_a_new_one_starts(tmp_path: Path) -> None:
    with _host(tmp_path, ENDLESS) as host:
        host.wait_until(lambda: _events(tmp_path) > 0, timeout=60, what="motion events")
        orphan = _runtime_pid(tmp_path / "host.log")
        host.kill()  # the host dies at once; its runtime, in its own process group, lives on
    assert (tmp_path / "runtime.pid").read_text().strip() == str(orphan)
    (tmp_path / "host.log").write_text("", encoding="utf-8")
    try:
        with _host(tmp_path, ENDLESS) as host:
            host.wait_until(
                lambda: "started the runtime" in (tmp_path / "host.log").read_text(),
                timeout=60,
                what="a start",
            )
            log = (tmp_path / "host.log").read_text(encoding="utf-8")
            if sys.platform == "win32":
                # Under the SCM a job object ends the runtime with its host; no pid is ever signalled.
                assert "from before" not in log
            else:
                assert f"a runtime from before (pid {orphan}) still runs: stopping it first" in log
                assert not _alive(orphan)
            assert host.stop(timeout=20).returncode == 0
    finally:
        # The second host stops it; when the test failed before that, the orphan goes here.
        with contextlib.suppress(OSError):
            os.kill(orphan, getattr(signal, "SIGKILL", signal.SIGTERM))  # TerminateProcess on Windows
