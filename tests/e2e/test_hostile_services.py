"""Hostile peers: a backend answering with huge bodies, and hostile copier answers.

- The HTTP sink reads at most ``max_response_bytes`` of an answer: against a server that sends
  a 1 GiB body (or an endless chunked one) the run still completes, the server manages to push
  only what fits into socket buffers, and the peak memory of the process stays flat.
- The deployment template refuses answers with path traversal or shell metacharacters through
  the real ``copier copy --defaults --data ...`` CLI, and nothing is written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.hostile import Sandbox, make_sandbox, write_graph
from tests.support.proc import cli_command
from tests.template._support import copy_template


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


# -- oversize HTTP responses --------------------------------------------------------------------


class _HugeAnswers:
    """An HTTP server answering every request 200 with a body of ``body_bytes`` (``chunked``:
    an endless chunked body), that counts how much of each body it managed to send."""

    def __init__(self, body_bytes: int, *, chunked: bool = False) -> None:
        self.body_bytes, self.chunked = body_bytes, chunked
        self.sent: list[int] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/ingest"
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self._listener.accept()
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        with conn, contextlib.suppress(OSError):
            reader = conn.makefile("rb")
            while True:
                length = 0
                for line in iter(reader.readline, b"\r\n"):
                    if not line:
                        return  # the client closed the connection
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                reader.read(length)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        chunk = b"x" * 65536
        sent = 0
        framing = b"Transfer-Encoding: chunked" if self.chunked else b"Content-Length: %d" % self.body_bytes
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + framing + b"\r\n\r\n")
        try:
            while sent < self.body_bytes:
                piece = chunk if self.chunked else chunk[: self.body_bytes - sent]
                conn.sendall(b"10000\r\n" + piece + b"\r\n" if self.chunked else piece)
                sent += len(piece)
        finally:
            self.sent.append(sent)  # recorded also when the client hung up (that is the point)


def _run_measured(box: Sandbox, *args: str) -> tuple[int, str, int | None]:
    """Run the CLI to its end; its exit code, output and peak resident bytes (POSIX, via wait4)."""
    log = box.root / f"measured-{len(list(box.root.glob('measured-*')))}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(cli_command(*args), cwd=box.cwd, env=box.env(), stdout=out, stderr=out)
    peak: int | None = None
    if hasattr(os, "wait4"):
        deadline = time.monotonic() + 60
        while True:
            pid, status, usage = os.wait4(popen.pid, os.WNOHANG)
            if pid:
                popen.returncode = os.waitstatus_to_exitcode(status)
                peak = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB else
                break
            if time.monotonic() > deadline:
                popen.kill()
                raise AssertionError(f"the run did not end within 60 s:\n{log.read_text()}")
            time.sleep(0.05)
    else:
        popen.wait(timeout=60)
    return popen.returncode, log.read_text(encoding="utf-8", errors="replace"), peak


_HTTP_GRAPH = """\
version: 2
nodes:
  - id: src
    kind: source
    plugin: static_source
    config: {{packets: [{{kind: event, payload: {{n: 1}}}}], repeat: 3}}
  - id: up
    kind: sink
    plugin: http_sink
    config: {{url: "{url}", max_response_bytes: 4096, timeout_sec: 10, retry_max_attempts: 1}}
edges:
  - {{from: src, to: up}}
"""

_HUGE = 1 << 30  # 1 GiB: what a client that reads whole bodies would hold in memory


@pytest.mark.parametrize(
    "chunked", [pytest.param(False, id="content-length-1GiB"), pytest.param(True, id="chunked-endless")]
)
def test_oversize_http_responses_are_not_read(sandbox: Sandbox, chunked: bool) -> None:
    peaks: list[int | None] = []
    for server in (_HugeAnswers(2), _HugeAnswers(_HUGE, chunked=chunked)):
        report = sandbox.root / f"report-{len(peaks)}.json"
        try:
            graph = write_graph(sandbox, _HTTP_GRAPH.format(url=server.url), f"http-{len(peaks)}.yaml")
            code, output, peak = _run_measured(sandbox, "run", str(graph), "--report-json", str(report))
        finally:
            server.close()
        assert code == 0, output
        assert "Traceback" not in output
        assert json.loads(report.read_text(encoding="utf-8"))["nodes"]["up"]["metrics"]["sent"] == 3
        peaks.append(peak)
    # The sink stopped reading after max_response_bytes and hung up: the server could push
    # only what fits into the socket buffers, nowhere near the 1 GiB body of each answer.
    assert len(server.sent) == 3 and max(server.sent) < 64 << 20, server.sent
    small, huge = peaks
    if small is not None and huge is not None:
        assert huge - small < 32 << 20, (
            f"peak RSS {small >> 20} MiB with small answers, {huge >> 20} MiB with huge"
        )


# -- template answers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain copy of the template (copier.yml plus templates/), as the template tests use."""
    return copy_template(tmp_path_factory.mktemp("template"))


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


