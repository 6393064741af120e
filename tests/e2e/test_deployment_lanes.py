"""A rendered Linux root runs for real: the installed lane and the source lane, without systemd.

The issue's acceptance path: a fresh clone of this repository, ``copier copy`` from it,
``schnitzel-stream bundle``, and the root's own ``install.sh --no-service`` with no network
(``unshare -n`` when the tests run as root, as in .ci/run): it builds the environment from the
bundle alone (``--no-index --require-hashes``). Then the unit's ``ExecStart=`` runs with the environment systemd would give it
(``Environment=`` plus ``EnvironmentFile=``) and a real ``NOTIFY_SOCKET``: it must report
READY=1, write motion events, and stop on SIGTERM with exit code 0.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from copier import run_copy

from schnitzel_stream.deploy.bundle import default_cache_dir
from schnitzel_stream.deploy.envfile import read_env_file
from schnitzel_stream.deploy.service_files import parse_unit, split_command
from tests.support.clone import clone_repository, service_python
from tests.support.pkg_index import serving
from tests.support.proc import CliProcess
from tests.template._support import REPO_ROOT, answers

#: One worker builds the environment once for the whole module (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("deployment-lanes")

UNIT = "schnitzel-stream-edge-1.service"
#: What may not leak from the test runner into the service's environment.
_SCRUB = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


@dataclass(frozen=True)
class Installed:
    root: Path
    install_dir: Path
    python: Path
    argv: list[str]
    environ: dict[str, str]
    template: Path
    output: str


def _clean_env() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if key not in _SCRUB and not key.startswith("SCHNITZEL_")
    }


def _offline() -> list[str]:
    """``unshare -n`` as root: no network at all; elsewhere the bundle's ``--no-index`` alone."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("unshare")
    return ["unshare", "-n"] if root else []


