"""The runtime as a supervised child process: started, stopped gracefully, its exit classified.

Portable: the SCM host, the launchd host and ``service run`` in a console all use it, which is
how the stop and exit semantics are tested on Linux too. The graceful stop is the runtime's
own: SIGTERM on POSIX, CTRL_BREAK on Windows, sent to the child's own process group only.

A pid file (``pid_file``) keeps the runtime's pid while it runs. When a host is killed
outright, its child lives on (on Windows a job object ends it with the host; launchd and a
console do not); the next host finds the pid, checks that it is still a schnitzel_stream
process, and stops it before starting a new one, so two runtimes never share the state.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from schnitzel_stream.paths import OsName, current_os

Outcome = Literal["stopped", "invalid", "crashed"]
#: EX_CONFIG: the runtime refused an invalid graph.
EXIT_CONFIG = 78
#: Win32 CREATE_NEW_PROCESS_GROUP (``subprocess`` names it only on Windows).
_NEW_PROCESS_GROUP = 0x00000200
_TAIL_LINES = 40


def classify(returncode: int, stop_requested: bool) -> Outcome:
    """What an exit means for the service manager.

    ``invalid``: exit 78, never restart. ``stopped``: a stop was asked for, or the graph
    finished (exit 0), like systemd's ``Restart=on-failure``. ``crashed``: anything else.
    """
    if returncode == EXIT_CONFIG:
        return "invalid"
    if stop_requested or returncode == 0:
        return "stopped"
    return "crashed"


@dataclass(frozen=True, slots=True)
class Exit:
    """How the runtime ended: its code, what that means, whether it had to be killed, and
    the last lines it wrote to stderr (for the log when it crashed)."""

    returncode: int
    outcome: Outcome
    forced: bool
    tail: tuple[str, ...]

    def describe(self) -> str:
        how = " after the stop timeout (killed)" if self.forced else ""
        return f"runtime exited with code {self.returncode}{how}: {self.outcome}"


class Supervisor:
    """One run of the runtime child; ``log`` receives one line per event."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        log: Callable[[str], None],
        cwd: Path | None = None,
        stop_timeout: float = 15.0,
        pid_file: Path | None = None,
        os_name: OsName | None = None,
    ) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.pid_file = pid_file
        self._log = log
        self._os = os_name or current_os()
        self._popen: subprocess.Popen[bytes] | None = None
        self._stop_asked_at: float | None = None
        self._lock = threading.Lock()
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> int:
        """Start the child; returns its pid. ``OSError`` when the interpreter cannot start."""
        self._stop_leftover()
        windows = self._os == "windows"
        self._popen = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            # stderr is read for its last lines only: the runtime logs to its own file too,
            # and a pipe nobody reads would block it.
            stderr=subprocess.PIPE,
            creationflags=_NEW_PROCESS_GROUP if windows else 0,
            start_new_session=not windows,
        )
        stream = self._popen.stderr
        assert stream is not None
        self._reader = threading.Thread(target=self._read_tail, args=(stream,), daemon=True)
        self._reader.start()
        if self.pid_file is not None:
            with contextlib.suppress(OSError):
                self.pid_file.write_text(f"{self._popen.pid}\n", encoding="ascii")
        self._log(f"started the runtime, pid {self._popen.pid}: {' '.join(self.command)}")
        return self._popen.pid

    def _read_tail(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._tail.append(raw.decode("utf-8", errors="replace").rstrip())
        stream.close()

    def _stop_leftover(self) -> None:
        """Stop the runtime a killed host left behind (its pid is in the pid file)."""
        if self.pid_file is None or self._os == "windows":
            return
        try:
            pid = int(self.pid_file.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return
        if pid <= 1 or "schnitzel_stream" not in _command_line(pid):
            return
        self._log(f"a runtime from before (pid {pid}) still runs: stopping it first")
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        while time.monotonic() < deadline and "schnitzel_stream" in _command_line(pid):
            time.sleep(0.1)
        if "schnitzel_stream" in _command_line(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def request_stop(self) -> None:
        """Ask for a graceful stop (once); safe from any thread, before or after the exit."""
        with self._lock:
            if self._stop_asked_at is not None:
                return
            self._stop_asked_at = time.monotonic()
            popen = self._popen
        if popen is None or popen.poll() is not None:
            return
        self._log(f"stop requested: sending the graceful stop to pid {popen.pid}")
        try:
            if self._os == "windows":
                os.kill(popen.pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined,unused-ignore]
            else:
                os.kill(popen.pid, signal.SIGTERM)
        except OSError as exc:  # it exited in between
            self._log(f"could not signal pid {popen.pid}: {exc}")

    def wait(self) -> Exit:
        """Block until the child exits; after a stop request, kill it once the timeout passes."""
        popen = self._popen
        if popen is None:
            raise RuntimeError("the runtime was never started")
        forced = False
        while True:
            try:
                returncode = popen.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                asked = self._stop_asked_at
                if asked is not None and not forced and time.monotonic() - asked > self.stop_timeout:
                    self._log(f"pid {popen.pid} did not stop within {self.stop_timeout:g} s: killing it")
                    popen.kill()
                    forced = True
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self.pid_file is not None:
            with contextlib.suppress(OSError):
                self.pid_file.unlink()
        finished = Exit(
            returncode, classify(returncode, self._stop_asked_at is not None), forced, tuple(self._tail)
        )
        self._log(finished.describe())
        return finished


def _command_line(pid: int) -> str:
    """The command line of a running process, or "" (gone, or not ours to read)."""
    if sys.platform.startswith("linux"):
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    try:
        done = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