# Each value lands in a file name, a directory, a unit or a shell script if it is accepted.
# tests/template/test_answer_validation.py covers more answers through copier's Python API.
@pytest.mark.parametrize(
    ("data", "question"),
    [
        pytest.param({"deployment_name": "../../etc"}, "deployment_name", id="name-traversal"),
        pytest.param({"deployment_name": "edge/../../x"}, "deployment_name", id="name-inner-traversal"),
        pytest.param({"deployment_name": "$(reboot)"}, "deployment_name", id="name-command-substitution"),
        pytest.param({"deployment_name": "`reboot`"}, "deployment_name", id="name-backticks"),
        pytest.param({"deployment_name": "edge;reboot"}, "deployment_name", id="name-semicolon"),
        pytest.param({"deployment_name": "edge && reboot"}, "deployment_name", id="name-and-and"),
        pytest.param({"deployment_name": "edge|reboot"}, "deployment_name", id="name-pipe"),
        pytest.param({"install_dir": "/opt/../../etc/x"}, "install_dir", id="install-traversal"),
        pytest.param({"install_dir": "/opt/$(reboot)"}, "install_dir", id="install-command-substitution"),
        pytest.param({"install_dir": "/opt/`reboot`"}, "install_dir", id="install-backticks"),
        pytest.param({"install_dir": "/opt/a;reboot"}, "install_dir", id="install-semicolon"),
        pytest.param({"install_dir": "/opt/a&&reboot"}, "install_dir", id="install-and-and"),
        pytest.param(
            {"target_os": "windows", "install_dir": "C:\\x\\..\\..\\Windows"},
            "install_dir",
            id="windows-traversal",
        ),
        pytest.param(
            {"target_os": "windows", "install_dir": "C:\\x&calc"}, "install_dir", id="windows-ampersand"
        ),
        pytest.param({"service_user": "$(reboot)"}, "service_user", id="user-command-substitution"),
        pytest.param({"scope": "user", "user_home": "/home/`reboot`"}, "user_home", id="home-backticks"),
        pytest.param(
            {"graph_profile": "rtsp_to_http_durable", "camera_username": "a;reboot"},
            "camera_username",
            id="camera-user-semicolon",
        ),
        pytest.param(
            {"graph_profile": "synthetic_to_mqtt", "mqtt_username": "$(reboot)"},
            "mqtt_username",
            id="mqtt-user-command-substitution",
        ),
    ],
)
def test_template_refuses_hostile_answers(
    template: Path, tmp_path: Path, data: dict[str, str], question: str
) -> None:
    """The real ``copier copy --defaults --data ...`` refuses, and writes nothing anywhere."""
    work, cwd = tmp_path / "work", tmp_path / "cwd"
    cwd.mkdir()
    dst = work / "a" / "b" / "root"
    before, template_before = _files(tmp_path), _files(template)
    args = [arg for key, value in data.items() for arg in ("--data", f"{key}={value}")]
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", *args, str(template), str(dst)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    # copier 9 prints its own traceback for a failed validator under --defaults; the last
    # line is the template's one-line message, naming the question.
    assert re.fullmatch(
        rf"ValueError: Validation error for question '{question}': .+", output.strip().splitlines()[-1]
    )
    # copier may create the (empty) destination chain; nothing else, and no file anywhere.
    created = _files(tmp_path) - before
    assert created <= {"work", "work/a", "work/a/b", "work/a/b/root"}, sorted(created)
    assert not [
        p for p in tmp_path.rglob("*") if p.is_file() and p.relative_to(tmp_path).as_posix() not in before
    ]
    assert _files(template) == template_before
