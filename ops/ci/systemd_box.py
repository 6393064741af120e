"""A throwaway machine with a real systemd as PID 1, for the Linux lifecycle on a host whose
own PID 1 is not systemd (CI containers, this project's CI machine).

It boots the host's own root file system through a copy-on-write overlay (nothing it does
reaches the real root) with ``systemd-nspawn --boot``, with a private network (loopback
only: the box is offline, which is part of what the lifecycle proves). Commands run inside
with ``nsenter`` into all of its namespaces, as root. Directories given as ``binds`` are shared
read-write at the same path; the box mounts its own ``/tmp``, so use ``/var/tmp`` or similar.

Needs root and Debian's ``systemd-container`` package. One box per ``box_dir``::

    with SystemdBox(Path("/var/tmp/ss-box-lifecycle"), binds=[work]) as box:
        box.run("systemctl", "is-system-running")
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self


def run_command(
    argv: Sequence[str],
    shown: Sequence[str],
    *,
    check: bool,
    timeout: float,
    env: dict[str, str] | None,
    input: str | None,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with text output captured; with ``check``, a non-zero exit raises
    :class:`AssertionError` naming ``shown`` (the command without its sudo or nsenter prefix)."""
    done = subprocess.run(
        list(argv),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(shown)} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def _alive(pid: int) -> bool:
    """Running: not gone and not a zombie waiting for its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


class BoxError(RuntimeError):
    """The box could not start, or a command in it failed."""


class SystemdBox:
    def __init__(self, box_dir: Path, binds: Sequence[Path] = (), boot_timeout: float = 90.0) -> None:
        self.box_dir = box_dir
        self.binds = list(binds)
        self.boot_timeout = boot_timeout
        self._nspawn: subprocess.Popen[bytes] | None = None
        self._init_pid: int | None = None

    @property
    def root(self) -> Path:
        return self.box_dir / "root"

    def start(self) -> None:
        if shutil.which("systemd-nspawn") is None:
            raise BoxError("systemd-nspawn is missing: apt-get install -y systemd-container")
        if os.geteuid() != 0:
            raise BoxError("the box needs root (overlay mount, systemd-nspawn)")
        self.stop()  # a box left behind by an interrupted run
        for name in ("upper", "work", "root"):
            (self.box_dir / name).mkdir(parents=True, exist_ok=True)
        options = f"lowerdir=/,upperdir={self.box_dir / 'upper'},workdir={self.box_dir / 'work'}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(self.root)], check=True)
        command = [
            "systemd-nspawn", "-q", "-D", str(self.root), "--boot", "--register=no", "--keep-unit",
            "--private-network", "-M", f"ssbox{os.getpid()}",
            *(f"--bind={path}" for path in self.binds),
        ]  # fmt: skip
        with (self.box_dir / "console.log").open("wb") as console:
            self._nspawn = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        # On disk too: a run killed before its stop() leaves the box to the next one's start().
        self._pid_file.write_text(f"{self._nspawn.pid}\n", encoding="ascii")
        deadline = time.monotonic() + self.boot_timeout
        while time.monotonic() < deadline:
            if self._nspawn.poll() is not None:
                break
            self._init_pid = self._find_init()
            if self._init_pid is not None:
                state = self.run("systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    return
            time.sleep(0.5)
        log = (self.box_dir / "console.log").read_text(errors="replace")[-3000:]
        self.stop()
        raise BoxError(f"no running systemd in the box after {self.boot_timeout:g} s:\n{log}")

    def _find_init(self) -> int | None:
        assert self._nspawn is not None
        children = Path(f"/proc/{self._nspawn.pid}/task/{self._nspawn.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def run(
        self,
        *command: str,
        check: bool = True,
        timeout: float = 600.0,
        env: dict[str, str] | None = None,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in the box as root; its output is captured as text."""
        if self._init_pid is None:
            raise BoxError("the box is not running")
        argv = ["nsenter", "-t", str(self._init_pid), "-a", "--", *command]
        return run_command(argv, command, check=check, timeout=timeout, env=env, input=input)

    @property
    def _pid_file(self) -> Path:
        return self.box_dir / "nspawn.pid"

    def stop(self) -> None:
        """Power the box off and remove the overlay (idempotent; also a box that a killed run
        left behind in ``box_dir``). Raises :class:`BoxError` when the overlay stays mounted."""
        if self._nspawn is not None and self._nspawn.poll() is None:
            self._nspawn.send_signal(signal.SIGTERM)  # nspawn asks the box's systemd to power off
            try:
                self._nspawn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._nspawn.kill()
                self._nspawn.wait(timeout=10)
        elif self._nspawn is None:
            self._stop_leftover()
        self._nspawn = None
        self._init_pid = None
        if subprocess.run(["mountpoint", "-q", str(self.root)], check=False).returncode == 0:
            subprocess.run(["umount", str(self.root)], check=False)
            if subprocess.run(["mountpoint", "-q", str(self.root)], check=False).returncode == 0:
                raise BoxError(f"{self.root} is still mounted; the box's files stay in {self.box_dir}")
        shutil.rmtree(self.box_dir, ignore_errors=True)

    def _stop_leftover(self) -> None:
        """The systemd-nspawn of an earlier run in this ``box_dir``, if it still runs."""
        try:
            pid = int(self._pid_file.read_text(encoding="ascii").strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if not command or Path(os.fsdecode(command[0])).name != "systemd-nspawn":
            return  # the pid was reused: not ours
        if f"-D\0{self.root}".encode() not in b"\0".join(command):
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            time.sleep(1)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:  # __exit__ does not run when __enter__ fails: stop here
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
