"""Every task of the project. CI calls these sessions, so a developer runs exactly what CI runs.

Each session syncs its own virtual environment from ``uv.lock`` (``uv sync --locked``), so
the packages are the one locked set everywhere. The Python is the one nox runs under; the
CI matrix picks it.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
#: `uv run nox` with no -s runs the whole gate: what the README calls the test suite.
nox.options.sessions = ["lint", "typecheck", "lock", "tests"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(str(ROOT / "pyproject.toml"))


def _sync(session: nox.Session, *extra: str) -> None:
    """Install the project and the locked dev group into the session's virtual environment."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--inexact",
        *extra,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location, "UV_PYTHON_DOWNLOADS": "never"},
        silent=True,
    )


def _workers() -> str:
    return os.environ.get("PYTEST_WORKERS", "auto")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite that needs only Python and uv: unit, end-to-end, template and workflow
    tests (real SQLite files, a real HTTP backend on loopback, the CLI as a subprocess, real
    copier renders and systemd-analyze where the OS has it). The tests that need GStreamer's
    RTSP server and mosquitto are the `integration` session."""
    _pytest(session, ["tests/unit", "tests/e2e", "tests/template", "tests/workflows"])


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    _sync(session)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy strict over the source, the tests, the benchmarks and this file."""
    _sync(session)
    session.run("mypy")


