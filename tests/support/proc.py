"""Long-running CLI subprocesses that tests start and then stop the way a service manager does.

A graceful stop is SIGTERM on POSIX. On Windows it is CTRL_BREAK: Windows has no SIGTERM
for another process (``Popen.terminate`` there is ``TerminateProcess``, a hard kill), and a
console control event goes to a whole process group. So the child starts in its own group
(``CREATE_NEW_PROCESS_GROUP``), whose id is the child's pid, and the break reaches only it,
never the test runner.

The OS is a parameter of :func:`launch_plan` and :func:`stop_exit_code`, so both branches
are unit-tested on any machine; :class:`CliProcess` uses the plan for the OS it runs on.

Output goes to files in ``log_dir`` rather than pipes: a chatty child can never fill a pipe
buffer and block while the test waits, and the files stay behind for a failed test's report.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Self

from schnitzel_stream.paths import OsName, current_os

StopMethod = Literal["sigterm", "ctrl_break"]

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Win32 ``CREATE_NEW_PROCESS_GROUP``; ``subprocess`` defines the name only on Windows.
CREATE_NEW_PROCESS_GROUP = 0x00000200
#: The stop signals' numbers (``signal.SIGBREAK`` exists only on Windows).
_SIGNUM: dict[StopMethod, int] = {"sigterm": 15, "ctrl_break": 21}
#: The default wait for a graceful stop: DESIGN.md promises exit within 5 s.
STOP_TIMEOUT = 5.0


def descendants(pid: int) -> list[int]:
    """The pids of every process below ``pid`` on POSIX (``ps``; other sessions included)."""
    done = subprocess.run(
        ["ps", "-A", "-o", "pid=,ppid="], capture_output=True, text=True, check=False, timeout=30
    )
    children: dict[int, list[int]] = {}
    for line in done.stdout.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(fields[0]))
    found: list[int] = []
    todo = [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += below
    return found


@dataclass(frozen=True, slots=True)
class LaunchPlan:
    """How to start a child so that it can be stopped gracefully on one OS."""

    creationflags: int
    stop: StopMethod


def launch_plan(os_name: OsName) -> LaunchPlan:
    """The start flags and the graceful stop for ``os_name``."""
    if os_name == "windows":
        return LaunchPlan(creationflags=CREATE_NEW_PROCESS_GROUP, stop="ctrl_break")
    return LaunchPlan(creationflags=0, stop="sigterm")


def stop_exit_code(os_name: OsName | None = None) -> int:
    """The exit code after a *second* stop signal: ``128 + signum`` (see runtime/signals.py)."""
    return 128 + _SIGNUM[launch_plan(os_name or current_os()).stop]


def cli_command(*args: str) -> list[str]:
    """``python -m schnitzel_stream ARGS`` under the interpreter running the tests."""
    return [sys.executable, "-m", "schnitzel_stream", *args]


@dataclass(frozen=True, slots=True)
class Finished:
    """A child that has exited: its code, its output, and how long the exit took."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def describe(self) -> str:
        """Everything a failed assertion should show."""
        return (
            f"exit {self.returncode} after {self.seconds:.2f}s\n"
            f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )


class CliProcess:
    """A started child process; use it as a context manager so it never outlives the test.

    ``env`` adds to the current environment; a ``None`` value removes a variable.
    """

    def __init__(
        self,
        command: Sequence[str],
        *,
        log_dir: Path,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> None:
        self.command = list(command)
        self.plan = launch_plan(current_os())
        log_dir.mkdir(parents=True, exist_ok=True)
        self.stdout_path = log_dir / "stdout.txt"
        self.stderr_path = log_dir / "stderr.txt"
        # UTF-8 on the child's stdio, so its output decodes the same on Windows as elsewhere.
        child_env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
        for key, value in (env or {}).items():
            if value is None:
                child_env.pop(key, None)
            else:
                child_env[key] = value
        self._out: IO[bytes] = self.stdout_path.open("wb")
        self._err: IO[bytes] = self.stderr_path.open("wb")
        self.popen = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            creationflags=self.plan.creationflags,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:
        """Poll ``condition`` until it holds; fail at once, with the output, if the child exits."""
        deadline = time.monotonic() + timeout
        while not condition():
            if not self.running():
                raise AssertionError(f"the child exited before {what}:\n{self._finish(0.0).describe()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} after {timeout}s; stderr so far:\n{self.stderr()}")
            time.sleep(0.05)

    def runs_for(self, seconds: float) -> bool:
        """Let the child run for ``seconds``; False if it exited in the meantime."""
        try:
            self.popen.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return True
        return False

    def wait_for_stderr(self, text: str, *, timeout: float = 10.0) -> None:
        """Block until ``text`` appears on the child's stderr (its log)."""
        self.wait_until(lambda: text in self.stderr(), timeout=timeout, what=f"{text!r} on stderr")

    def send_stop(self) -> None:
        """Send this OS's graceful stop: SIGTERM, or CTRL_BREAK to the child's process group."""
        if self.plan.stop == "ctrl_break":
            if sys.platform == "win32":
                self.popen.send_signal(signal.CTRL_BREAK_EVENT)
                return
            raise RuntimeError("CTRL_BREAK exists only on Windows")
        self.popen.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = STOP_TIMEOUT) -> Finished:
        """Stop gracefully and wait; a child still running after ``timeout`` fails the test."""
        started = time.monotonic()
        self.send_stop()
        return self._wait(timeout, started)

    def wait(self, timeout: float) -> Finished:
        """Wait for the child to exit by itself within ``timeout`` seconds."""
        return self._wait(timeout, time.monotonic())

    def kill(self) -> None:
        """Hard kill (SIGKILL / ``TerminateProcess``) of the child alone, for crash tests."""
        if self.running():
            self.popen.kill()
            self.popen.wait(timeout=STOP_TIMEOUT)

    def kill_tree(self) -> None:
        """Hard kill of the child and every process below it, for cleanup.

        A service host starts its runtime in a session of its own, which killing the host
        alone (or its process group) leaves running as an orphan."""
        if not self.running():
            return
        if sys.platform == "win32":
            subprocess.run(
                ["taskkill", "/T", "/F", "/PID", str(self.pid)], capture_output=True, check=False, timeout=30
            )
            self.kill()
            return
        below = descendants(self.pid)  # before the kill: then they are reparented and lost
        self.kill()
        for pid in below:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill the child and what it started if it still runs, and close the log files."""
        self.kill_tree()
        self._out.close()
        self._err.close()

    def _wait(self, timeout: float, started: float) -> Finished:
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_tree()
            raise AssertionError(
                f"{self.command!r} still running after {timeout}s; killed it. stderr:\n{self.stderr()}"
            ) from None
        return self._finish(time.monotonic() - started)

    def _finish(self, seconds: float) -> Finished:
        code = self.popen.wait()
        self._out.flush()
        self._err.flush()
        return Finished(returncode=code, stdout=self.stdout(), stderr=self.stderr(), seconds=seconds)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_cli(
    *args: str,
    log_dir: Path,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
) -> CliProcess:
    """Start ``python -m schnitzel_stream ARGS``; :meth:`CliProcess.stop` stops it gracefully."""
    return CliProcess(cli_command(*args), log_dir=log_dir, cwd=cwd, env=env)
