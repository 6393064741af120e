"""The deployment lifecycle under the OS's real service manager, end to end.

    python ops/ci/lifecycle.py [--box] [--python PATH] [--work DIR] [--cache DIR] [--keep] [--worktree]
                               [--timeout S]

For the OS it runs on (systemd on Linux, launchd on macOS, the SCM on Windows): render a root
from a clone of this repository → bundle it → install it with no network → running and writing
events → ``kill -9`` of the runtime → back within the bound → an invalid graph stops without a
restart loop (and, on systemd, without start-limit-hit), and the install script refuses one →
upgrade to a second bundle (``copier update``) → a third bundle whose runtime never becomes
ready is rolled back by the install script by itself → ``--rollback`` to the first → a
graceful stop (exit 0, events flushed) → ``uninstall --purge`` leaves nothing behind (files,
account, unit/daemon/service, event source).

``--box`` (Linux, as root) runs the device side in :class:`~ops.ci.systemd_box.SystemdBox`: a
real systemd as PID 1 with no network, which also proves the offline install. On GitHub's
runners the job runs it on the runner itself (``sudo`` where needed). The second and third
bundles come from commits the driver makes in its clone: a version bump, and a runtime that
exits 3 at start (``validate`` still passes, so only the health gate can catch it).

Exit status 0 when every step passed; each step prints what it checked and how long it took.
A failed step, SIGTERM (a CI timeout) or ``--timeout`` unwinds the same way: diagnostics, the
service uninstalled, the box powered off, the work directory removed, then a non-zero exit.
"""

from __future__ import annotations

import _thread
import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from ops.ci._lifecycle_device import Device, device_for
from ops.ci._lifecycle_machines import wait_for
from ops.ci.systemd_box import SystemdBox

NAME = "lifecycle"
RESTART_DELAY = 2
INVALID_GRAPH = (
    "version: 2\nnodes:\n  - {id: cam, kind: source, plugin: synthetic_camra, config: {}}\nedges: []\n"
)
#: Prepended to the runtime's entry in the third commit: `--graph` runs exit 3, validate works.
BROKEN_RUNTIME = (
    "import sys as _lifecycle_sys\n"
    "if '--graph' in _lifecycle_sys.argv and '--validate-only' not in _lifecycle_sys.argv:\n"
    "    _lifecycle_sys.exit(3)\n"
)


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=300)
    return done.stdout.strip()


def _step(title: str) -> Callable[[Callable[[], str]], None]:
    def run(body: Callable[[], str]) -> None:
        started = time.monotonic()
        print(f"== {title}", flush=True)
        detail = body()
        print(f"   ok ({time.monotonic() - started:.1f} s){': ' + detail if detail else ''}", flush=True)

    return run


def prepare_sources(work: Path, worktree: bool) -> tuple[Path, list[str]]:
    """A clone with three commits: HEAD (plus, with ``worktree``, the checkout's uncommitted
    changes), a version bump, and a runtime that exits 3 at start."""
    src = work / "src"
    _git("clone", "--quiet", str(REPO_ROOT), str(src), cwd=work)
    _git("config", "user.email", "lifecycle@localhost", cwd=src)
    _git("config", "user.name", "lifecycle", cwd=src)
    if worktree:
        patch = subprocess.run(
            ["git", "diff", "HEAD", "--binary"], cwd=REPO_ROOT, capture_output=True, check=True
        ).stdout
        if patch:
            subprocess.run(["git", "apply", "--index", "-"], cwd=src, input=patch, check=True)
        for name in _git("ls-files", "--others", "--exclude-standard", cwd=REPO_ROOT).splitlines():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, src / name)
        _git("add", "-A", cwd=src)
        _git("commit", "--quiet", "--allow-empty", "-m", "lifecycle: the working tree", cwd=src)
    commits = [_git("rev-parse", "HEAD", cwd=src)]
    pyproject = src / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    version = text.split('\nversion = "', 1)[1].split('"', 1)[0]
    pyproject.write_text(
        text.replace(f'\nversion = "{version}"', f'\nversion = "{version}.post1"', 1), encoding="utf-8"
    )
    _git("commit", "--quiet", "-am", "lifecycle: the second version", cwd=src)
    commits.append(_git("rev-parse", "HEAD", cwd=src))
    entry = src / "src" / "schnitzel_stream" / "__main__.py"
    entry.write_text(BROKEN_RUNTIME + entry.read_text(encoding="utf-8"), encoding="utf-8")
    _git("commit", "--quiet", "-am", "lifecycle: a runtime that never becomes ready", cwd=src)
    commits.append(_git("rev-parse", "HEAD", cwd=src))
    return src, commits


