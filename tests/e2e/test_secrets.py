"""Secrets reach only env files: never a log line, a report, a rendered file or the answers file.

The known test secrets (``tests/support/secrets.py``) are in play the way an operator uses
them: a camera URL with its password (``url_from_env``), a backend token
(``headers_from_env``) and an MQTT password (``password_from_env``), given through
``--env-file`` and through the process environment (systemd's ``EnvironmentFile=``). The
camera and the broker are unreachable and the backend echoes every secret in its error
answers, so the error paths run too. Every artifact the CLI produces is then searched for
the secrets: log files (text and JSON), captured stdout/stderr, run reports, validate reports
in every format, queue files, a rendered deployment root with the secrets given as copier
answers, and the output of ``validate --deployment`` and ``doctor``.

Beyond these tests, ``tests/support/secret_scan.py`` searches every file the whole session
wrote, and the env files the tests write here are ``*.env`` files, the one allowed place.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from schnitzel_stream.deploy.envfile import read_env_file
from tests.support.clone import installed_version
from tests.support.http_backend import LocalBackend, running_backend
from tests.support.net import free_port
from tests.support.proc import cli_command
from tests.support.secret_scan import scan_tree
from tests.support.secrets import (
    BACKEND_TOKEN,
    CAMERA_PASSWORD,
    KNOWN_SECRETS,
    MQTT_PASSWORD,
    allow_secret_file,
    find_secrets,
)
from tests.template._support import copy_template

_SCRUB = ("SCHNITZEL_STREAM_PLUGIN_ALLOWLIST", "PYTHONPATH", "NO_COLOR", "FORCE_COLOR")
#: A backend that echoes the credentials it "rejects", as real ones sometimes do.
_ECHO = f"rejected Bearer {BACKEND_TOKEN} rtsp://viewer:{CAMERA_PASSWORD}@cam mqtt {MQTT_PASSWORD}"

_GRAPH = """\
version: 2
nodes:
  - id: cam
    kind: source
    plugin: rtsp_camera
    config: {{url_from_env: SCHNITZEL_CAMERA_URL, reconnect_backoff_sec: 0.2, reconnect_backoff_max_sec: 0.5}}
  - id: motion
    kind: node
    plugin: motion_detector
    config: {{}}
  - id: events
    kind: sink
    plugin: jsonl_sink
    config: {{path: "${{state}}/events.jsonl"}}
  - id: src
    kind: source
    plugin: static_source
    config:
      packets: [{{kind: event, payload: {{n: 1}}}}]
      repeat: 4
      interval: 0.3
  - id: upload
    kind: node
    plugin: http_sink
    config:
      url: "${{SCHNITZEL_BACKEND_URL}}"
      headers_from_env: {{Authorization: SCHNITZEL_BACKEND_AUTH}}
      retry_backoff_sec: 0.05
      forward: true
  - id: spool
    kind: node
    plugin: sqlite_queue_sink
    config: {{path: "${{state}}/queue.sqlite3", forward: true}}
  - id: broker
    kind: sink
    plugin: mqtt_sink
    config:
      url: mqtt://127.0.0.1:{mqtt_port}
      topic: events/{{source_id}}
      username: viewer
      password_from_env: SCHNITZEL_MQTT_PASSWORD
      publish_timeout_sec: 0.3
      on_failure: drop
edges:
  - {{from: cam, to: motion}}
  - {{from: motion, to: events}}
  - {{from: src, to: upload}}
  - {{from: upload, to: spool}}
  - {{from: spool, to: broker}}
