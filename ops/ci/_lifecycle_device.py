"""The device side of the lifecycle: one OS, its install scripts, its files and its manager.

Paths come from the rendered root's answers through ``deploy.layout`` (what
``validate --deployment`` uses), so the driver checks the places the template really renders.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

import yaml
from ops.ci._lifecycle_machines import Launchd, Machine, Manager, State, Systemd, WindowsService, machine_for
from ops.ci.systemd_box import SystemdBox

from schnitzel_stream.deploy.layout import Layout, answers_from_mapping, layout_for


@dataclass
class Device:
    os_name: str
    machine: Machine
    root: Path
    python: str
    _manager: Manager | None = None
    _layout: Layout | None = None
    _parents: dict[str, bool] = field(default_factory=dict)

    @property
    def manager_name(self) -> str:
        return {"linux": "systemd", "macos": "launchd", "windows": "the Windows SCM"}[self.os_name]

    @property
    def manager(self) -> Manager:
        """The service manager's view; available once the root is rendered."""
        if self._manager is None:
            self._manager = self._real_manager()
        return self._manager

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            data = yaml.safe_load((self.root / ".copier-answers.yml").read_text(encoding="utf-8"))
            answers, problems = answers_from_mapping(data, "answers")
            assert answers is not None, problems
            self._layout = layout_for(answers)
        return self._layout

    def _real_manager(self) -> Manager:
        layout = self.layout
        owned = self._owned_paths()
        if self.os_name == "linux":
            return Systemd(self.machine, layout.service_file, "schnitzel", owned)
        if self.os_name == "macos":
            return Launchd(self.machine, layout.service_name, "_schnitzel", owned)
        return WindowsService(self.machine, layout.service_name, owned)

    def _owned_paths(self) -> list[str]:
        layout = self.layout
        paths = [layout.install_dir, layout.config_dir, layout.state_dir, layout.logs_dir]
        if self.os_name == "linux":
            paths.append(f"/etc/systemd/system/{layout.service_file}")
        elif self.os_name == "macos":
            paths.append(f"/Library/LaunchDaemons/{layout.service_file}")
        return paths

    def _sep(self) -> str:
        return "\\" if self.os_name == "windows" else "/"

    # --- commands --------------------------------------------------------------------------
    def python_version(self) -> str:
        code = "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"
        return self.machine.run(self.python, "-I", "-c", code).stdout.strip()

    def install(self, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
        if self.os_name == "windows":
            flags = ["-Rollback"] if "--rollback" in args else []
            return self.machine.run(
                "powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", str(root / "install.ps1"),
                "-Python", self.python, *flags, check=False,
            )  # fmt: skip
        return self.machine.run(
            "sh", str(root / "install.sh"), *args, check=False, env={"PYTHON": self.python}
        )

    def uninstall(self, root: Path) -> subprocess.CompletedProcess[str]:
        if self.os_name == "windows":
            return self.machine.run(
                "powershell", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", str(root / "uninstall.ps1"),
                "-Purge", check=False,
            )  # fmt: skip
        return self.machine.run("sh", str(root / "uninstall.sh"), "--purge", check=False)

    def kill(self, pid: int) -> None:
        if self.os_name == "windows":
            self.machine.run("taskkill", "/F", "/PID", str(pid))
        else:
            self.machine.run("kill", "-9", str(pid))

    def _cat(self, pattern: str) -> str:
        if self.os_name == "windows":
            parent = Path(pattern).parent
            return "".join(
                p.read_text(encoding="utf-8", errors="replace") for p in sorted(parent.glob("*.jsonl"))
            )
        return self.machine.run("sh", "-c", f"cat {pattern} 2>/dev/null || true").stdout

    def _events_text(self) -> str:
        sep = self._sep()
        return self._cat(f"{self.layout.state_dir}{sep}events{sep}*.jsonl")

    def events(self) -> int:
        return len(self._events_text().splitlines())

    def last_event_is_complete(self) -> bool:
        lines = self._events_text().splitlines()
        return bool(lines) and isinstance(json.loads(lines[-1]), dict)

    def read_installed_graph(self) -> str:
        if self.os_name == "windows":
            return Path(self.layout.graph_path).read_text(encoding="utf-8")
        return self.machine.run("cat", self.layout.graph_path).stdout

    def write_installed_graph(self, text: str) -> None:
        if self.os_name == "windows":
            Path(self.layout.graph_path).write_text(text, encoding="utf-8")
            return
        self.machine.run("sh", "-c", 'cat > "$1"', "sh", self.layout.graph_path, input=text)

    def current_version(self) -> str:
        venv = self.layout.venv_dir
        if self.os_name == "windows":
            return PureWindowsPath(str(Path(venv).readlink())).name
        return Path(self.machine.run("readlink", venv).stdout.strip()).name

    def assert_runs_current(self) -> None:
        """The running runtime has the current version's files open (not only the link)."""
        current = self.current_version()
        pid = self.manager.runtime_pid()
        assert pid, self.manager.state().detail
        marker = f"versions{self._sep()}{current}{self._sep()}"
        if self.os_name == "linux":
            maps = self.machine.run("cat", f"/proc/{pid}/maps").stdout
        elif self.os_name == "macos":
            maps = self.machine.run("lsof", "-p", str(pid), check=False).stdout
        else:
            return  # the junction's target decides; the pid changed with every switch
        assert marker in maps, f"pid {pid} does not run {current}"

    def assert_invalid_stop(self, state: State) -> None:
        if self.os_name == "linux":
            assert state.last_exit == 78 and "Result=exit-code" in state.detail, state.detail
            assert "start-limit-hit" not in state.detail
        else:
            assert state.last_exit == 0, state.detail
            assert "the graph is invalid" in self._host_log()

    def assert_graceful_stop(self, state: State) -> None:
        if self.os_name == "linux":
            assert state.last_exit == 0 and "Result=success" in state.detail, state.detail
        else:
            assert state.last_exit == 0, state.detail
            assert "runtime exited with code 0: stopped" in self._host_log()
        assert "graph stopped" in self._runtime_log(), self._runtime_log()[-2000:]

    def _host_log(self) -> str:
        return self._cat(f"{self.layout.logs_dir}{self._sep()}service-host.log")

    def _runtime_log(self) -> str:
        if self.os_name == "linux":
            return self.manager.journal()
        return self._cat(f"{self.layout.logs_dir}{self._sep()}schnitzel-stream.log")

    def before_install(self) -> None:
        for path in self._parents_of_owned():
            self._parents[path] = self._exists(path)

    def _parents_of_owned(self) -> list[str]:
        sep = self._sep()
        return sorted({path.rsplit(sep, 1)[0] for path in self._owned_paths()})

    def _exists(self, path: str) -> bool:
        if self.os_name == "windows":
            return Path(path).exists()
        return self.machine.run("test", "-e", path, check=False).returncode == 0

    def new_leftovers(self) -> list[str]:
        return [
            f"{path} (created by the install) still exists"
            for path, was in self._parents.items()
            if not was and self._exists(path)
        ]

    def diagnostics(self) -> str:
        try:
            return (
                f"--- state: {self.manager.state().detail}\n--- journal:\n{self.manager.journal()[-4000:]}\n"
                f"--- host log:\n{self._host_log()[-2000:]}\n--- runtime log:\n{self._runtime_log()[-3000:]}"
            )
        except (
            AssertionError,
            OSError,
            subprocess.SubprocessError,
            ValueError,
        ) as exc:  # never hide the failure
            return f"(no diagnostics: {exc})"

    def cleanup(self) -> None:
        try:
            self.uninstall(self.root)
        except (AssertionError, OSError, subprocess.SubprocessError) as exc:  # best effort after a failure
            print(f"cleanup failed: {exc}", file=sys.stderr)


def device_for(box: SystemdBox | None, root: Path, python: str | None) -> Device:
    os_name = "windows" if sys.platform == "win32" else "macos" if sys.platform == "darwin" else "linux"
    if python is None:
        python = {
            "linux": "/usr/bin/python3",
            "macos": "python3",
            "windows": getattr(sys, "_base_executable", sys.executable),
        }[os_name]
    if re.search(r"\s", python) and os_name != "windows":
        raise SystemExit("--python: a path without white space")
    return Device(os_name, machine_for(box), root, python)
