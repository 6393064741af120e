"""Where the lifecycle runs commands, and how each service manager is asked about the service.

A *machine* runs commands: this host (with ``sudo`` when not root, as on GitHub's runners) or
a :class:`~ops.ci.systemd_box.SystemdBox`. A *manager* knows one service manager's commands:
state, main pid, kill, restart, stop, and what an uninstall must leave behind.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ops.ci.systemd_box import SystemdBox, run_command


class Machine(Protocol):
    def run(
        self,
        *command: str,
        check: bool = True,
        timeout: float = 600.0,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


class Host:
    """This machine; privileged commands get ``sudo -E`` when the driver is not root."""

    def __init__(self) -> None:
        self._sudo: list[str] = []
        if sys.platform != "win32" and os.geteuid() != 0:
            # sudo resets PATH (secure_path): keep ours, so the install scripts find uv.
            self._sudo = ["sudo", "-E", "env", f"PATH={os.environ.get('PATH', '')}"]

    def run(
        self,
        *command: str,
        check: bool = True,
        timeout: float = 600.0,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return run_command(
            [*self._sudo, *command], command, check=check, timeout=timeout, env=env, input=input
        )


def machine_for(box: SystemdBox | None) -> Machine:
    return box if box is not None else Host()


@dataclass(frozen=True, slots=True)
class State:
    """What the manager says: running (and ready), the runtime's pid, restarts, the last exit."""

    running: bool
    pid: int | None
    restarts: int
    last_exit: int | None
    detail: str


class Manager(Protocol):
    name: str

    def state(self) -> State: ...

    def runtime_pid(self) -> int | None: ...

    def restart(self) -> None: ...

    def stop(self) -> None: ...

    def start(self) -> None: ...

    def journal(self) -> str: ...

    def leftovers(self) -> list[str]: ...


class Systemd:
    name = "systemd"

    def __init__(self, machine: Machine, unit: str, service_user: str, paths: Sequence[str]) -> None:
        self.machine = machine
        self.unit = unit
        self.service_user = service_user
        self.paths = list(paths)

    def _show(self) -> dict[str, str]:
        keys = "ActiveState,SubState,Result,MainPID,NRestarts,ExecMainStatus,ExecMainCode,LoadState"
        out = self.machine.run("systemctl", "show", "-p", keys, self.unit).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def state(self) -> State:
        shown = self._show()
        pid = int(shown.get("MainPID", "0") or 0) or None
        status = shown.get("ExecMainStatus", "")
        return State(
            running=shown.get("ActiveState") == "active" and shown.get("SubState") == "running",
            pid=pid,
            restarts=int(shown.get("NRestarts", "0") or 0),
            last_exit=int(status) if status.lstrip("-").isdigit() else None,
            detail=" ".join(f"{key}={value}" for key, value in sorted(shown.items())),
        )

    def runtime_pid(self) -> int | None:
        return self.state().pid

    def restart(self) -> None:
        self.machine.run("systemctl", "restart", "--no-block", self.unit)

    def stop(self) -> None:
        self.machine.run("systemctl", "stop", self.unit, timeout=60)

    def start(self) -> None:
        self.machine.run("systemctl", "start", "--no-block", self.unit)

    def journal(self) -> str:
        return self.machine.run("journalctl", "-u", self.unit, "--no-pager", "-n", "200", check=False).stdout

    def leftovers(self) -> list[str]:
        found: list[str] = []
        load = self._show().get("LoadState", "")
        if load not in ("not-found", ""):
            found.append(f"unit {self.unit} is {load}")
        units = self.machine.run("systemctl", "list-unit-files", "--no-legend", self.unit, check=False).stdout
        if self.unit in units:
            found.append(f"unit file {self.unit} is still known: {units.strip()}")
        return found + _account_and_files_left(self.machine, self.service_user, self.paths)