"""


@dataclass(frozen=True)
class Scene:
    """A graph with every secret in play, its env file, and a backend that echoes secrets."""

    root: Path
    graph: Path
    env_file: Path
    secrets: dict[str, str]
    backend: LocalBackend

    def cli(
        self, *args: str, with_secrets: bool = True, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The CLI in the scene; ``with_secrets`` puts them in its environment, as systemd does."""
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("SCHNITZEL_")}
        env["NO_COLOR"] = "1"
        for name in ("config", "state", "logs"):
            env[f"SCHNITZEL_STREAM_{name.upper()}_DIR"] = str(self.root / name)
        if with_secrets:
            env.update(self.secrets)
        env.update(extra or {})
        result = subprocess.run(
            cli_command(*args),
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            check=False,
        )
        # Captured output is an artifact too: keep it where the session's secret scan sees it.
        log = self.root / "captured"
        log.mkdir(exist_ok=True)
        (log / f"{len(list(log.iterdir()))}.txt").write_text(
            f"$ {' '.join(args)}\n{result.stdout}\n{result.stderr}", encoding="utf-8"
        )
        return result


def _assert_no_secret(root: Path, *outputs: str) -> None:
    """No file under ``root`` (env files aside) and none of ``outputs`` holds a known secret."""
    hits = {str(path): names for path, names in scan_tree(root).hits.items()}
    for index, text in enumerate(outputs):
        found = find_secrets(text.encode("utf-8"))
        if found:
            hits[f"output #{index}"] = found
    assert not hits, f"known test secrets leaked: {hits}"


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    closed = free_port()  # nothing listens here: the camera and the broker are unreachable
    with running_backend(script=["500", "500", "401"], error_body=_ECHO) as backend:
        secrets = {
            "SCHNITZEL_CAMERA_URL": f"rtsp://viewer:{CAMERA_PASSWORD}@127.0.0.1:{closed}/cam",
            "SCHNITZEL_BACKEND_AUTH": f"Bearer {BACKEND_TOKEN}",
            "SCHNITZEL_MQTT_PASSWORD": MQTT_PASSWORD,
            "SCHNITZEL_BACKEND_URL": backend.url,
        }
        env_file = tmp_path / "secrets.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()), encoding="utf-8")
        graph = tmp_path / "graph.yaml"
        graph.write_text(_GRAPH.format(mqtt_port=closed), encoding="utf-8")
        yield Scene(tmp_path, graph, env_file, secrets, backend)


def _authorizations(backend: LocalBackend) -> set[str]:
    return {(r.headers or {}).get("Authorization", "") for r in backend.records()}


@pytest.mark.parametrize(
    ("log_format", "via"),
    [
        pytest.param("json", "env-file", id="json-log-env-file"),
        pytest.param("text", "environment", id="text-log-environment"),
    ],
)
def test_run_artifacts_hold_no_secret(scene: Scene, log_format: str, via: str) -> None:
    args = ["run", str(scene.graph), "--duration", "3", "--log-level", "debug", "--status-interval", "1"]
    args += [
        "--log-format",
        log_format,
        "--log-file",
        "auto",
        "--report-json",
        str(scene.root / "report.json"),
    ]
    if via == "env-file":
        args = ["--env-file", str(scene.env_file), *args]
    result = scene.cli(*args, with_secrets=via == "environment")
    assert result.returncode == 0, result.stderr[-3000:]
    log_file = scene.root / "logs" / "schnitzel-stream.log"
    # The secrets were really used: the backend got the token, and each error was logged masked.
    assert f"Bearer {BACKEND_TOKEN}" in _authorizations(scene.backend)
    assert (scene.root / "report.json").is_file() and (scene.root / "state" / "queue.sqlite3").is_file()
    logged = log_file.read_text(encoding="utf-8")
    assert "rtsp://viewer:***@127.0.0.1" in logged, "the camera's connection errors were not logged"
    assert "HTTP 500" in logged, "the backend's echoing error answers were not logged"
    assert "'broker'" in logged, "the MQTT sink's connection errors were not logged"
    _assert_no_secret(scene.root, result.stdout, result.stderr)