def render(src: Path, root: Path, commit: str, os_name: str, **answers: object) -> None:
    """A root from the clone at ``commit``, kept in git (``copier update`` needs it)."""
    from copier import run_copy

    data = {
        "deployment_name": NAME,
        "target_os": os_name,
        "scope": "system",
        "restart_delay_sec": RESTART_DELAY,
        **answers,
    }
    run_copy(str(src), root, data=data, defaults=True, quiet=True, vcs_ref=commit)
    _git("init", "--quiet", cwd=root)
    _git("config", "user.email", "lifecycle@localhost", cwd=root)
    _git("config", "user.name", "lifecycle", cwd=root)
    (root / ".git" / "info" / "exclude").write_text("/wheels/\n", encoding="utf-8")
    _git("add", "-A", cwd=root)
    _git("commit", "--quiet", "-m", "rendered", cwd=root)


def update(root: Path, commit: str) -> None:
    from copier import run_update

    run_update(root, vcs_ref=commit, defaults=True, overwrite=True, quiet=True, skip_answered=True)
    _git("add", "-A", cwd=root)
    _git("commit", "--quiet", "-m", f"template {commit[:8]}", cwd=root)


def bundle(root: Path, src: Path, python_version: str, cache: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "bundle", str(root), "--source", str(src),
         "--python", python_version, "--cache-dir", str(cache)],
        capture_output=True, text=True, timeout=1200, check=False,
        env={**os.environ, "NO_COLOR": "1", "UV_PYTHON_DOWNLOADS": "never"},
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"bundle failed:\n{done.stdout}\n{done.stderr}")
    manifest = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
    return str(manifest["project"]["version"])


def lifecycle(device: Device, src: Path, commits: list[str], work: Path, cache: Path) -> None:
    root = work / "root"
    python_version = device.python_version()
    bound = RESTART_DELAY + 30.0

    @_step("render and bundle the first version")
    def _() -> str:
        render(src, root, commits[0], device.os_name)
        return f"schnitzel-stream {bundle(root, src, python_version, cache)} for CPython {python_version}"

    manager = device.manager

    @_step(f"install with no network, under {device.manager_name}")
    def _() -> str:
        device.before_install()
        done = device.install(root)
        assert done.returncode == 0, f"install failed:\n{done.stdout}\n{done.stderr}"
        wait_for("the service to run", lambda: manager.state().running, timeout=60)
        wait_for("motion events", lambda: device.events() > 0, timeout=60)
        device.assert_runs_current()
        return f"{manager.state().detail}; {device.events()} events"

    @_step("kill -9 the runtime: it comes back within the bound")
    def _() -> str:
        killed = manager.runtime_pid()
        assert killed, manager.state().detail
        before = device.events()
        device.kill(killed)
        took = wait_for(
            "a new runtime",
            lambda: manager.state().running and manager.runtime_pid() not in (None, killed),
            timeout=bound,
        )
        wait_for("events from the new runtime", lambda: device.events() > before, timeout=60)
        return f"runtime {killed} killed, back in {took:.1f} s (restart delay {RESTART_DELAY} s, bound {bound:g} s)"

    @_step("an invalid graph stops the service without a restart loop")
    def _() -> str:
        original = device.read_installed_graph()
        device.write_installed_graph(INVALID_GRAPH)
        manager.restart()
        wait_for(
            "the service to stop", lambda: not manager.state().running and manager.state().pid is None, 60
        )
        first = manager.state()
        time.sleep(3 * RESTART_DELAY + 3)
        later = manager.state()
        assert not later.running and later.restarts == first.restarts, f"{first.detail} -> {later.detail}"
        device.assert_invalid_stop(later)
        device.write_installed_graph(original)
        manager.start()
        wait_for("the service to run again", lambda: manager.state().running, timeout=60)
        return f"stopped: {later.detail}; started again after the graph was fixed"

    @_step("the install script refuses an invalid graph and leaves the service as it was")
    def _() -> str:
        running = manager.runtime_pid()
        graph = root / "config" / "graph.yaml"
        good = graph.read_text(encoding="utf-8")
        graph.write_text(INVALID_GRAPH, encoding="utf-8")
        try:
            done = device.install(root)
        finally:
            graph.write_text(good, encoding="utf-8")
        assert done.returncode != 0, done.stdout
        assert "synthetic_camra" in done.stdout + done.stderr, done.stdout + done.stderr
        assert manager.state().running and manager.runtime_pid() == running
        return "validate refused it before anything changed"

    @_step("upgrade to the second version (copier update, bundle, install)")
    def _() -> str:
        update(root, commits[1])
        version = bundle(root, src, python_version, cache)
        old = manager.runtime_pid()
        done = device.install(root)
        assert done.returncode == 0, f"upgrade failed:\n{done.stdout}\n{done.stderr}"
        assert manager.state().running and manager.runtime_pid() != old
        device.assert_runs_current()
        assert version in device.current_version(), (version, device.current_version())
        return f"now {device.current_version()}"

    @_step("a version that never becomes ready is rolled back by the install script")
    def _() -> str:
        good = device.current_version()
        update(root, commits[2])
        bundle(root, src, python_version, cache)
        done = device.install(root)
        output = done.stdout + done.stderr
        assert done.returncode != 0, output
        assert "rolled back" in output, output
        wait_for("the service to run again", lambda: manager.state().running, timeout=60)
        assert device.current_version() == good, (device.current_version(), good)
        device.assert_runs_current()
        return f"back on {good}"

    @_step("--rollback goes back to the first version")
    def _() -> str:
        second = device.current_version()
        _git("checkout", "HEAD~2", "--", ".", cwd=root)
        done = device.install(root, "--rollback")
        assert done.returncode == 0, done.stdout + done.stderr
        wait_for("the service to run", lambda: manager.state().running, timeout=60)
        assert device.current_version() != second
        device.assert_runs_current()
        return f"now {device.current_version()}"

    @_step("a graceful stop: exit 0, events flushed")
    def _() -> str:
        started = time.monotonic()
        manager.stop()
        wait_for("the service to stop", lambda: not manager.state().running, timeout=30)
        took = time.monotonic() - started
        device.assert_graceful_stop(manager.state())
        lines = device.events()
        assert lines > 0 and device.last_event_is_complete()
        return f"stopped in {took:.1f} s; {lines} events, the last one complete"

    @_step("uninstall --purge leaves nothing behind")
    def _() -> str:
        done = device.uninstall(root)
        assert done.returncode == 0, done.stdout + done.stderr
        left = manager.leftovers() + device.new_leftovers()
        assert not left, "left behind: " + "; ".join(left)
        return "no files, account, service or registration left"


