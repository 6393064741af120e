"""The macOS roots: the launchd plist parses with plistlib and holds what launchd needs."""

from __future__ import annotations

import plistlib
import subprocess
from pathlib import Path

import pytest

from tests.template._support import SECRETS, answers, render

LABEL = "dev.schnitzel-stream.edge-1"


def _render(template_dir: Path, tmp_path: Path, scope: str) -> Path:
    data = answers("macos", scope, "rtsp_to_http_durable", restart_delay_sec=12, log_max_mb=25)
    if scope == "user":
        data["user_home"] = "/Users/edge ops"
    return render(template_dir, tmp_path / "root", data)


@pytest.mark.parametrize("scope", [pytest.param(s, id=s) for s in ("system", "user", "portable")])
def test_plist_keys(template_dir: Path, tmp_path: Path, scope: str) -> None:
    root = _render(template_dir, tmp_path, scope)
    raw = (root / f"{LABEL}.plist").read_bytes()
    plist = plistlib.loads(raw)

    config, state, logs, install = {
        "system": (
            "/usr/local/etc/schnitzel-stream/edge-1",
            "/usr/local/var/lib/schnitzel-stream/edge-1",
            "/usr/local/var/log/schnitzel-stream/edge-1",
            "/usr/local/lib/schnitzel-stream/edge-1",
        ),
        "user": (
            "/Users/edge ops/Library/Application Support/schnitzel-stream/edge-1/config",
            "/Users/edge ops/Library/Application Support/schnitzel-stream/edge-1/state",
            "/Users/edge ops/Library/Logs/schnitzel-stream/edge-1",
            "/Users/edge ops/Library/Application Support/schnitzel-stream/edge-1",
        ),
        "portable": (
            "/usr/local/lib/schnitzel-stream/edge-1/config",
            "/usr/local/lib/schnitzel-stream/edge-1/state",
            "/usr/local/lib/schnitzel-stream/edge-1/logs",
            "/usr/local/lib/schnitzel-stream/edge-1",
        ),
    }[scope]
    assert plist["Label"] == LABEL
    # One list element per argument: a path with spaces needs no quoting here.
    assert plist["ProgramArguments"] == [
        f"{install}/venv/bin/python",
        "-I",  # isolated: the writable working directory is never on sys.path
        "-B",
        "-u",
        "-m",
        "schnitzel_stream",
        # The service host: exit 0 for an invalid graph, so KeepAlive does not restart it.
        "service",
        "run",
        "--name",
        LABEL,
        "--host-log",
        f"{logs}/service-host.log",
        "--pid-file",
        f"{state}/runtime.pid",
        "--cwd",
        state,
        "--stop-timeout",
        "15",
        "--exit-0-when-invalid",
        "--",
        "--env-file",
        f"{config}/schnitzel-stream.env",
        "--graph",
        f"{config}/graph.yaml",
        "--log-file",
        "auto",
        "--log-max-mb",
        "25",
    ]
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["RunAtLoad"] is True
    assert plist["ThrottleInterval"] == 12
    assert plist["WorkingDirectory"] == state
    assert plist["StandardOutPath"] == f"{logs}/launchd.out.log"
    assert plist["StandardErrorPath"] == f"{logs}/launchd.err.log"
    env = plist["EnvironmentVariables"]
    assert env["SCHNITZEL_STREAM_SCOPE"] == scope
    assert (
        env["SCHNITZEL_STREAM_CONFIG_DIR"],
        env["SCHNITZEL_STREAM_STATE_DIR"],
        env["SCHNITZEL_STREAM_LOGS_DIR"],
    ) == (
        config,
        state,
        logs,
    )
    if scope == "user":
        assert "UserName" not in plist
    else:
        assert plist["UserName"] == "_schnitzel"
    # The secrets stay in the env file: the plist is readable by every local user.
    text = raw.decode("utf-8")
    assert all(secret not in text for secret in SECRETS.values())
    assert "SCHNITZEL_CAMERA_URL" not in env


@pytest.mark.parametrize("scope", [pytest.param(s, id=s) for s in ("system", "user")])
def test_install_scripts_use_bootstrap_and_bootout(template_dir: Path, tmp_path: Path, scope: str) -> None:
    root = _render(template_dir, tmp_path, scope)
    install = (root / "install.sh").read_text(encoding="utf-8")
    uninstall = (root / "uninstall.sh").read_text(encoding="utf-8")
    domain = '"gui/$(id -u)"' if scope == "user" else "system"
    assert f"DOMAIN={domain}" in install
    assert 'launchctl bootstrap "$DOMAIN" "$PLIST_DIR/$PLIST"' in install
    assert 'launchctl bootout "$DOMAIN/$LABEL"' in install
    assert 'launchctl bootout "$DOMAIN/$LABEL"' in uninstall
    assert "--require-hashes" in install
    for script in ("install.sh", "uninstall.sh"):
        syntax = subprocess.run(["sh", "-n", str(root / script)], capture_output=True, text=True, check=False)
        assert syntax.returncode == 0, syntax.stderr
    assert (root / "install.sh").stat().st_mode & 0o111
