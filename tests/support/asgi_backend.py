"""A tiny ASGI ingest app, served by a real uvicorn in a subprocess.

``app`` accepts ``POST``/``PUT`` bodies as ``http_sink`` sends them (one payload with an
``Idempotency-Key`` header, or a batch object whose items carry their keys, see
``nodes/http/_wire.py``), answers ``200 {"accepted": N}`` and counts every key it accepted
(a key seen before counts as a duplicate). ``GET /state`` returns the counters and keys;
``POST /control`` with ``{"fail_every": N}`` answers every N-th ingest request 503 (after
reading it, without accepting it), for at-least-once tests.

:func:`running_uvicorn` starts ``python -m uvicorn tests.support.asgi_backend:app`` on a
free 127.0.0.1 port and stops it on exit.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.net import free_port, wait_for_port

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class _State:
    requests: int = 0
    accepted_requests: int = 0
    duplicates: int = 0
    failed: int = 0
    fail_every: int = 0
    keys: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


_STATE = _State()


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, status: int, value: Any) -> None:
    data = json.dumps(value).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _keys(raw: bytes, header: str) -> list[str]:
    body = json.loads(raw)
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, list):
        return [str(item["idempotency_key"]) for item in items]
    return [header]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    raw = await _body(receive)
    state = _STATE
    method, path = scope["method"], scope["path"]
    if method == "GET" and path == "/state":
        await _answer(send, 200, {**{k: v for k, v in vars(state).items() if k != "seen"}})
        return
    if method == "POST" and path == "/control":
        state.fail_every = int(json.loads(raw).get("fail_every", 0))
        await _answer(send, 200, {"fail_every": state.fail_every})
        return
    state.requests += 1
    if state.fail_every and state.requests % state.fail_every == 0:
        state.failed += 1
        await _answer(send, 503, {"error": "try again"})
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        keys = _keys(raw, headers.get("idempotency-key", ""))
    except (ValueError, KeyError, TypeError):
        await _answer(send, 422, {"error": "not a payload this app understands"})
        return
    state.accepted_requests += 1
    for key in keys:
        if key in state.seen:
            state.duplicates += 1
        state.seen.add(key)
        state.keys.append(key)
    await _answer(send, 200, {"accepted": len(keys)})


@dataclass
class Uvicorn:
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str = "/ingest") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def state(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url("/state"), timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def control(self, **changes: Any) -> None:
        request = urllib.request.Request(
            self.url("/control"), data=json.dumps(changes).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()


@contextlib.contextmanager
def running_uvicorn(log: Path) -> Iterator[Uvicorn]:
    """uvicorn serving :data:`app` on a free port; its log goes to ``log``."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "tests.support.asgi_backend:app",
                "--host", "127.0.0.1", "--port", str(port),
                "--no-access-log", "--lifespan", "off", "--log-level", "warning",
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_port(port, timeout=20)
            yield Uvicorn(port, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
