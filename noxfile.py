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
    """Unit, integration (real SQLite, HTTP, RTSP, MQTT) and end-to-end tests, in parallel."""
    _sync(session)
    args = session.posargs or ["tests", "-m", "not chaos and not soak"]
    session.run("pytest", "-n", _workers(), "--dist", "loadgroup", *args)


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