@contextmanager
def _box(work: Path, enabled: bool) -> Iterator[SystemdBox | None]:
    if not enabled:
        yield None
        return
    box_dir = Path(os.environ.get("BOX_DIR", "/var/tmp/ss-box-lifecycle"))
    with SystemdBox(box_dir, binds=[work]) as box:
        yield box


def _stop_on_signal(signum: int, frame: object) -> None:
    """SIGTERM (a CI timeout) unwinds like a failure: the service is uninstalled, the box is
    powered off and the work directory removed. A second SIGTERM does not cut that short."""
    signal.signal(signum, signal.SIG_IGN)
    raise SystemExit(f"lifecycle: stopped by signal {signum}; cleaning up")


def _out_of_time(seconds: float) -> None:
    """The driver's own bound (every OS): the main thread unwinds as on a failure."""
    print(f"lifecycle: still running after {seconds:g} s; cleaning up", file=sys.stderr, flush=True)
    if sys.platform == "win32":
        _thread.interrupt_main()  # KeyboardInterrupt at the next bytecode
    else:
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal also ends a blocking wait


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--box", action="store_true", help="Linux: run the device side in a systemd box")
    parser.add_argument("--python", help="the base interpreter the install script builds on")
    parser.add_argument(
        "--work", type=Path, help="work directory (default: a new one under /var/tmp or TEMP)"
    )
    parser.add_argument(
        "--cache", type=Path, help="wheel cache for the bundles (default: under the work dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument(
        "--worktree", action="store_true", help="include the checkout's uncommitted changes (development)"
    )
    parser.add_argument(
        "--timeout", type=float, default=1200.0, metavar="S",
        help="fail (after the cleanup) when the lifecycle takes longer than S seconds (default 1200)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    base = Path("/var/tmp") if sys.platform != "win32" else Path(tempfile.gettempdir())
    work = (args.work or Path(tempfile.mkdtemp(prefix="ss-lifecycle-", dir=base))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _stop_on_signal)  # CI's timeout: clean up, then fail
    deadline = threading.Timer(args.timeout, _out_of_time, (args.timeout,))
    deadline.daemon = True
    deadline.start()
    try:
        src, commits = prepare_sources(work, args.worktree)
        with _box(work, args.box) as box:
            device = device_for(box, work / "root", args.python)
            try:
                lifecycle(device, src, commits, work, args.cache or work / "cache")
            except BaseException:
                with contextlib.suppress(OSError):  # a closed pipe must not skip the cleanup
                    print(device.diagnostics(), file=sys.stderr, flush=True)
                device.cleanup()  # the service and its files; the box's exit powers it off
                raise
    finally:
        deadline.cancel()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"lifecycle passed under {device.manager_name} in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
