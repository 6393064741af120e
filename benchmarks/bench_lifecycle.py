"""Deployment lifecycle speed (issue #10): bundle size, offline install, upgrade.

- bundle size and file count for linux-x86_64 and linux-aarch64, CPython 3.11 (``bundle``
  on a root rendered from a clone of this repository; wheels come from the user cache when
  a previous run downloaded them);
- offline install: ``install.sh --no-service`` of that root inside ``unshare -n`` (no network
  at all; as root) until its environment runs ``validate --deployment`` (target <= 20 s);
- upgrade: the unit's own ``ExecStart=`` command line, run from the old version's environment
  and then from the new one's, as systemd restarts it: from the old process's SIGTERM to the
  new process's ``READY=1`` on a real ``NOTIFY_SOCKET`` (median of 3; target <= 3 s).

``python benchmarks/bench_lifecycle.py [--worktree]``: ``--worktree`` includes the checkout's
uncommitted changes, as ``ops/ci/lifecycle.py --worktree`` does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import figure, heading
from ops.ci.lifecycle import bundle, prepare_sources, render, update

from schnitzel_stream.deploy.bundle import default_cache_dir
from schnitzel_stream.deploy.envfile import read_env_file
from schnitzel_stream.deploy.service_files import parse_unit, split_command

PYTHON = "/usr/bin/python3"
UPGRADES = 3


def _bundle_figures(root: Path, src: Path, cache: Path) -> None:
    for platform in ("linux-aarch64", "linux-x86_64"):  # x86_64 last: the install uses it
        done = subprocess.run(
            [sys.executable, "-m", "schnitzel_stream", "bundle", str(root), "--source", str(src),
             "--platform", platform, "--python", "3.11", "--cache-dir", str(cache)],
            capture_output=True, text=True, check=True, timeout=1800, env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        manifest = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
        files = [manifest["project"], *manifest["files"]]
        figure(f"bundle {platform}, CPython 3.11: size", sum(f["size"] for f in files) / 1e6, "MB")
        figure(f"bundle {platform}, CPython 3.11: files", len(files), "files")
        del done


def _install_seconds(root: Path, install_dir: Path) -> float:
    shutil.rmtree(install_dir, ignore_errors=True)
    prefix = ["unshare", "-n"] if os.geteuid() == 0 and shutil.which("unshare") else []
    if not prefix:
        print("  (not root: the install runs with the network available)")
    started = time.perf_counter()
    subprocess.run(
        [*prefix, "sh", str(root / "install.sh"), "--no-service"],
        check=True, capture_output=True, timeout=600, env={**os.environ, "PYTHON": PYTHON},
    )  # fmt: skip
    _installed_command(install_dir, "validate", "--deployment", str(root))
    return time.perf_counter() - started


def _installed_command(install_dir: Path, *args: str) -> None:
    python = install_dir / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-I", "-m", "schnitzel_stream", *args], check=True, capture_output=True, timeout=300
    )


def _graph_test_seconds(root: Path, install_dir: Path) -> float:
    """The install's graph-test step alone (``test --deployment``, the root's smoke test)."""
    started = time.perf_counter()
    _installed_command(install_dir, "test", "--deployment", str(root))
    return time.perf_counter() - started


def _service_command(root: Path) -> tuple[list[str], dict[str, str]]:
    path = next(root.glob("*.service"))
    unit = parse_unit(path.read_text(encoding="utf-8"), str(path))
    start = unit.last("Service", "ExecStart")
    env_file = unit.last("Service", "EnvironmentFile")
    assert start is not None and env_file is not None
    argv = split_command(start.value)
    assert argv
    # What systemd does: Environment= first, then EnvironmentFile= on top.
    return argv, {**os.environ, **unit.environment(), **read_env_file(env_file.value).as_dict()}


def _ready(
    argv: list[str],
    environ: dict[str, str],
    sock: socket.socket,
    log: Path,
    started: list[subprocess.Popen[bytes]],
) -> subprocess.Popen[bytes]:
    """Start the service command (appended to ``started``) and wait for its READY=1."""
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=environ, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    started.append(process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if b"READY=1" in sock.recv(4096):
                return process
        except TimeoutError:
            if process.poll() is not None:
                raise AssertionError(f"the service command exited {process.returncode}; see {log}") from None
    raise AssertionError(f"no READY=1 within 60 s; see {log}")


def _upgrade_seconds(root: Path, install_dir: Path, work: Path) -> list[float]:
    argv, environ = _service_command(root)
    versions = sorted((install_dir / "versions").iterdir(), key=lambda p: p.stat().st_mtime)
    old, new = (str(v / "bin" / "python") for v in versions[-2:])
    address = str(work / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.2)
    environ = {**environ, "NOTIFY_SOCKET": address}
    samples = []
    started_here: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(UPGRADES):
            running = _ready([old, *argv[1:]], environ, sock, work / "old.log", started_here)
            started = time.perf_counter()
            running.send_signal(signal.SIGTERM)
            assert running.wait(timeout=30) == 0
            upgraded = _ready([new, *argv[1:]], environ, sock, work / "new.log", started_here)
            samples.append(time.perf_counter() - started)
            upgraded.send_signal(signal.SIGTERM)
            upgraded.wait(timeout=30)
    finally:
        sock.close()
        for process in started_here:  # a failed sample leaves nothing running
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    return samples


def main() -> None:
    heading("Deployment lifecycle (issue #10)")
    work = Path(tempfile.mkdtemp(prefix="ss-bench-lifecycle-", dir="/var/tmp"))
    try:
        src, commits = prepare_sources(work, "--worktree" in sys.argv)
        root = work / "root"
        install_dir = work / "opt" / "edge-1"
        render(src, root, commits[0], "linux", scope="portable", install_dir=str(install_dir))
        cache = default_cache_dir()
        _bundle_figures(root, src, cache)
        figure(
            "offline install (install.sh --no-service) until validate runs",
            _install_seconds(root, install_dir),
            "s",
            "<= 20 s",
        )
        figure("  of which the graph tests (test --deployment)", _graph_test_seconds(root, install_dir), "s")
        update(root, commits[1])
        bundle(root, src, "3.11", cache)
        subprocess.run(["sh", str(root / "install.sh"), "--no-service"], check=True, capture_output=True,
                       env={**os.environ, "PYTHON": PYTHON}, timeout=600)  # fmt: skip
        samples = _upgrade_seconds(root, install_dir, work)
        figure("upgrade: old SIGTERM -> new READY=1 (median of 3)", statistics.median(samples), "s", "<= 3 s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