def test_validate_reports_hold_no_secret(scene: Scene) -> None:
    outputs: list[str] = []
    for fmt in ("text", "json", "github"):
        result = scene.cli("validate", str(scene.graph), "--format", fmt)
        assert result.returncode == 0, result.stdout + result.stderr
        outputs += [result.stdout, result.stderr]
    report = scene.root / "validate-report.json"
    assert (
        scene.cli("validate", str(scene.graph), "--format", "json", "--output", str(report)).returncode == 0
    )
    only = scene.cli("--env-file", str(scene.env_file), "--graph", str(scene.graph), "--validate-only")
    assert only.returncode == 0, only.stdout + only.stderr
    _assert_no_secret(scene.root, *outputs, only.stdout, only.stderr)


def test_problems_about_interpolated_values_name_the_reference(scene: Scene) -> None:
    """A value built from ``${VAR}`` may be a secret: a problem about it quotes ``${VAR}``."""
    bad = scene.root / "bad.yaml"
    text = scene.graph.read_text(encoding="utf-8").replace(
        "{url_from_env: SCHNITZEL_CAMERA_URL,", '{url: "${SCHNITZEL_WRONG_URL}",'
    )
    bad.write_text(text.replace("retry_backoff_sec: 0.05", 'retry_backoff_sec: "${SCHNITZEL_TIMEOUT}"'))
    # From the process environment: no env file marks these values as secrets, so only the
    # report's own rule keeps them out.
    wrong = {
        "SCHNITZEL_WRONG_URL": f"http://viewer:{CAMERA_PASSWORD}@cam/x",
        "SCHNITZEL_TIMEOUT": BACKEND_TOKEN,
    }
    outputs: list[str] = []
    for fmt in ("text", "json", "github"):
        result = scene.cli("validate", str(bad), "--format", fmt, extra=wrong)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "the string built from '${SCHNITZEL_WRONG_URL}'" in result.stdout
        assert "the string built from '${SCHNITZEL_TIMEOUT}'" in result.stdout
        outputs += [result.stdout, result.stderr]
    ran = scene.cli("run", str(bad), extra=wrong)
    assert ran.returncode == 78, ran.stdout + ran.stderr
    _assert_no_secret(scene.root, *outputs, ran.stdout, ran.stderr)


# -- a rendered deployment root -----------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_template(tmp_path_factory.mktemp("template"))


def _copier(template: Path, dst: Path, data: dict[str, str]) -> None:
    args = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--quiet", *args, str(template), str(dst)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not find_secrets((result.stdout + result.stderr).encode()), "copier printed a secret"


