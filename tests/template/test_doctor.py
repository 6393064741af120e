"""`schnitzel-stream doctor`: one line per check, a fix hint for every failure, real sockets."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import free_port
from tests.template._support import answers, cli, render


@pytest.fixture
def http_port() -> Iterator[int]:
    """A real HTTP server on a free loopback port (the backend doctor connects to)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = cli("doctor", "--format", "json", *args, env=env)
    return result.returncode, json.loads(result.stdout)


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def _portable_root(template_dir: Path, tmp_path: Path, backend_url: str) -> Path:
    data = answers(
        "linux",
        "portable",
        "synthetic_to_http_durable",
        install_dir=str(tmp_path / "opt"),
        backend_url=backend_url,
    )
    return render(template_dir, tmp_path / "root", data)


def test_network_reachable_and_not(template_dir: Path, tmp_path: Path, http_port: int) -> None:
    root = _portable_root(template_dir, tmp_path, f"http://127.0.0.1:{http_port}/ingest")
    code, report = _doctor("--deployment", str(root), "--network", "--timeout", "1")
    checks = _by_name(report)
    assert checks["backend (http_sink)"]["status"] == "ok", checks
    assert f"127.0.0.1:{http_port}" in checks["backend (http_sink)"]["detail"]
    for name in ("python", "packages", "opencv", "config dir", "state dir", "logs dir", "disk", "deployment"):
        assert checks[name]["status"] in ("ok", "warn"), checks[name]
    assert code == 0
    assert report["ok"] is True

    closed = free_port()  # nothing listens here
    _edit_backend(root, http_port, closed)
    code, report = _doctor("--deployment", str(root), "--network", "--timeout", "1")
    backend = _by_name(report)["backend (http_sink)"]
    assert code == 1
    assert report["ok"] is False
    assert backend["status"] == "fail"
    assert f"127.0.0.1:{closed}" in backend["detail"]
    assert "firewall" in backend["hint"]


def _edit_backend(root: Path, old: int, new: int) -> None:
    """The backend URL is a per-device value: it lives in the env file."""
    env = root / "config" / "schnitzel-stream.env"
    text = env.read_text(encoding="utf-8")
    assert f":{old}/" in text
    env.write_text(text.replace(f":{old}/", f":{new}/"), encoding="utf-8")


def test_camera_credentials_are_masked(template_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    data = answers(
        "linux",
        "portable",
        "rtsp_to_http_durable",
        install_dir=str(tmp_path / "opt"),
        camera_url=f"rtsp://127.0.0.1:{port}/cam",
    )
    root = render(template_dir, tmp_path / "root", data)
    result = cli("doctor", "--deployment", str(root), "--network", "--timeout", "1")
    assert result.returncode == 1
    assert "FAIL  cam (rtsp_camera)" in result.stdout
    camera_fix = result.stdout.split("FAIL  cam (rtsp_camera)", 1)[1].splitlines()[1]
    assert "fix: check the camera's address" in camera_fix
    assert "queue" not in camera_fix  # a queue does not help a camera that is away
    assert "p%40ss" not in result.stdout  # the camera password never reaches the output
    assert "admin:***@" in result.stdout


def test_notify_socket_and_paths(tmp_path: Path) -> None:
    unwritable_parent = tmp_path / "file"
    unwritable_parent.write_text("not a directory", encoding="utf-8")
    code, report = _doctor(
        "--scope",
        "portable",
        "--root",
        str(tmp_path / "portable"),
        "--state-dir",
        str(unwritable_parent),
        env={"NOTIFY_SOCKET": str(tmp_path / "missing.sock")},
    )
    checks = _by_name(report)
    assert code == 1
    assert checks["notify socket"]["status"] == "fail"
    assert "unset NOTIFY_SOCKET" in checks["notify socket"]["hint"]
    assert checks["state dir"]["status"] == "fail"
    assert checks["config dir"]["status"] == "ok"
    assert "network" not in checks

    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        code, report = _doctor(
            "--scope", "portable", "--root", str(tmp_path / "p2"), env={"NOTIFY_SOCKET": str(sock_path)}
        )
    assert _by_name(report)["notify socket"]["status"] == "ok"
    assert code == 0


def test_text_table(tmp_path: Path) -> None:
    result = cli("doctor", "--scope", "portable", "--root", str(tmp_path), "--network")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok    python")
    assert any(line.startswith("ok    opencv") and "FFMPEG" in line for line in lines)
    assert any(line.startswith("skip  network") for line in lines)
    assert lines[-1].endswith("warnings")
    assert result.returncode == 0


def test_a_deployment_warning_names_what_it_found_and_how_to_fix_it(
    template_dir: Path, tmp_path: Path
) -> None:
    root = _portable_root(template_dir, tmp_path, "http://127.0.0.1:9/ingest")
    (root / "config" / "schnitzel-stream.env").chmod(0o644)  # holds a token: validate warns
    _, report = _doctor("--deployment", str(root))
    deployment = _by_name(report)["deployment"]
    assert deployment["status"] == "warn", deployment
    assert "mode is 0644" in deployment["detail"]  # what was found, not just "1 warning"
    assert "chmod 600" in deployment["hint"]  # the warning's own fix
    text = cli("doctor", "--deployment", str(root)).stdout
    line = next(line for line in text.splitlines() if line.startswith("WARN  deployment"))
    fix = text.splitlines()[text.splitlines().index(line) + 1]
    assert "fix: chmod 600" in fix
    for check in report["checks"]:
        if check["status"] in ("warn", "fail"):
            assert check.get("hint"), check