class Launchd:
    name = "launchd"

    def __init__(self, machine: Machine, label: str, service_user: str, paths: Sequence[str]) -> None:
        self.machine = machine
        self.label = label
        self.target = f"system/{label}"
        self.service_user = service_user
        self.paths = list(paths)

    def _print(self) -> str:
        done = self.machine.run("launchctl", "print", self.target, check=False)
        return done.stdout if done.returncode == 0 else ""

    def state(self) -> State:
        text = self._print()
        pid = re.search(r"^\s*pid = (\d+)", text, re.MULTILINE)
        runs = re.search(r"^\s*runs = (\d+)", text, re.MULTILINE)
        code = re.search(r"^\s*last exit code = (-?\d+)", text, re.MULTILINE)
        state = re.search(r"^\s*state = (\w+)", text, re.MULTILINE)
        return State(
            running=bool(state and state.group(1) == "running" and pid),
            pid=int(pid.group(1)) if pid else None,
            restarts=max(0, int(runs.group(1)) - 1) if runs else 0,
            last_exit=int(code.group(1)) if code else None,
            detail=" ".join(m.group(0).strip() for m in (pid, runs, code, state) if m) or "not loaded",
        )

    def runtime_pid(self) -> int | None:
        host = self.state().pid
        if host is None:
            return None
        children = self.machine.run("pgrep", "-P", str(host), check=False).stdout.split()
        return int(children[0]) if children else None

    def restart(self) -> None:
        self.machine.run("launchctl", "kickstart", "-k", self.target)

    def stop(self) -> None:
        self.machine.run("launchctl", "kill", "SIGTERM", self.target, check=False)

    def start(self) -> None:
        self.machine.run("launchctl", "kickstart", self.target)

    def journal(self) -> str:
        return ""

    def leftovers(self) -> list[str]:
        found = [f"{self.target} is still loaded"] if self._print() else []
        return found + _account_and_files_left(self.machine, self.service_user, self.paths)


class WindowsService:
    name = "scm"

    def __init__(self, machine: Machine, service: str, paths: Sequence[str]) -> None:
        self.machine = machine
        self.service = service
        self.paths = list(paths)

    def _ps(self, script: str, check: bool = True) -> str:
        return self.machine.run(
            "powershell", "-NoProfile", "-NonInteractive", "-Command", script, check=check
        ).stdout

    def state(self) -> State:
        script = (
            f"$s = Get-CimInstance Win32_Service -Filter \"Name='{self.service}'\"; "
            'if ($s) { "$($s.State)|$($s.ProcessId)|$($s.ExitCode)|$($s.ServiceSpecificExitCode)" }'
        )
        text = self._ps(script, check=False).strip()
        if not text:
            return State(False, None, 0, None, "not installed")
        state, pid, code, specific = text.split("|")
        return State(
            running=state == "Running",
            pid=int(pid) or None,
            restarts=0,
            last_exit=int(code) if code.isdigit() else None,
            detail=f"state={state} pid={pid} exit={code} specific={specific}",
        )

    def runtime_pid(self) -> int | None:
        host = self.state().pid
        if host is None:
            return None
        # The host's child is the venv's python.exe (a launcher); the runtime is its child, or
        # the child itself when the interpreter is not a launcher. Take the deepest one.
        pid: int | None = host
        deepest: int | None = None
        for _ in range(3):
            text = self._ps(
                f'(Get-CimInstance Win32_Process -Filter "ParentProcessId={pid}" | '
                "Where-Object { $_.Name -like 'python*' } | Select-Object -First 1).ProcessId",
                check=False,
            ).strip()
            if not text.isdigit():
                break
            pid = deepest = int(text)
        return deepest

    def restart(self) -> None:
        # An invalid graph stops the service right after its start: Restart-Service then fails.
        self._ps(f"Restart-Service -Name '{self.service}'", check=False)

    def stop(self) -> None:
        self._ps(f"Stop-Service -Name '{self.service}'")

    def start(self) -> None:
        self._ps(f"Start-Service -Name '{self.service}'")

    def journal(self) -> str:
        return ""

    def leftovers(self) -> list[str]:
        found = []
        if self._ps(f"Get-Service -Name '{self.service}' -ErrorAction SilentlyContinue", check=False).strip():
            found.append(f"service {self.service} still exists")
        key = f"HKLM:\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\{self.service}"
        if self._ps(f"Test-Path '{key}'", check=False).strip() == "True":
            found.append(f"event source {self.service} still registered")
        found += [f"{path} still exists" for path in self.paths if Path(path).exists()]
        return found


def _account_and_files_left(machine: Machine, account: str, paths: Sequence[str]) -> list[str]:
    found = []
    if machine.run("id", "-u", account, check=False).returncode == 0:
        found.append(f"the account {account} still exists")
    return found + [
        f"{path} still exists"
        for path in paths
        if machine.run("test", "-e", path, check=False).returncode == 0
    ]


def wait_for(what: str, condition: object, timeout: float, interval: float = 0.5) -> float:
    """Poll ``condition()`` until truthy; returns the seconds it took (AssertionError on timeout)."""
    assert callable(condition)
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def which(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AssertionError(f"{name} is not on PATH")
    return found
