"""The Linux units: `systemd-analyze verify` passes and `security --offline=true` scores 1.5 or less.

`verify` needs the ExecStart= interpreter to exist, so each root is rendered with an install
directory whose ``venv`` is the interpreter running the tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from schnitzel_stream.deploy.service_files import parse_unit, split_command
from tests.template._support import answers, render

MAX_EXPOSURE = 1.5
_SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def _render_linux(template_dir: Path, tmp_path: Path, scope: str) -> Path:
    install_dir = tmp_path / "opt" / "edge-1"
    install_dir.mkdir(parents=True)
    (install_dir / "venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    data = answers(
        "linux", scope, "synthetic_to_http_durable", install_dir=str(install_dir), restart_delay_sec=7
    )
    if scope == "user":
        data["user_home"] = str(tmp_path / "home" / "edge")
    root = render(template_dir, tmp_path / "root", data)
    return root / "schnitzel-stream-edge-1.service"


def _analyze(tmp_path: Path, scope: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    user = ["--user"] if scope == "user" else []
    if scope == "user":
        # The user manager's runtime directory: systemd-analyze only needs it to exist. It is
        # short, because the stock user units put socket paths (108 bytes at most) inside it.
        runtime = Path(tempfile.mkdtemp(prefix="xdg-"))
        env["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        return subprocess.run(
            ["systemd-analyze", *user, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    finally:
        if scope == "user":
            shutil.rmtree(env["XDG_RUNTIME_DIR"], ignore_errors=True)


@pytest.mark.parametrize("scope", [pytest.param(s, id=s) for s in ("system", "user", "portable")])
def test_unit_verifies_and_is_hardened(template_dir: Path, tmp_path: Path, scope: str) -> None:
    unit = _render_linux(template_dir, tmp_path, scope)

    verify = _analyze(tmp_path, scope, "verify", str(unit))
    assert verify.returncode == 0, verify.stderr
    # Only the stock units of the machine may have something to say, never ours.
    assert unit.name not in verify.stderr, verify.stderr

    security = _analyze(tmp_path, scope, "security", "--offline=true", str(unit))
    match = _SCORE.search(security.stdout)
    assert match, security.stdout + security.stderr
    score = float(match.group(1))
    assert score <= MAX_EXPOSURE, f"exposure {score} > {MAX_EXPOSURE}:\n{security.stdout}"


@pytest.mark.parametrize("scope", [pytest.param(s, id=s) for s in ("system", "user", "portable")])
def test_unit_settings(template_dir: Path, tmp_path: Path, scope: str) -> None:
    path = _render_linux(template_dir, tmp_path, scope)
    unit = parse_unit(path.read_text(encoding="utf-8"), str(path))
    assert unit.problems == ()

    def value(key: str, section: str = "Service") -> str | None:
        entry = unit.last(section, key)
        return entry.value if entry else None

    assert value("Type") == "notify"
    assert value("Restart") == "on-failure"
    assert value("RestartSec") == "7"
    assert value("RestartPreventExitStatus") == "78"
    assert value("WatchdogSec") == "30"
    # Start limits belong in [Unit]; systemd ignores them in [Service].
    assert value("StartLimitIntervalSec", "Unit") == "300"
    assert value("StartLimitIntervalSec") is None
    install_dir = tmp_path / "opt" / "edge-1"
    start = split_command(value("ExecStart") or "")
    assert start is not None
    # Isolated (-I): the working directory is the writable state directory, never on sys.path.
    python = [f"{install_dir}/venv/bin/python", "-I", "-B", "-u", "-m", "schnitzel_stream"]
    assert start[:6] == python
    # No ExecStartPre=: RestartPreventExitStatus= would not govern it; the runtime exits 78 itself.
    assert value("ExecStartPre") is None
    assert value("NoNewPrivileges") == "yes"
    assert value("ProtectSystem") == "strict"
    if scope == "user":
        assert value("User") is None
        assert value("WantedBy", "Install") == "default.target"
        assert value("ProtectHome") == "read-only"
        home = tmp_path / "home" / "edge"
        assert value("ReadWritePaths") == (
            f"{home}/.local/state/schnitzel-stream/edge-1 {home}/.local/state/schnitzel-stream/edge-1/logs"
        )
    else:
        assert value("User") == "schnitzel"
        assert value("WantedBy", "Install") == "multi-user.target"
    if scope == "system":
        assert value("StateDirectory") == "schnitzel-stream/edge-1"
        assert value("EnvironmentFile") == "/etc/schnitzel-stream/edge-1/schnitzel-stream.env"
    if scope == "portable":
        assert value("ReadWritePaths") == f"{install_dir}/state {install_dir}/logs"
        assert value("EnvironmentFile") == f"{install_dir}/config/schnitzel-stream.env"


def test_unhardened_unit_scores_worse(template_dir: Path, tmp_path: Path) -> None:
    """The score assertion can fail: the same unit without its hardening block is exposed."""
    unit = _render_linux(template_dir, tmp_path, "system")
    text = unit.read_text(encoding="utf-8")
    unit.write_text(
        text.split("# Hardening")[0] + "\n[Install]\nWantedBy=multi-user.target\n", encoding="utf-8"
    )
    security = _analyze(tmp_path, "system", "security", "--offline=true", str(unit))
    match = _SCORE.search(security.stdout)
    assert match
    assert float(match.group(1)) > 5.0


def test_verify_fails_without_the_interpreter(template_dir: Path, tmp_path: Path) -> None:
    """The verify assertion can fail: a unit whose ExecStart= interpreter is missing is refused."""
    unit = _render_linux(template_dir, tmp_path, "system")
    (tmp_path / "opt" / "edge-1" / "venv").unlink()
    verify = _analyze(tmp_path, "system", "verify", str(unit))
    assert verify.returncode != 0
    assert "venv/bin/python" in verify.stderr