#: Roots are rendered for the OS the tests run on, so that install_dir can be a real tmp path.
_TARGET = {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")

_PROFILES = {
    "rtsp_to_http_durable": {
        "camera_url": "rtsp://127.0.0.1:9/cam",
        "camera_username": "viewer",
        "camera_password": CAMERA_PASSWORD,
        "backend_url": "http://127.0.0.1:9/ingest",
        "backend_token": BACKEND_TOKEN,
    },
    "synthetic_to_mqtt": {
        "mqtt_url": "mqtt://127.0.0.1:9",
        "mqtt_username": "viewer",
        "mqtt_password": MQTT_PASSWORD,
    },
}


@pytest.mark.parametrize("profile", list(_PROFILES))
def test_rendered_root_keeps_secrets_in_its_env_file_only(
    template: Path, tmp_path: Path, profile: str
) -> None:
    root = tmp_path / "root"
    answers = {
        "deployment_name": "edge-1",
        "target_os": _TARGET,
        "scope": "portable",
        "graph_profile": profile,
    }
    _copier(
        template, root, {**answers, "install_dir": str(tmp_path / "opt" / "edge-1"), **_PROFILES[profile]}
    )
    env_file = root / "config" / "schnitzel-stream.env"
    expected = {v for k, v in _PROFILES[profile].items() if k.endswith(("password", "token"))}
    assert set(find_secrets(env_file.read_bytes())) == {n for n, v in KNOWN_SECRETS.items() if v in expected}
    env_file.chmod(0o600)
    outputs: list[str] = []
    for fmt in ("text", "json", "github"):
        checked = _run_cli(
            "validate", "--deployment", str(root), "--no-path-checks", "--format", fmt, cwd=tmp_path
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        outputs += [checked.stdout, checked.stderr]
    for fmt in ("text", "json"):
        doctor = _run_cli(
            "doctor",
            "--deployment",
            str(root),
            "--network",
            "--timeout",
            "0.5",
            "--format",
            fmt,
            cwd=tmp_path,
        )
        assert "Traceback" not in doctor.stdout + doctor.stderr
        assert "127.0.0.1" in doctor.stdout, "doctor did not check the network endpoints"
        outputs += [doctor.stdout, doctor.stderr]
    _assert_no_secret(tmp_path, *outputs)


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB and not k.startswith("SCHNITZEL_")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def test_installed_env_file_is_private(template: Path, tmp_path: Path) -> None:
    """The install script installs the env file 0600 (POSIX), an ACL on Windows.

    The script's rollback path copies the config without building an environment, so a
    prepared previous version stands in for the one a real install would have left.
    """
    target = _TARGET
    install_dir = tmp_path / "opt" / "edge-1"
    root = tmp_path / "root"
    answers = {
        "deployment_name": "edge-1",
        "target_os": target,
        "scope": "portable",
        "install_dir": str(install_dir),
    }
    _copier(
        template, root, {**answers, "graph_profile": "synthetic_to_mqtt", **_PROFILES["synthetic_to_mqtt"]}
    )
    if target == "windows":
        script = (root / "install.ps1").read_text(encoding="utf-8")
        assert "Set-PrivateAcl (Join-Path $ConfigDir 'schnitzel-stream.env')" in script
        return
    installed_version(install_dir, root / "requirements.lock.txt")
    done = subprocess.run(
        ["sh", str(root / "install.sh"), "--rollback", "--no-service"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    installed = install_dir / "config" / "schnitzel-stream.env"
    assert stat.S_IMODE(installed.stat().st_mode) == 0o600
    broker = urlsplit(read_env_file(installed).as_dict()["SCHNITZEL_MQTT_URL"])
    assert unquote(broker.password or "") == MQTT_PASSWORD  # percent-encoded in the user-info
    _assert_no_secret(tmp_path, done.stdout, done.stderr)


def test_a_leaked_secret_is_reported_without_repeating_it(template: Path, tmp_path: Path) -> None:
    """``validate --deployment`` names the line where a secret leaked, and masks it in the quote."""
    root = tmp_path / "root"
    answers = {"deployment_name": "edge-1", "target_os": _TARGET, "scope": "portable"}
    _copier(
        template,
        root,
        {**answers, "install_dir": str(tmp_path / "opt"), "graph_profile": "rtsp_to_http_durable"},
    )
    env_file = root / "config" / "schnitzel-stream.env"
    env_file.write_text(
        f"SCHNITZEL_CAMERA_URL=rtsp://viewer:{CAMERA_PASSWORD}@127.0.0.1:9/cam\n"
        f"SCHNITZEL_BACKEND_AUTH='Bearer {BACKEND_TOKEN}'\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)
    graph = allow_secret_file(root / "config" / "graph.yaml")  # the leak under test, on purpose
    text = graph.read_text(encoding="utf-8")
    leaked = text.replace(
        "Authorization: SCHNITZEL_BACKEND_AUTH",
        f"Authorization: SCHNITZEL_BACKEND_AUTH\n      headers: {{X-Key: {BACKEND_TOKEN}}}",
    )
    assert leaked != text
    graph.write_text(leaked, encoding="utf-8")
    outputs: list[str] = []
    for fmt in ("text", "json", "github"):
        checked = _run_cli(
            "validate", "--deployment", str(root), "--no-path-checks", "--format", fmt, cwd=tmp_path
        )
        assert checked.returncode == 1, checked.stdout + checked.stderr
        assert "deploy.secret-leak" in checked.stdout
        outputs += [checked.stdout, checked.stderr]
    assert "X-Key: ***" in outputs[0], "the text report quotes the line, masked"
    _assert_no_secret(tmp_path, *outputs)
