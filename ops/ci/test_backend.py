"""A local HTTP backend with fault injection, for tests, benchmarks, chaos runs and CI.

Run it as a script::

    python ops/ci/test_backend.py --port 0 --record events.jsonl --weights 200=8,503=1,drop=1 --seed 7

It prints ``LISTENING <port>`` on stdout once it accepts connections and runs until SIGTERM,
SIGINT, CTRL_BREAK or ``--max-seconds``. Or import it: ``LocalBackend(...).start()`` serves on
a thread of the calling process.

Every POST/PUT (any path but the ones below) is an *ingest* request. Its fate is an action:

- a status code (``"200"``, ``"500"``, ...); 429 and 503 carry ``Retry-After``
  (``retry_after`` seconds, or as an HTTP date with ``retry_after_date``);
- ``"slow"``: answer 200 after ``slow_sec`` (past the client's read timeout, typically);
- ``"drop"``: read the request, then reset the connection without an answer;
- ``"refuse"``: like ``drop``, and refuse all connections for ``refuse_sec`` (a short outage);
- ``"oversize"``: answer 200 with a body of ``oversize_bytes``.

Other answers have the body ``{}``, or ``error_body`` when they are not 2xx.

The action comes from, in order: an active outage, the ``script`` (one action per request,
consumed), else a seeded random draw by ``weights``. An outage in mode ``refuse`` closes the
listening socket (connections are really refused) and every open connection, and reopens on
the same port after N seconds; in any other mode every ingest request gets that action.

Requests answered 2xx (and slow ones: the backend committed them even if the client gave up)
are *accepted*: their idempotency keys and payload count are recorded in memory and, with
``record``, as JSON lines. A batch (``{"idempotency_key": ..., "items": [...]}``, see
``nodes/http/_wire.py``) counts its items and records their keys; any other body counts 1
and records the ``Idempotency-Key`` header. With ``reject_keys``, a request holding one of
those item keys is answered 422 with a JSON body (the application refusing it). Error
answers are ``error_type`` (``application/json`` unless changed: ``text/html`` is what a
proxy's error page looks like). ``GET /stats`` returns counters, ``GET /records`` the in-memory
records, and ``POST /control`` with a JSON object changes the faults at run time (keys as the
constructor's, plus ``{"outage": {"seconds": N, "mode": "refuse"}}`` and ``{"reset": true}``).
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import json
import random
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, TextIO

_CHUNK = b"x" * 65536
_FAULT_KEYS = (
    "weights",
    "script",
    "retry_after",
    "retry_after_date",
    "slow_sec",
    "oversize_bytes",
    "error_body",
    "error_type",
    "refuse_sec",
    "reject_keys",
)


@dataclass(frozen=True, slots=True)
class Record:
    """One ingest request as the backend saw it."""

    t: float  # time.monotonic() on arrival; the same clock across processes on one machine
    wall: float
    method: str
    path: str
    action: str
    accepted: bool
    keys: tuple[str, ...]
    count: int
    connection: int
    headers: dict[str, str] | None = None
    body: Any = None


@dataclass(slots=True)
class _Stats:
    requests: int = 0
    accepted: int = 0
    payloads: int = 0
    duplicates: int = 0
    connections: int = 0
    outages: int = 0
    by_action: Counter[str] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    backend: LocalBackend

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout on a "slow" answer) is expected, not worth a traceback.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server: _Server
    timeout = 60
    conn_id = 0

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the client's
        # delayed ACK stalls every response by ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_id = self.server.backend._opened(self.connection)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.backend._closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read stats instead
        pass

    def do_GET(self) -> None:
        backend = self.server.backend
        if self.path == "/stats":
            self._json(200, backend.stats())
        elif self.path == "/records":
            self._json(200, [asdict(r) for r in backend.records()])
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        if self.path == "/control":
            try:
                changes = json.loads(self._read_body() or b"{}")
                self._json(200, self.server.backend.control(changes, _spare=self.connection))
            except (ValueError, TypeError) as exc:
                self._json(400, {"error": str(exc)})
            return
        self._ingest()

    def do_PUT(self) -> None:
        self._ingest()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _json(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _ingest(self) -> None:
        backend = self.server.backend
        raw = self._read_body()
        action = backend._next_action()
        if action.startswith("2") and backend._refuses(raw):
            action = "422"
        status = 200 if action in ("slow", "oversize") else int(action) if action.isdigit() else 0
        if action == "slow" and backend._stopping.wait(backend.faults["slow_sec"]):
            action, status = "drop", 0  # the backend stops: do not hold its shutdown hostage
        backend._record(self, raw, action, 200 <= status < 300)
        if action == "refuse":
            backend.outage(float(backend.faults["refuse_sec"]), "refuse")  # resets this connection too
            self.close_connection = True
            return
        if action == "drop":
            _abort(self.connection)
            self.close_connection = True
            return
        body = b"{}" if 200 <= status < 300 else str(backend.faults["error_body"]).encode()
        size = int(backend.faults["oversize_bytes"]) if action == "oversize" else len(body)
        self.send_response(status)
        ok = 200 <= status < 300
        self.send_header("Content-Type", "application/json" if ok else str(backend.faults["error_type"]))
        self.send_header("Content-Length", str(size))
        if status in (429, 503):
            self.send_header("Retry-After", backend._retry_after_value())
        self.end_headers()
        try:
            if action == "oversize":
                while size > 0:
                    self.wfile.write(_CHUNK[: min(size, len(_CHUNK))])
                    size -= len(_CHUNK)
            else:
                self.wfile.write(body)
        except OSError:  # the client stopped reading (that is the point of "oversize")
            self.close_connection = True


def _abort(sock: socket.socket) -> None:
    """Reset a connection: SO_LINGER 0 makes the close send RST instead of FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)


