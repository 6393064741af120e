"""Helpers of the camera, broker, disk-full and corrupt-queue chaos scenarios.

- :func:`start_chaos_cli` starts ``python -m schnitzel_stream --graph ...`` the way a service
  manager does (optionally inside :class:`SmallFilesystem`'s mount namespace), with plain
  log lines and a status line every half second.
- :func:`status_lines` reads those status lines back into counters per node, so a scenario
  measures the running process from the outside, as an operator's log shipper would.
- :class:`SmallFilesystem` is a real, size-limited filesystem (tmpfs) that only the processes
  of one test can see: it lives in a private mount namespace held open by a tiny holder
  process. Nothing is mounted in the machine's own namespace, so a crashed or killed test run
  can never leave a mount behind: the namespace, and the tmpfs with it, disappear when its
  last process exits. The holder also exits when the test process dies (it waits for EOF on
  a pipe from us). As root this needs ``unshare --mount``; as any other user
  ``unshare --user --map-root-user --mount`` (unprivileged user namespaces).
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest

from tests.support.proc import CliProcess, cli_command

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAPHS = REPO_ROOT / "ops" / "graphs"
#: Status lines every half second: fine enough to see a producer stall or frames resume.
STATUS_INTERVAL = 0.5

_STATUS = re.compile(r"\bstatus uptime=(?P<uptime>\d+)s(?P<rest>.*)$")
_COUNTER = re.compile(r"^(?P<name>[A-Za-z_][\w.-]*)=(?P<value>-?\d+)$")


@dataclass(frozen=True, slots=True)
class Status:
    """One status line: uptime and ``{node_id: {counter: value}}`` (zero counters are omitted)."""

    uptime: int
    nodes: dict[str, dict[str, int]]

    def get(self, node: str, counter: str) -> int:
        return self.nodes.get(node, {}).get(counter, 0)


def status_lines(log: str) -> list[Status]:
    """Every status line in ``log`` (the child's stderr), oldest first."""
    found: list[Status] = []
    for line in log.splitlines():
        match = _STATUS.search(line)
        if match is None:
            continue
        nodes: dict[str, dict[str, int]] = {}
        for part in match["rest"].split(" | ")[1:]:
            node, _, fields = part.strip().partition(" ")
            counters: dict[str, int] = {}
            for field in fields.split():
                counter = _COUNTER.match(field)
                if counter is not None:
                    counters[counter["name"]] = int(counter["value"])
            nodes[node] = counters
        found.append(Status(int(match["uptime"]), nodes))
    return found


def latest_status(log: str) -> Status | None:
    found = status_lines(log)
    return found[-1] if found else None


def log_lines(log: str, *fragments: str) -> list[str]:
    """The lines of ``log`` that contain every one of ``fragments``."""
    return [line for line in log.splitlines() if all(fragment in line for fragment in fragments)]


def reaches(count: Callable[[], int], target: int) -> Callable[[], bool]:
    """A condition for ``wait_until``: ``count()`` has reached ``target`` (binds ``target`` now)."""
    return lambda: count() >= target


def start_chaos_cli(
    tmp_path: Path,
    graph: Path,
    *args: str,
    name: str = "proc",
    env: Mapping[str, str | None] | None = None,
    prefix: Sequence[str] = (),
) -> CliProcess:
    """The runtime contract, ``python -m schnitzel_stream --graph GRAPH``, as a child process.

    State goes to ``tmp_path/state``, logs to ``tmp_path/<name>``; ``prefix`` wraps the command
    (for example :meth:`SmallFilesystem.command_prefix`). Use the result as a context manager.
    """
    command = cli_command(
        "--graph",
        str(graph),
        "--state-dir",
        str(tmp_path / "state"),
        "--status-interval",
        str(STATUS_INTERVAL),
        *args,
    )
    # The child dies with the test process, even when a runner is killed outright and no
    # cleanup runs: a chaos run must never leave a camera graph running on a shared machine.
    setpriv = shutil.which("setpriv")
    guard = [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []
    return CliProcess(
        [*guard, *prefix, *command],
        log_dir=tmp_path / name,
        cwd=REPO_ROOT,
        env={"NO_COLOR": "1", "PYTHONPATH": str(REPO_ROOT), **(env or {})},
    )


_QUEUE_CHECK = """
import json, sqlite3, sys
conn = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
integrity = "; ".join(str(row[0]) for row in conn.execute("PRAGMA integrity_check"))
keys = sorted(str(row[0]) for row in conn.execute("SELECT key FROM queue"))
print(json.dumps({"integrity": integrity, "keys": keys}))
"""


@dataclass(frozen=True, slots=True)
class QueueCheck:
    """``PRAGMA integrity_check`` of a queue file and the keys still queued in it."""

    integrity: str
    keys: frozenset[str]


def check_queue(path: Path, *, prefix: Sequence[str] = ()) -> QueueCheck:
    """Check a queue file read-only, in a child process (``prefix`` runs it in a namespace).

    A child, because SQLite resolves symbolic links in file names, so the test process cannot
    open a file inside another mount namespace through ``/proc/<pid>/root``.
    """
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _QUEUE_CHECK, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"cannot check {path}: {done.stderr}"
    found = json.loads(done.stdout)
    return QueueCheck(str(found["integrity"]), frozenset(found["keys"]))


class NotifyListener:
    """A real ``NOTIFY_SOCKET``: a unix datagram socket that records what the service sends.

    Pass :attr:`env` to the child, as systemd does for a ``Type=notify`` unit with
    ``WatchdogSec=``; :meth:`longest_watchdog_gap` is what systemd's watchdog would judge.
    Use it as a context manager, so the socket closes whatever happens.
    """

    def __init__(self, path: Path, watchdog_sec: float) -> None:
        self.path = path
        self.watchdog_sec = watchdog_sec
        self.messages: list[tuple[float, str]] = []
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(str(path))
        self._socket.settimeout(0.2)
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="notify-listener", daemon=True)
        self._thread.start()

    @property
    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(int(self.watchdog_sec * 1e6))}

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._socket.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode("utf-8", errors="replace")))

    def pings(self, since: float = 0.0, until: float = float("inf")) -> list[float]:
        return [at for at, text in self.messages if "WATCHDOG=1" in text.split("\n") and since <= at <= until]

    def longest_watchdog_gap(self, since: float, until: float) -> float:
        """The longest time without ``WATCHDOG=1`` between ``since`` and ``until`` (monotonic)."""
        marks = [since, *self.pings(since, until), until]
        return max(later - earlier for earlier, later in itertools.pairwise(marks))

    def close(self) -> None:
        self._closed.set()
        self._thread.join(2)
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class SmallFilesystem:
    """A tmpfs of ``size_mb`` at ``mountpoint``, visible only inside a private mount namespace.

    Processes join it through :meth:`command_prefix` (``nsenter`` into the holder's
    namespaces). The test itself reads and writes files on it through :meth:`outside`, the
    path under ``/proc/<holder>/root``. Use it as a context manager: leaving it ends the
    holder, and with it the mount.
    """

    def __init__(self, mountpoint: Path, size_mb: int) -> None:
        self.mountpoint = mountpoint.resolve()
        self.size_mb = size_mb
        self._as_root = os.geteuid() == 0
        self._holder: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        tools = {name: shutil.which(name) for name in ("unshare", "nsenter")}
        missing = [name for name, found in tools.items() if found is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} not found; install util-linux", pytrace=False)
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        user = [] if self._as_root else ["--user", "--map-root-user"]
        # unshare execs sh, sh execs cat: the holder keeps one pid, the one we signal and enter.
        script = (
            f"mount -t tmpfs -o size={self.size_mb}m,mode=0755 chaos-disk {shlex.quote(str(self.mountpoint))} "
            "&& echo READY && exec cat >/dev/null"
        )
        holder = subprocess.Popen(
            [str(tools["unshare"]), *user, "--mount", "--propagation", "private", "sh", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._holder = holder
        assert holder.stdout is not None and holder.stderr is not None
        if holder.stdout.readline().strip() != b"READY":
            holder.wait(timeout=10)  # sh exits at once when mount (or unshare) fails
            detail = holder.stderr.read().decode(errors="replace")
            self.close()
            pytest.fail(
                f"cannot mount a {self.size_mb} MiB tmpfs in a private mount namespace ({detail.strip()}); "
                "the disk-full scenario needs root or unprivileged user namespaces",
                pytrace=False,
            )
        return self

    @property
    def holder_pid(self) -> int:
        assert self._holder is not None, "start() first"
        return self._holder.pid

    def command_prefix(self) -> list[str]:
        """Run a command inside the namespace, in the same pid (nsenter execs, never forks here)."""
        nsenter = shutil.which("nsenter") or "nsenter"
        user = [] if self._as_root else ["--user", "--preserve-credentials"]
        return [nsenter, f"--target={self.holder_pid}", "--mount", *user, "--"]

    def outside(self, path: Path) -> Path:
        """Where the test reaches ``path`` (on the tmpfs) from outside the namespace."""
        return Path(f"/proc/{self.holder_pid}/root{path.absolute()}")

    def fill(self, name: str = "filler", chunk: int = 64 * 1024) -> int:
        """Write ``name`` on the tmpfs until the disk is full, like another program would; its bytes."""
        written = 0
        block = b"\0" * chunk
        with self.outside(self.mountpoint / name).open("wb", buffering=0) as out:
            while True:
                try:
                    written += out.write(block)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    if chunk == 1:
                        return written
                    chunk //= 2
                    block = block[:chunk]

    def remove(self, name: str = "filler") -> None:
        self.outside(self.mountpoint / name).unlink()

    def close(self) -> None:
        """End the holder: once no process is left in the namespace, the tmpfs is gone."""
        holder, self._holder = self._holder, None
        if holder is None:
            return
        if holder.stdin is not None:
            holder.stdin.close()
        try:
            holder.wait(timeout=5)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait(timeout=5)
        for stream in (holder.stdout, holder.stderr):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