@nox.session(venv_backend="none")
def lock(session: nox.Session) -> None:
    """uv.lock matches pyproject.toml."""
    session.run("uv", "lock", "--check", external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Print the performance figures the issues ask for."""
    _sync(session)
    names = session.posargs or sorted(p.name for p in (ROOT / "benchmarks").glob("bench_*.py"))
    for name in names:
        session.run("python", str(ROOT / "benchmarks" / name))


# ---- The CI lanes (.github/workflows): one session per job step, so CI runs nothing else ----

#: Tests that need hours or break things on purpose run only in their own sessions.
_NOT_SLOW = "not chaos and not soak"


def _pytest(session: nox.Session, default_paths: list[str]) -> None:
    """pytest in parallel over ``default_paths``; posargs replace the paths (and options)."""
    _sync(session)
    args = session.posargs or default_paths
    session.run("pytest", "-n", _workers(), "--dist", "loadgroup", "-m", _NOT_SLOW, *args)


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests (tests/unit). Needs nothing but Python: runs on every OS of the matrix."""
    _pytest(session, ["tests/unit"])


@nox.session
def e2e(session: nox.Session) -> None:
    """The CLI as a subprocess on real files: synthetic-camera graphs, the local test backend.

    No GStreamer or mosquitto, so Windows and macOS run it too.
    """
    _pytest(session, ["tests/e2e"])


@nox.session
def graph_tests(session: nox.Session) -> None:
    """The reference graphs' own graph tests (ops/graphs/tests): `schnitzel-stream test ops/graphs`.

    Options after `--` go to the command, as CI does: `nox -s graph_tests -- --format github`.
    """
    _sync(session)
    session.run("schnitzel-stream", "test", "ops/graphs", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """Real RTSP (GStreamer) and MQTT (mosquitto) servers, plus HTTP and SQLite. Linux only."""
    _pytest(session, ["tests/integration"])


@nox.session
def workflows(session: nox.Session) -> None:
    """The workflows themselves: zizmor offline, the GitHub schemas, and tests/workflows."""
    _sync(session)
    workflow_files = sorted(
        p.relative_to(ROOT).as_posix() for p in (ROOT / ".github/workflows").glob("*.yml")
    )
    session.run("zizmor", "--offline", ".github")
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflow_files)
    session.run("check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml")
    session.run("pytest", "-n", _workers(), "tests/workflows")


@nox.session(venv_backend="none")
def wheel(session: nox.Session) -> None:
    """Build sdist and wheel; from a clean venv outside the tree, validate and run 100 frames.

    The wheel goes into a fresh venv with its locked, hash-checked dependencies; from a
    temporary directory it validates a copy of ops/graphs and runs the synthetic graph. This
    catches files that exist only in the checkout. ``-- --out DIR`` keeps the sdist, the wheel
    and ``requirements.lock.txt`` in DIR (the release uploads them); ``-- --from DIR`` checks
    the files already in DIR instead of building (the release's OS matrix).
    """
    import argparse
    import shutil
    import tempfile

    parser = argparse.ArgumentParser(prog="nox -s wheel --")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path, help="build into DIR and keep the files")
    where.add_argument("--from", dest="source", type=Path, help="check the build already in DIR")
    options = parser.parse_args(session.posargs)

    work = Path(tempfile.mkdtemp(prefix="schnitzel-wheel-")).resolve()
    if work.is_relative_to(ROOT):
        session.error(f"the temporary directory {work} is inside the checkout; set TMPDIR elsewhere")
    try:
        dist = (options.source or options.out or work / "dist").resolve()
        if options.source is None:
            _build_dist(session, dist)
        wheel_file = _only(session, dist, "*.whl")
        _only(session, dist, "*.tar.gz")
        _check_package_data(session, wheel_file)
        venv = work / "venv"
        _fresh_venv(session, venv, wheel_file, dist / _LOCK_EXPORT)
        _run_outside_the_tree(session, work, venv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


_LOCK_EXPORT = "requirements.lock.txt"
_UV_ENV: dict[str, str | None] = {"UV_PYTHON_DOWNLOADS": "never"}


def _build_dist(session: nox.Session, dist: Path) -> None:
    # The template's export of uv.lock is the one requirements.lock.txt: a test keeps it fresh,
    # deployment roots install from it, and the release attaches this same file.
    import shutil

    from schnitzel_stream.deploy.lock_export import TEMPLATE_LOCK

    # `uv build` makes the sdist first and then the wheel *from the sdist*, so a file the sdist
    # forgets breaks the wheel here rather than on a user's machine.
    session.run("uv", "build", "--clear", "--out-dir", str(dist), external=True, env=_UV_ENV)
    shutil.copyfile(ROOT / TEMPLATE_LOCK, dist / _LOCK_EXPORT)


def _only(session: nox.Session, directory: Path, pattern: str) -> Path:
    found = sorted(directory.glob(pattern))
    if len(found) != 1:
        session.error(f"expected exactly one {pattern} in {directory}, found {[p.name for p in found]}")
    return found[0]


def _check_package_data(session: nox.Session, wheel_file: Path) -> None:
    """Every file of the package in the checkout (schemas, demo graphs, ...) is in the wheel."""
    import zipfile

    src = ROOT / "src"
    in_checkout = {
        p.relative_to(src).as_posix()
        for p in (src / "schnitzel_stream").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    with zipfile.ZipFile(wheel_file) as archive:
        missing = sorted(in_checkout - set(archive.namelist()))
    if missing:
        session.error(f"{wheel_file.name} lacks files of the package: {', '.join(missing)}")
    session.log(f"{wheel_file.name}: all {len(in_checkout)} package files present")


def _venv_bin(venv: Path, name: str) -> Path:
    import sys

    if sys.platform == "win32":
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


def _fresh_venv(session: nox.Session, venv: Path, wheel_file: Path, lock_export: Path) -> None:
    """A venv with the locked, hash-checked dependencies, then the wheel alone (``--no-deps``)."""
    import sys

    session.run("uv", "venv", "--python", sys.executable, str(venv), external=True, env=_UV_ENV)
    python = _venv_bin(venv, "python")
    pip = ["uv", "pip", "install", "--python", str(python)]
    session.run(*pip, "--require-hashes", "-r", str(lock_export), external=True, env=_UV_ENV)
    session.run(*pip, "--no-deps", str(wheel_file), external=True, env=_UV_ENV)
    session.run("uv", "pip", "check", "--python", str(python), external=True, env=_UV_ENV)


def _run_outside_the_tree(session: nox.Session, work: Path, venv: Path) -> None:
    import json
    import shutil

    import yaml

    graphs = work / "graphs"
    shutil.copytree(ROOT / "ops" / "graphs", graphs, ignore=shutil.ignore_patterns("__pycache__"))
    # The reference graph with its camera cut to 100 frames.
    reference = yaml.safe_load((graphs / "synthetic_camera.yaml").read_text(encoding="utf-8"))
    camera = next(node for node in reference["nodes"] if node["plugin"] == "synthetic_camera")
    camera["config"]["frames"] = 100
    sink = next(node for node in reference["nodes"] if node["plugin"] == "jsonl_sink")
    run_graph = work / "synthetic_100.yaml"
    run_graph.write_text(yaml.safe_dump(reference, sort_keys=False), encoding="utf-8")

    state, report = work / "state", work / "report.json"
    env: dict[str, str | None] = {
        "PYTHONPATH": None,  # nothing from the checkout may leak in
        "SCHNITZEL_STREAM_CONFIG_DIR": str(work / "config"),
        "SCHNITZEL_STREAM_STATE_DIR": str(state),
        "SCHNITZEL_STREAM_LOGS_DIR": str(work / "logs"),
    }
    exe = str(_venv_bin(venv, "schnitzel-stream"))
    with session.chdir(work):
        where = session.run(
            str(_venv_bin(venv, "python")),
            "-c",
            "import schnitzel_stream; print(schnitzel_stream.__file__)",
            external=True,
            env=env,
            silent=True,
        )
        imported = Path(str(where).strip().splitlines()[-1]).resolve()
        if not imported.is_relative_to(venv.resolve()):
            session.error(f"schnitzel_stream was imported from {imported}, not from the fresh venv")
        session.run(exe, "--version", external=True, env=env)
        session.run(exe, "validate", "graphs", external=True, env=env)
        session.run(exe, "run", str(run_graph), "--report-json", str(report), external=True, env=env)
    result = json.loads(report.read_text(encoding="utf-8"))
    frames = result["nodes"][camera["id"]]["out"]
    events = Path(sink["config"]["path"].replace("${state}", str(state)))
    lines = events.read_text(encoding="utf-8").splitlines() if events.is_file() else []
    if result["reason"] != "completed" or frames != 100 or not lines:
        session.error(f"synthetic run: reason={result['reason']} frames={frames} events={len(lines)}")
    session.log(f"synthetic run from the wheel: {frames} frames, {len(lines)} events in {events}")


@nox.session
def template(session: nox.Session) -> None:
    """The deployment template: render every OS x scope x profile with copier and check each root.

    validate --deployment on every root, systemd-analyze verify/security on the Linux units,
    the plist and Task Scheduler XML parsed, copier update in a temporary git copy, and the
    Linux root's service command run from a venv built from its requirements.lock.txt.
    """
    _sync(session)
    args = session.posargs or [
        "tests/template",
        *sorted(str(p) for p in ROOT.glob("tests/e2e/test_deployment_*.py")),
    ]
    session.run("pytest", "-n", _workers(), "--dist", "loadgroup", *args)


@nox.session(venv_backend="none")
def lock_export(session: nox.Session) -> None:
    """Regenerate the template's requirements.lock.txt: the hash-pinned, runtime-only export of uv.lock."""
    from schnitzel_stream.deploy.lock_export import EXPORT_COMMAND, TEMPLATE_LOCK

    text = session.run(*EXPORT_COMMAND, external=True, silent=True, env={"UV_PYTHON_DOWNLOADS": "never"})
    if not isinstance(text, str) or "--hash=" not in text:
        session.error("uv export produced no hash-pinned requirements")
    (ROOT / TEMPLATE_LOCK).write_text(text, encoding="utf-8", newline="\n")
    session.log(f"wrote {TEMPLATE_LOCK}")


#: The dev tools the unit tests need; the rest of the dev group (linters, copier, ...) is not
#: needed to prove the runtime's lower bounds.
_MINIMUM_TEST_TOOLS = ("pytest", "pytest-xdist", "hypothesis")


@nox.session
def minimums(session: nox.Session) -> None:
    """The unit tests against the lowest versions pyproject.toml allows (uv ``lowest-direct``).

    Every runtime dependency and the test tools are resolved to their declared lower bounds,
    so a bound that is too low fails here instead of on a user's machine. The session's
    environment is built from pyproject.toml, not uv.lock, on purpose.
    """
    tools = [
        requirement
        for requirement in PYPROJECT["dependency-groups"]["dev"]
        if requirement.split(">")[0].split("=")[0].strip() in _MINIMUM_TEST_TOOLS
    ]
    session.run_install(
        "uv",
        "pip",
        "install",
        "--python",
        session.virtualenv.location,
        "--resolution",
        "lowest-direct",
        "--reinstall",
        "--editable",
        ".",
        *tools,
        env={"UV_PYTHON_DOWNLOADS": "never"},
    )
    session.run("uv", "pip", "list", "--python", session.virtualenv.location, external=True)
    session.run("pytest", "-n", _workers(), "-m", _NOT_SLOW, *(session.posargs or ["tests/unit"]))


@nox.session
def lifecycle(session: nox.Session) -> None:
    """The deployment lifecycle under this OS's real service manager (ops/ci/lifecycle.py).

    Render, bundle, install offline, kill -9, invalid graph, upgrade, automatic and manual
    rollback, graceful stop, uninstall. On Linux without systemd as PID 1 (a CI container) it
    boots a systemd box (needs root and systemd-container); elsewhere it uses the machine's own
    manager, with sudo where it is not root. Posargs go to the driver.
    """
    import sys

    _sync(session)
    args = list(session.posargs)
    if sys.platform.startswith("linux") and not Path("/run/systemd/system").is_dir() and "--box" not in args:
        args.append("--box")
    if "--cache" not in args:
        from schnitzel_stream.deploy.bundle import default_cache_dir

        args += ["--cache", str(default_cache_dir())]
    session.run("python", str(ROOT / "ops" / "ci" / "lifecycle.py"), *args)


@nox.session
def chaos(session: nox.Session) -> None:
    """Chaos scenarios against the real system, one at a time, ending with a summary table.

    Kill and restart, backend faults and outage, camera outages, broker restart, disk full,
    a corrupt queue, stop under load, the watchdog, and 20,000 fuzzed graphs.
    ``SCHNITZEL_STREAM_CHAOS_SHORT=1`` bounds the pass to a few minutes (what .ci/run runs).
    """
    _sync(session)
    short = os.environ.get("SCHNITZEL_STREAM_CHAOS_SHORT", "") not in ("", "0")
    fuzz = "2000" if short else "20000"
    args = session.posargs or ["tests/chaos", "tests/unit/test_fuzz_loader.py"]
    session.run(
        "pytest",
        "-p",
        "no:xdist",
        "-s",
        "-m",
        "chaos or not soak",
        *args,
        env={"SCHNITZEL_STREAM_FUZZ_EXAMPLES": os.environ.get("SCHNITZEL_STREAM_FUZZ_EXAMPLES", fuzz)},
    )


@nox.session
def soak(session: nox.Session) -> None:
    """The synthetic durable graph in real time for SCHNITZEL_STREAM_SOAK_MINUTES (default 10),
    sampling RSS, open descriptors and threads every 10 s; fails on growth."""
    _sync(session)
    session.run("pytest", "-p", "no:xdist", "-s", "-m", "soak", *(session.posargs or ["tests/soak"]))
