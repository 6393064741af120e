"""Fixtures around ``ops/ci/test_backend.py``: the backend in-process or as a subprocess.

In-process (:func:`running_backend`, fixture ``http_backend``) is fastest and lets a test read
records directly. The subprocess (:func:`backend_process`, fixture ``http_backend_process``)
is what CI, the chaos suite and the benchmarks run: a real separate process, talked to over
``GET /stats``, ``GET /records`` and ``POST /control``.

Use the fixtures from a test module with ``pytest_plugins = ["tests.support.http_backend"]``.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from ops.ci.test_backend import LocalBackend

ROOT = Path(__file__).resolve().parents[2]
BACKEND_SCRIPT = ROOT / "ops" / "ci" / "test_backend.py"

__all__ = [
    "BackendProcess",
    "LocalBackend",
    "backend_process",
    "get_json",
    "http_backend",
    "http_backend_process",
    "post_json",
    "running_backend",
]


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def post_json(url: str, value: Any, timeout: float = 5.0) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(value).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def running_backend(**options: Any) -> Iterator[LocalBackend]:
    """An in-process backend on a free 127.0.0.1 port, stopped on exit."""
    backend = LocalBackend(**options).start()
    try:
        yield backend
    finally:
        backend.stop()


@dataclass
class BackendProcess:
    """A backend running as ``python ops/ci/test_backend.py`` in a subprocess."""

    process: subprocess.Popen[str]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/ingest"

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = get_json(f"{self.base}/stats")
        return result

    def records(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = get_json(f"{self.base}/records")
        return result

    def control(self, **changes: Any) -> dict[str, Any]:
        result: dict[str, Any] = post_json(f"{self.base}/control", changes)
        return result

    def stop(self) -> int:
        """Terminate the process and return its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def _read_port(stream: IO[str], timeout: float) -> int:
    # A reader thread, not select(): select() does not work on pipes on Windows.
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError(f"test backend did not print LISTENING within {timeout}s") from None
    word, _, port = line.strip().partition(" ")
    if word != "LISTENING":
        raise RuntimeError(f"test backend printed {line!r} instead of 'LISTENING <port>'")
    return int(port)


@contextlib.contextmanager
def backend_process(*args: str, timeout: float = 15.0) -> Iterator[BackendProcess]:
    """Start the backend script with ``args`` (plus ``--port 0``) and stop it on exit."""
    process = subprocess.Popen(
        [sys.executable, str(BACKEND_SCRIPT), "--port", "0", "--max-seconds", "600", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    backend = BackendProcess(process, 0)
    try:
        backend.port = _read_port(process.stdout, timeout)
        yield backend
    finally:
        backend.stop()
        process.stdout.close()


@pytest.fixture
def http_backend() -> Iterator[LocalBackend]:
    """An in-process backend that accepts everything; change its faults with ``control()``."""
    with running_backend() as backend:
        yield backend


@pytest.fixture
def http_backend_process(tmp_path: Path) -> Iterator[BackendProcess]:
    """A backend subprocess recording accepted requests to ``tmp_path / "backend.jsonl"``."""
    with backend_process("--record", str(tmp_path / "backend.jsonl"), "--keep-bodies") as backend:
        yield backend
