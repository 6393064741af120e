"""The template refuses bad answers before it writes anything (copier's `validator`s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.template._support import REPO_ROOT, render

REJECTED = [
    pytest.param({"deployment_name": "../../etc"}, "deployment_name", id="name-traversal"),
    pytest.param({"deployment_name": "edge;rm -rf /"}, "deployment_name", id="name-shell-metachar"),
    pytest.param({"deployment_name": "edge$(id)"}, "deployment_name", id="name-command-substitution"),
    pytest.param({"deployment_name": "Edge"}, "deployment_name", id="name-uppercase"),
    pytest.param({"deployment_name": "-edge"}, "deployment_name", id="name-leading-dash"),
    pytest.param({"deployment_name": "edge\n"}, "deployment_name", id="name-newline"),
    pytest.param({"deployment_name": "e" * 64}, "deployment_name", id="name-too-long"),
    pytest.param({"deployment_name": ""}, "deployment_name", id="name-empty"),
    pytest.param({"install_dir": "opt/schnitzel"}, "install_dir", id="install-relative"),
    pytest.param({"install_dir": "/opt/../etc"}, "install_dir", id="install-dotdot"),
    pytest.param({"install_dir": "/opt/my dir"}, "install_dir", id="install-space-on-linux"),
    pytest.param({"install_dir": "/opt/$HOME"}, "install_dir", id="install-dollar"),
    pytest.param({"install_dir": "/etc"}, "install_dir", id="install-system-dir"),
    pytest.param({"install_dir": r"C:\SchnitzelStream"}, "install_dir", id="install-windows-path-on-linux"),
    pytest.param(
        {"target_os": "windows", "install_dir": "/opt/x"}, "install_dir", id="install-posix-on-windows"
    ),
    pytest.param(
        {"target_os": "windows", "install_dir": "C:relative"}, "install_dir", id="install-drive-relative"
    ),
    pytest.param(
        {"target_os": "windows", "install_dir": 'C:\\a"b'}, "install_dir", id="install-quote-on-windows"
    ),
    pytest.param({"scope": "user", "user_home": "~/edge"}, "user_home", id="home-tilde"),
    pytest.param({"service_user": "root"}, "service_user", id="user-root"),
    pytest.param({"service_user": "edge user"}, "service_user", id="user-space"),
    pytest.param({"target_os": "solaris"}, "target_os", id="os-unknown"),
    pytest.param({"scope": "global"}, "scope", id="scope-unknown"),
    pytest.param({"restart_delay_sec": 0}, "restart_delay_sec", id="restart-zero"),
    pytest.param({"watchdog_sec": 2}, "watchdog_sec", id="watchdog-too-short"),
    pytest.param({"log_max_mb": 5000}, "log_max_mb", id="log-too-large"),
    pytest.param(
        {"graph_profile": "rtsp_to_http_durable", "camera_url": "rtsp://admin:hunter2@10.0.0.5/stream"},
        "camera_url",
        id="camera-url-credentials",
    ),
    pytest.param(
        {"graph_profile": "rtsp_to_http_durable", "camera_url": "http://10.0.0.5/stream"},
        "camera_url",
        id="camera-url-scheme",
    ),
    pytest.param(
        {
            "graph_profile": "synthetic_to_http_durable",
            "backend_url": "https://user:pw@events.example.com/in",
        },
        "backend_url",
        id="backend-url-credentials",
    ),
    pytest.param(
        {
            "graph_profile": "synthetic_to_http_durable",
            "backend_url": "https://events.example.com/in?token=abc",
        },
        "backend_url",
        id="backend-url-token-query",
    ),
    pytest.param(
        {"graph_profile": "synthetic_to_http_durable", "backend_url": "events.example.com/in"},
        "backend_url",
        id="backend-url-no-scheme",
    ),
    pytest.param(
        {"graph_profile": "synthetic_to_mqtt", "mqtt_url": "mqtt://broker.example.com"},
        "mqtt_url",
        id="mqtt-url-no-port",
    ),
    pytest.param(
        {"graph_profile": "synthetic_to_mqtt", "mqtt_url": "mqtt://edge:pw@broker:1883"},
        "mqtt_url",
        id="mqtt-url-credentials",
    ),
    pytest.param(
        {"graph_profile": "rtsp_to_http_durable", "camera_password": "line\nbreak"},
        "camera_password",
        id="secret-newline",
    ),
    pytest.param(
        {"graph_profile": "synthetic_to_http_durable", "backend_token": "two words"},
        "backend_token",
        id="token-space",
    ),
]


@pytest.mark.parametrize(("data", "question"), REJECTED)
def test_rejected(template_dir: Path, tmp_path: Path, data: dict[str, Any], question: str) -> None:
    dst = tmp_path / "root"
    with pytest.raises(ValueError, match=f"(question|choice for) '{question}'"):
        render(template_dir, dst, data)
    assert not dst.exists() or not any(dst.iterdir()), "nothing may be written for a rejected answer"


ACCEPTED = [
    pytest.param({"deployment_name": "a"}, id="name-one-char"),
    pytest.param({"deployment_name": "gate-3-north"}, id="name-dashes"),
    pytest.param({"target_os": "windows", "install_dir": r"C:\Program Files (x86)\Edge"}, id="program-files"),
    pytest.param(
        {
            "target_os": "windows",
            "scope": "portable",
            "install_dir": r"C:\Users\RUNNER~1\AppData\Local\Temp\e1",
        },
        id="windows-short-name",
    ),
    pytest.param(
        {"target_os": "macos", "scope": "user", "user_home": "/Users/edge ops"}, id="mac-home-space"
    ),
    pytest.param(
        {"graph_profile": "rtsp_to_http_durable", "camera_url": "rtsps://[fd00::5]:8554/live/1"},
        id="camera-ipv6",
    ),
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_accepted(template_dir: Path, tmp_path: Path, data: dict[str, Any]) -> None:
    root = render(template_dir, tmp_path / "root", data)
    assert (root / ".copier-answers.yml").is_file()


def test_cli_rejects_with_a_message(template_dir: Path, tmp_path: Path) -> None:
    """The copier CLI, as an operator runs it: a non-zero exit naming the question."""
    dst = tmp_path / "root"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--data",
            "deployment_name=../../etc",
            str(template_dir),
            str(dst),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode != 0
    assert "deployment_name" in result.stderr + result.stdout
    assert not (dst / ".copier-answers.yml").exists()