def _parse_weights(text: str) -> dict[str, float]:
    """``"200=8,503=1,drop=1"`` -> ``{"200": 8.0, "503": 1.0, "drop": 1.0}``."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        weights[name.strip()] = float(weight or 1)
    return weights


def _parse_script(text: str) -> list[str]:
    """``"500*3,200"`` -> ``["500", "500", "500", "200"]``."""
    script: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, times = part.partition("*")
        script.extend([name.strip()] * int(times or 1))
    return script


class LocalBackend:
    """The backend; ``start()`` serves on a daemon thread, ``stop()`` ends it."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        *,
        record_path: str | Path | None = None,
        keep_bodies: bool = True,
        seed: int | None = None,
        weights: dict[str, float] | None = None,
        script: list[str] | tuple[str, ...] = (),
        retry_after: float = 1.0,
        retry_after_date: bool = False,
        slow_sec: float = 5.0,
        oversize_bytes: int = 64 * 1024 * 1024,
        error_body: str = "{}",
        error_type: str = "application/json",
        refuse_sec: float = 0.5,
        reject_keys: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.host = host
        self.port = port
        self.keep_bodies = keep_bodies
        self.faults: dict[str, Any] = {
            "weights": dict(weights or {"200": 1.0}),
            "script": list(script),
            "retry_after": retry_after,
            "retry_after_date": retry_after_date,
            "slow_sec": slow_sec,
            "oversize_bytes": oversize_bytes,
            "error_body": error_body,
            "error_type": error_type,
            "refuse_sec": refuse_sec,
            "reject_keys": list(reject_keys),
        }
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stats = _Stats()
        self._records: list[Record] = []
        self._keys: set[str] = set()
        self._open: dict[socket.socket, int] = {}
        self._outage_until = 0.0
        self._outage_mode = ""
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sink: TextIO | None = None
        if record_path:
            # Open for the backend's whole life; stop() closes it.
            self._sink = Path(record_path).open("a", encoding="utf-8")  # noqa: SIM115

    @property
    def url(self) -> str:
        """The ingest URL (any path but /stats, /records and /control ingests)."""
        return f"http://{self.host}:{self.port}/ingest"

    def start(self) -> Self:
        self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._unlisten()
        self._drop_connections(spare=None)
        with self._lock:
            if self._sink is not None:
                self._sink.close()
                self._sink = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- control -------------------------------------------------------------------------------

    def control(self, changes: dict[str, Any], _spare: socket.socket | None = None) -> dict[str, Any]:
        """Change faults at run time (what ``POST /control`` does); returns the new faults."""
        if not isinstance(changes, dict):
            raise TypeError("control expects a JSON object")
        unknown = set(changes) - {*_FAULT_KEYS, "outage", "reset", "seed"}
        if unknown:
            raise ValueError(f"unknown control keys: {sorted(unknown)}")
        with self._lock:
            if changes.get("reset"):
                self._stats = _Stats()
                self._records.clear()
                self._keys.clear()
            if "seed" in changes:
                self._rng.seed(changes["seed"])
            for key in _FAULT_KEYS:
                if key in changes:
                    value = changes[key]
                    if key == "weights":
                        value = {str(k): float(v) for k, v in value.items()}
                    elif key in ("script", "reject_keys"):
                        value = [str(v) for v in value]
                    self.faults[key] = value
            faults = json.loads(json.dumps(self.faults))
        outage = changes.get("outage")
        if outage:
            self.outage(float(outage["seconds"]), str(outage.get("mode", "refuse")), _spare=_spare)
        return dict(faults)

    def outage(self, seconds: float, mode: str = "refuse", *, _spare: socket.socket | None = None) -> None:
        """Fail every ingest request for ``seconds``: ``refuse`` connections, or answer ``mode``."""
        with self._lock:
            self._outage_until = time.monotonic() + seconds
            self._outage_mode = mode
            self._stats.outages += 1
        if mode != "refuse":
            return
        self._unlisten()
        self._drop_connections(spare=_spare)
        timer = threading.Timer(seconds, self._end_outage)
        timer.daemon = True
        timer.start()

    def _end_outage(self) -> None:
        with self._lock:
            # Overlapping outages: only the timer of the one that ends last reopens.
            if self._server is not None or time.monotonic() < self._outage_until - 0.01:
                return
        if not self._stopping.is_set():
            self._listen()

    # -- observation ---------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self._lock:
            s = self._stats
            return {
                "requests": s.requests,
                "accepted": s.accepted,
                "payloads": s.payloads,
                "unique_keys": len(self._keys),
                "duplicates": s.duplicates,
                "connections": s.connections,
                "open_connections": len(self._open),
                "outages": s.outages,
                "status": dict(s.by_action),
                "per_second": {str(k): v for k, v in sorted(s.per_second.items())},
            }

    def records(self) -> list[Record]:
        with self._lock:
            return list(self._records)

    def accepted_keys(self) -> list[str]:
        """Every idempotency key of every accepted request, in arrival order (with duplicates)."""
        return [key for r in self.records() if r.accepted for key in r.keys]

    # -- internals -----------------------------------------------------------------------------

    def _listen(self) -> None:
        # Reopening after an outage may race the kernel handing the port to an outgoing
        # connection; retry briefly instead of failing the run.
        deadline = time.monotonic() + 10.0
        while True:
            try:
                server = _Server((self.host, self.port), _Handler)
                break
            except OSError:
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise
                time.sleep(0.05)
        server.backend = self
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        with self._lock:
            self._server, self._thread = server, thread
        thread.start()

    def _unlisten(self) -> None:
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def _drop_connections(self, spare: socket.socket | None) -> None:
        with self._lock:
            victims = [sock for sock in self._open if sock is not spare]
        for sock in victims:
            _abort(sock)

    def _opened(self, sock: socket.socket) -> int:
        with self._lock:
            self._stats.connections += 1
            self._open[sock] = self._stats.connections
            return self._stats.connections

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.pop(sock, None)

    def _next_action(self) -> str:
        with self._lock:
            if self._outage_mode and time.monotonic() < self._outage_until:
                return "drop" if self._outage_mode == "refuse" else self._outage_mode
            script: list[str] = self.faults["script"]
            if script:
                return str(script.pop(0))
            weights: dict[str, float] = self.faults["weights"]
            return self._rng.choices(list(weights), weights=list(weights.values()))[0]

    def _retry_after_value(self) -> str:
        seconds = float(self.faults["retry_after"])
        if self.faults["retry_after_date"]:
            return email.utils.formatdate(time.time() + seconds, usegmt=True)
        return f"{seconds:g}"

    def _refuses(self, raw: bytes) -> bool:
        with self._lock:
            refused = set(self.faults["reject_keys"])
        return bool(refused) and not refused.isdisjoint(_parse(raw, "")[1])

    def _record(self, handler: _Handler, raw: bytes, action: str, accepted: bool) -> None:
        body, keys = _parse(raw, handler.headers.get("Idempotency-Key") or "")
        count = 0
        if accepted:
            items = body.get("items") if isinstance(body, dict) else None
            count = len(items) if isinstance(items, list) else 1
        else:
            body = None
        keep = self.keep_bodies
        record = Record(
            t=time.monotonic(),
            wall=time.time(),
            method=handler.command,
            path=handler.path,
            action=action,
            accepted=accepted,
            keys=keys,
            count=count,
            connection=handler.conn_id,
            headers=dict(handler.headers.items()) if keep else None,
            body=body if keep else None,
        )
        with self._lock:
            s = self._stats
            s.requests += 1
            s.by_action[action] += 1
            s.per_second[int(record.wall)] += 1
            self._records.append(record)
            if not accepted:
                return
            s.accepted += 1
            s.payloads += count
            for key in keys:
                if key in self._keys:
                    s.duplicates += 1
                self._keys.add(key)
            if self._sink is not None:
                line = {"t": record.wall, "keys": list(keys), "count": count, "action": action}
                self._sink.write(json.dumps(line) + "\n")
                self._sink.flush()


