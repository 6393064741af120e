"""What a Linux root's install.sh refuses before it changes anything, run for real.

It never fetches schnitzel-stream by name: without a bundle it stops and says how to make
one. It refuses an interpreter the hardened unit cannot run (a home directory, /tmp) and one
the bundle was not made for. In each case nothing is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.clone import service_python
from tests.template._support import answers, copy_template, render


def _root(tmp_path: Path) -> tuple[Path, Path]:
    install_dir = tmp_path / "opt" / "edge-1"
    root = render(
        copy_template(tmp_path / "template"),
        tmp_path / "root",
        answers("linux", "portable", "synthetic_demo", install_dir=str(install_dir)),
    )
    return root, install_dir


def _install(root: Path, python: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHNITZEL_")}
    return subprocess.run(
        ["sh", str(root / "install.sh"), "--no-service"],
        capture_output=True, text=True, timeout=300, check=False, env={**env, "PYTHON": python},
    )  # fmt: skip


def test_without_a_bundle_it_says_how_to_make_one_and_installs_nothing(tmp_path: Path) -> None:
    root, install_dir = _root(tmp_path)
    done = _install(root, service_python())
    assert done.returncode == 1
    assert f"schnitzel-stream bundle {root}" in done.stderr
    assert "SCHNITZEL_STREAM_PACKAGE=" in done.stderr
    assert not (install_dir / "versions").exists()


def test_an_interpreter_the_hardened_unit_cannot_see_is_refused(tmp_path: Path) -> None:
    root, install_dir = _root(tmp_path)
    # The test's temporary directory is under /tmp, which the unit's PrivateTmp= hides: a copy
    # of the interpreter there is what a Python under /root or /home is to ProtectHome=.
    hidden = Path("/tmp") / f"ss-hidden-python-{os.getpid()}"
    hidden.mkdir(exist_ok=True)
    try:
        python = hidden / "python3"
        shutil.copy2(os.path.realpath(sys.executable), python)
        done = _install(root, str(python))
    finally:
        shutil.rmtree(hidden, ignore_errors=True)
    assert done.returncode == 1
    assert f"PYTHON={python} cannot run the service" in done.stderr
    assert "which the service cannot see" in done.stderr
    assert not (install_dir / "versions").exists()


def test_an_interpreter_the_bundle_was_not_made_for_is_refused(tmp_path: Path) -> None:
    root, install_dir = _root(tmp_path)
    wheels = root / "wheels"
    wheels.mkdir()
    manifest = {"python": "3.99", "project": {"version": "0.1.0", "sha256": "0" * 64}}
    (wheels / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (wheels / "project.txt").write_text("schnitzel-stream==0.1.0 --hash=sha256:" + "0" * 64 + "\n")
    done = _install(root, service_python())
    assert done.returncode == 1
    assert "but the bundle is for Python 3.99 (schnitzel-stream bundle --python" in done.stderr
    assert not (install_dir / "versions").exists()
