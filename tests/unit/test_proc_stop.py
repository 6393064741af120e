"""The graceful stop per OS (tests/support/proc.py), by parameter and on this machine for real.

The e2e tests and the CI service smoke test stop children through this helper, so its OS
branches must agree with what the runtime listens for (runtime/signals.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from schnitzel_stream.paths import OsName
from schnitzel_stream.runtime.signals import stop_signals
from tests.support.proc import CREATE_NEW_PROCESS_GROUP, CliProcess, launch_plan, stop_exit_code

#: sys.platform as each OS reports it.
_PLATFORM: dict[OsName, str] = {"linux": "linux", "macos": "darwin", "windows": "win32"}
_SIGNAL_NAME = {"sigterm": "SIGTERM", "ctrl_break": "SIGBREAK"}

#: A child that installs a handler for the stop signal of its OS, says so, and exits 0 on it
#: (or, with "ignore", ignores the signal and never exits by itself).
_CHILD = """\
import signal, sys, time
name = "SIGBREAK" if sys.platform == "win32" else "SIGTERM"
stopped = []
if sys.argv[1] == "ignore":
    signal.signal(getattr(signal, name), signal.SIG_IGN)
else:
    signal.signal(getattr(signal, name), lambda *_: stopped.append(name))
print("ready", file=sys.stderr, flush=True)
deadline = time.monotonic() + 60
while not stopped and time.monotonic() < deadline:
    time.sleep(0.02)
print("stopped by", stopped, file=sys.stderr, flush=True)
"""


@pytest.mark.parametrize(
    ("os_name", "creationflags", "stop", "second_signal_exit"),
    [
        pytest.param("linux", 0, "sigterm", 128 + 15, id="linux"),
        pytest.param("macos", 0, "sigterm", 128 + 15, id="macos"),
        pytest.param("windows", CREATE_NEW_PROCESS_GROUP, "ctrl_break", 128 + 21, id="windows"),
    ],
)
def test_launch_plan_per_os(os_name: OsName, creationflags: int, stop: str, second_signal_exit: int) -> None:
    plan = launch_plan(os_name)
    assert (plan.creationflags, plan.stop) == (creationflags, stop)
    assert stop_exit_code(os_name) == second_signal_exit


@pytest.mark.parametrize("os_name", [pytest.param(name, id=name) for name in _PLATFORM])
def test_the_stop_the_helper_sends_is_one_the_runtime_handles(os_name: OsName) -> None:
    assert _SIGNAL_NAME[launch_plan(os_name).stop] in stop_signals(_PLATFORM[os_name])


def _child(tmp_path: Path, mode: str) -> CliProcess:
    return CliProcess([sys.executable, "-c", _CHILD, mode], log_dir=tmp_path / "proc")


def test_a_child_that_handles_the_stop_exits_zero_on_this_os(tmp_path: Path) -> None:
    with _child(tmp_path, "handle") as proc:
        proc.wait_for_stderr("ready")
        assert proc.runs_for(0.2)
        finished = proc.stop()
    assert finished.returncode == 0, finished.describe()
    assert "stopped by ['SIG" in finished.stderr


def test_a_child_that_ignores_the_stop_is_killed_and_fails_the_test(tmp_path: Path) -> None:
    with _child(tmp_path, "ignore") as proc:
        proc.wait_for_stderr("ready")
        with pytest.raises(AssertionError, match=r"still running after 0\.5s"):
            proc.stop(timeout=0.5)
        assert not proc.running()


def test_waiting_fails_at_once_with_the_output_when_the_child_exits_early(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('bad config', file=sys.stderr); sys.exit(78)"]
    with CliProcess(command, log_dir=tmp_path) as proc, pytest.raises(AssertionError) as failure:
        proc.wait_for_stderr("never printed", timeout=30)
    assert "exit 78" in str(failure.value) and "bad config" in str(failure.value)


def test_env_adds_and_removes_variables(tmp_path: Path) -> None:
    code = "import os; print(os.environ.get('ADDED'), os.environ.get('PYTHONPATH'))"
    env: dict[str, str | None] = {"ADDED": "yes", "PYTHONPATH": None}
    with CliProcess([sys.executable, "-c", code], log_dir=tmp_path, env=env) as proc:
        finished = proc.wait(30)
    assert finished.stdout.split() == ["yes", "None"]


#: A child that starts a grandchild in a session (POSIX) or process group (Windows) of its own,
#: as the service host starts the runtime, and prints the grandchild's pid.
_PARENT = """\
import subprocess, sys, time
kwargs = {"creationflags": 0x200} if sys.platform == "win32" else {"start_new_session": True}
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], **kwargs)
print(grandchild.pid, file=sys.stderr, flush=True)
time.sleep(120)
"""


def _runs(pid: int) -> bool:
    if sys.platform == "win32":
        listed = subprocess.run(
            ["tasklist", "/FI", f"PID eq {pid}", "/NH"], capture_output=True, text=True, check=False
        ).stdout
        return str(pid) in listed.split()
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return bool(state.stdout.strip()) and not state.stdout.strip().startswith("Z")


def test_closing_kills_what_the_child_started_in_a_session_of_its_own(tmp_path: Path) -> None:
    with CliProcess([sys.executable, "-c", _PARENT], log_dir=tmp_path) as proc:
        proc.wait_until(lambda: proc.stderr().strip().isdigit(), timeout=30, what="the grandchild's pid")
        grandchild = int(proc.stderr())
        assert _runs(grandchild)
    deadline = time.monotonic() + 10
    while _runs(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _runs(grandchild)
