"""A git clone of this repository as a template source: what a user renders a root from.

Roots rendered from it record ``_commit`` and ``_src_path``, so ``schnitzel-stream bundle`` can
build the project wheel of that commit. The clone's copy of the known test secrets is declared
to the secret scan (the declaration file is excluded from git, so the clone stays clean and
copier does not mistake it for uncommitted template changes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.secrets import ALLOW_MARKER, allow_secret_file

REPO_ROOT = Path(__file__).resolve().parents[2]


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=300)
    return done.stdout.strip()


def clone_repository(target: Path, source: Path = REPO_ROOT) -> Path:
    """``git clone`` of ``source`` (its HEAD) at ``target``."""
    git("clone", "--quiet", str(source), str(target), cwd=source)
    allow_secret_file(target / "tests" / "support" / "secrets.py")
    with (target / ".git" / "info" / "exclude").open("a", encoding="utf-8") as exclude:
        exclude.write(f"{ALLOW_MARKER}\n")
    return target


def service_python() -> str:
    """A base interpreter a hardened unit can run: the OS's own when it is 3.11 or later
    (the test's may live in a home directory, which ProtectHome= hides), else the test's."""
    system = Path("/usr/bin/python3")
    if sys.platform.startswith("linux") and system.is_file() and shutil.which(str(system)):
        done = subprocess.run(
            [str(system), "-I", "-c", "import sys; print(sys.version_info >= (3, 11))"],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        if done.stdout.strip() == "True":
            return str(system)
    return sys.executable


def installed_version(install_dir: Path, lock: Path, name: str = "0.0.0-test") -> Path:
    """A complete installed version at ``<install_dir>/versions/NAME`` and ``previous`` linked to it,
    as an earlier install.sh leaves them: a virtual environment on :func:`service_python` with
    the root's locked dependencies and this checkout (editable). ``install.sh --rollback`` can
    then switch to it and validate the root with it, as it does on a device."""
    import os

    target = install_dir / "versions" / name
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    uv = ["uv", "pip", "install", "--quiet", "--python", str(target / "bin" / "python")]
    subprocess.run(
        ["uv", "venv", "--quiet", "--python", service_python(), str(target)], check=True, env=env, timeout=300
    )
    subprocess.run([*uv, "--require-hashes", "--no-deps", "-r", str(lock)], check=True, env=env, timeout=600)
    subprocess.run([*uv, "--no-deps", "-e", str(REPO_ROOT)], check=True, env=env, timeout=600)
    (target / ".complete").write_text("", encoding="utf-8")
    (install_dir / "previous").symlink_to(Path("versions") / name)
    return target