def _parse(raw: bytes, header: str) -> tuple[Any, tuple[str, ...]]:
    """The body (JSON if it parses) and the item keys of a request."""
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    items = body.get("items") if isinstance(body, dict) else None
    if isinstance(items, list):
        return body, tuple(str(i.get("idempotency_key")) for i in items if isinstance(i, dict))
    return body, (header,) if header else ()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--record", type=Path, help="append accepted requests as JSON lines")
    parser.add_argument("--keep-bodies", action="store_true", help="keep headers and bodies for /records")
    parser.add_argument("--seed", type=int, help="seed of the random fault mix")
    parser.add_argument(
        "--weights", default="200=1", help="random mix, e.g. 200=8,500=1,503=1,429=1,slow=1,drop=1,refuse=1"
    )
    parser.add_argument("--script", default="", help="actions for the first requests, e.g. 500*3,200")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds on 429/503")
    parser.add_argument("--retry-after-date", action="store_true", help="send Retry-After as an HTTP date")
    parser.add_argument("--slow-sec", type=float, default=5.0, help="delay of a 'slow' answer")
    parser.add_argument("--oversize-bytes", type=int, default=64 * 1024 * 1024)
    parser.add_argument("--error-body", default="{}", help="body of non-2xx answers")
    parser.add_argument("--error-type", default="application/json", help="Content-Type of non-2xx answers")
    parser.add_argument("--refuse-sec", type=float, default=0.5, help="outage after a 'refuse' action")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop by itself after this long")
    args = parser.parse_args(argv)

    backend = LocalBackend(
        args.port,
        args.host,
        record_path=args.record,
        keep_bodies=args.keep_bodies,
        seed=args.seed,
        weights=_parse_weights(args.weights),
        script=_parse_script(args.script),
        retry_after=args.retry_after,
        retry_after_date=args.retry_after_date,
        slow_sec=args.slow_sec,
        oversize_bytes=args.oversize_bytes,
        error_body=args.error_body,
        error_type=args.error_type,
        refuse_sec=args.refuse_sec,
    )
    done = threading.Event()
    for name in ("SIGTERM", "SIGINT", "SIGBREAK"):  # SIGBREAK: CTRL_BREAK on Windows
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, lambda *_: done.set())
    backend.start()
    print(f"LISTENING {backend.port}", flush=True)
    deadline = time.monotonic() + args.max_seconds if args.max_seconds > 0 else float("inf")
    try:
        # Short waits, not one long one: on Windows a blocked wait would delay the signal handler.
        while not done.wait(0.25) and time.monotonic() < deadline:
            pass
    finally:
        backend.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