def _install(root: Path) -> subprocess.CompletedProcess[str]:
    """The root's own ``install.sh --no-service`` from its bundle, with no network."""
    return subprocess.run(
        [*_offline(), "sh", str(root / "install.sh"), "--no-service"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**_clean_env(), "PYTHON": service_python(), "UV_PYTHON_DOWNLOADS": "never"},
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """A fresh clone, ``copier copy``, ``schnitzel-stream bundle``, then ``install.sh --no-service``
    with no network at all (``unshare -n`` as root; elsewhere the bundle's ``--no-index`` alone)."""
    base = tmp_path_factory.mktemp("lanes")
    template = clone_repository(base / "template")
    install_dir = base / "opt" / "edge-1"
    data = answers("linux", "portable", "synthetic_demo", install_dir=str(install_dir))
    run_copy(str(template), base / "root", data=data, defaults=True, quiet=True, vcs_ref="HEAD")
    root = base / "root"
    python = service_python()
    version = subprocess.run(
        [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    bundled = subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "bundle", str(root), "--python", version,
         "--cache-dir", str(default_cache_dir())],
        capture_output=True, text=True, timeout=1200, check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"},
    )  # fmt: skip
    assert bundled.returncode == 0, bundled.stdout + bundled.stderr
    result = _install(root)
    assert result.returncode == 0, result.stdout + result.stderr
    unit = parse_unit((root / UNIT).read_text(encoding="utf-8"), UNIT)
    start = unit.last("Service", "ExecStart")
    env_file = unit.last("Service", "EnvironmentFile")
    assert start is not None and env_file is not None
    argv = split_command(start.value)
    assert argv is not None
    # What systemd does: Environment= first, then EnvironmentFile= on top.
    environ = {**unit.environment(), **read_env_file(env_file.value).as_dict()}
    venv_python = install_dir / "venv" / "bin" / "python"
    yield Installed(root, install_dir, venv_python, argv, environ, template, result.stdout + result.stderr)
    shutil.rmtree(base, ignore_errors=True)


def test_installed_environment_matches_the_lock(installed: Installed) -> None:
    assert installed.argv[0] == str(installed.python)
    where = subprocess.run(
        [str(installed.python), "-c", "import schnitzel_stream, yaml, cv2; print(schnitzel_stream.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=_clean_env(),
        timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.install_dir / "venv")
    # The venv's own validate finds no drift against the lock, and doctor agrees.
    validate = subprocess.run(
        [
            str(installed.python),
            "-m",
            "schnitzel_stream",
            "validate",
            "--deployment",
            str(installed.root),
            "--venv",
            str(installed.install_dir / "venv"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout
    report = json.loads(validate.stdout)
    assert not [p for f in report["files"] for p in f["problems"] if p["code"].startswith("lock.")]
    doctor = subprocess.run(
        [
            str(installed.python),
            "-m",
            "schnitzel_stream",
            "doctor",
            "--deployment",
            str(installed.root),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=120,
        check=False,
    )
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["packages"]["status"] == "ok", checks["packages"]
    assert checks["opencv"]["status"] == "ok", checks["opencv"]


def test_service_command_runs_and_stops_on_sigterm(installed: Installed, tmp_path: Path) -> None:
    events = installed.install_dir / "state" / "events" / "events.jsonl"
    notify_path = Path(f"/tmp/sst-{os.getpid()}-{id(tmp_path)}.sock")  # AF_UNIX paths are short
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_path))
        notify.settimeout(30)
        try:
            env = {**installed.environ, "NOTIFY_SOCKET": str(notify_path)}
            with CliProcess(
                installed.argv, log_dir=tmp_path / "proc", cwd=installed.install_dir, env=env
            ) as proc:
                assert notify.recv(4096).decode().split("\n")[0].startswith("READY=1")
                proc.wait_until(
                    lambda: events.is_file() and len(events.read_text(encoding="utf-8").splitlines()) >= 3,
                    timeout=30,
                    what="motion events in the state directory",
                )
                finished = proc.stop()
            messages = []
            notify.settimeout(1)
            while True:
                try:
                    messages.append(notify.recv(4096).decode())
                except TimeoutError:
                    break
        finally:
            notify_path.unlink(missing_ok=True)
    assert finished.returncode == 0, finished.describe()
    assert finished.seconds < 5, finished.describe()
    assert any("STOPPING=1" in message for message in messages)
    first = json.loads(events.read_text(encoding="utf-8").splitlines()[0])
    assert first["payload"]["event_type"] == "motion"
    assert first["source_id"] == "edge-1-cam"
    assert (installed.install_dir / "logs" / "schnitzel-stream.log").is_file()


def test_source_lane(installed: Installed, tmp_path: Path) -> None:
    """A checkout on PYTHONPATH with the locked dependencies: the same contract runs from src/."""
    src = REPO_ROOT / "src"
    env = {**_clean_env(), **installed.environ, "PYTHONPATH": str(src)}
    where = subprocess.run(
        [str(installed.python), "-c", "import schnitzel_stream; print(schnitzel_stream.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(src)
    graph = installed.environ["SCHNITZEL_STREAM_CONFIG_DIR"] + "/graph.yaml"
    state = tmp_path / "state"
    run = subprocess.run(
        [
            str(installed.python),
            "-m",
            "schnitzel_stream",
            "--graph",
            graph,
            "--max-events",
            "3",
            "--state-dir",
            str(state),
            "--logs-dir",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert len((state / "events" / "events.jsonl").read_text(encoding="utf-8").splitlines()) >= 3


def test_install_ran_the_roots_smoke_test_with_the_new_environment(installed: Installed) -> None:
    assert "PASS   motion events come through" in installed.output
    assert "1 test file, 1 case: 1 passed, 0 failed, 0 errors" in installed.output


def test_a_root_whose_smoke_test_fails_is_not_installed(installed: Installed, tmp_path: Path) -> None:
    """The graph still validates, but its detector sees nothing: install.sh stops before the switch."""
    install_dir = tmp_path / "opt" / "edge-2"
    data = answers("linux", "portable", "synthetic_demo", install_dir=str(install_dir))
    root = tmp_path / "root"
    run_copy(str(installed.template), root, data=data, defaults=True, quiet=True, vcs_ref="HEAD")
    shutil.copytree(installed.root / "wheels", root / "wheels")  # the same commit's bundle
    graph = root / "config" / "graph.yaml"
    graph.write_text(
        graph.read_text(encoding="utf-8").replace("min_area: 100", "min_area: 100000000"), encoding="utf-8"
    )
    result = _install(root)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "FAIL   motion events come through" in output
    assert "expected at least 1 packets at 'events'; saw 0" in output
    assert not (install_dir / "venv").exists()  # never switched in


def test_without_a_bundle_a_package_named_explicitly_installs(installed: Installed, tmp_path: Path) -> None:
    """The refusal's second way (install.sh without wheels/): SCHNITZEL_STREAM_PACKAGE names the
    project wheel, and the locked dependencies come from an index the operator names (here a
    real one on loopback, serving the bundle's files; never PyPI by default). Last in the
    module: it switches the shared install to a new version."""
    root = tmp_path / "root"
    shutil.copytree(installed.root, root, ignore=shutil.ignore_patterns("wheels"))
    wheels = installed.root / "wheels"
    project = json.loads((wheels / "manifest.json").read_text(encoding="utf-8"))["project"]["file"]
    before = (installed.install_dir / "venv").readlink()
    with serving(tmp_path / "index") as index:
        for wheel in wheels.glob("*.whl"):
            if wheel.name != project:
                index.publish(wheel.name, wheel.read_bytes())
        done = subprocess.run(
            ["sh", str(root / "install.sh"), "--no-service"],
            capture_output=True, text=True, timeout=600, check=False,
            env={
                **_clean_env(), "PYTHON": service_python(), "UV_PYTHON_DOWNLOADS": "never",
                "SCHNITZEL_STREAM_PACKAGE": str(wheels / project),
                "UV_INDEX_URL": index.url, "PIP_INDEX_URL": index.url,
            },
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "from the package" in done.stdout + done.stderr
    assert any(request.endswith(".whl") for request in index.requests), index.requests
    current = (installed.install_dir / "venv").readlink()
    assert current != before and current.name.startswith("custom-")
    check = subprocess.run(
        [str(installed.python), "-I", "-m", "schnitzel_stream", "--version"],
        capture_output=True, text=True, timeout=60, check=False, env=_clean_env(),
    )  # fmt: skip
    assert check.returncode == 0 and project.split("-")[1] in check.stdout, check.stdout + check.stderr
