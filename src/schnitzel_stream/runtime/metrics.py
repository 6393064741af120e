"""``run --metrics-addr``: Prometheus metrics, ``/healthz`` and ``/readyz`` over HTTP.

- ``GET /metrics``: the exposition (:mod:`._exposition`, Prometheus text format 0.0.4,
  which every scraper accepts), written from the engine's snapshots at scrape time.
- ``GET /healthz``: 200 while the process is alive in the watchdog's sense (the supervising
  loop runs and no node has been inside ``process()`` longer than the hang limit), else 503.
  The same judgement sends or withholds systemd's ``WATCHDOG=1`` (``Engine.health``).
- ``GET /readyz``: 200 once every source produced a packet or connected and every node that
  delivers somewhere delivered at least one packet or received none yet; 503 before, while
  stopping, and when not alive. Install scripts can wait for it after an upgrade.

Both health bodies are one JSON object (``{"status": "ok", ...}``). One daemon thread serves
the requests one after another: a thread per request costs more GIL hand-offs than the
scrape itself while the engine's threads are busy (see benchmarks/bench_metrics.py), and a
client that sends nothing is cut off after a few seconds. A request never takes a lock the
data path holds, except the durable queue's own lock for its ``stats()`` (as the status
line does). Only ``run --metrics-addr`` imports this module, never ``validate`` or ``--help``.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from schnitzel_stream import _json
from schnitzel_stream.errors import ConfigError, Problem, SchnitzelError
from schnitzel_stream.runtime._exposition import CONTENT_TYPE, EngineView, exposition
from schnitzel_stream.runtime.snapshot import readiness

__all__ = ["MetricsServer"]

log = logging.getLogger("schnitzel_stream.runtime.metrics")

#: The GIL switch interval while a request is answered (Python's default is 5 ms).
_REQUEST_SWITCH_INTERVAL = 0.0005
#: A client that sends nothing for this long is disconnected (requests are served one at a time).
_REQUEST_TIMEOUT_SEC = 5.0
_PATHS = ("/metrics", "/healthz", "/readyz")
#: "Address already in use": POSIX errno, and Winsock's code on Windows.
_IN_USE = frozenset(code for code in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", None)) if code)


class _Server(HTTPServer):
    # Never SO_REUSEADDR on Windows (it lets a second process take the port); POSIX only
    # allows rebinding a port in TIME_WAIT, which a restart needs.
    allow_reuse_address = not hasattr(socket, "SO_EXCLUSIVEADDRUSE")

    def __init__(self, address: tuple[str, int], family: socket.AddressFamily, owner: MetricsServer) -> None:
        self.address_family = family
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _REQUEST_TIMEOUT_SEC
    server_version = "schnitzel-stream"
    sys_version = ""

    def handle(self) -> None:
        # While the engine's threads keep the GIL busy, every blocking call of the request
        # (recv, send) waits a full switch interval (5 ms) to get it back. A shorter interval
        # for the few milliseconds of one request roughly halves a scrape's time under load
        # (benchmarks/bench_metrics.py); the engine's threads switch more often only meanwhile.
        before = sys.getswitchinterval()
        sys.setswitchinterval(_REQUEST_SWITCH_INTERVAL)
        try:
            super().handle()
        finally:
            sys.setswitchinterval(before)

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, *, head: bool) -> None:
        answer: dict[str, Any]
        path = self.path.split("?", 1)[0]
        owner = self.server.owner
        if path == "/metrics":
            try:
                body = exposition(owner.engine, graph=owner.graph)
            except Exception as exc:  # noqa: BLE001 - a broken scrape must never stop the graph
                log.error("metrics: building the exposition failed: %s: %s", type(exc).__name__, exc)
                self._send(HTTPStatus.INTERNAL_SERVER_ERROR, b"exposition failed\n", "text/plain", head)
                return
            self._send(HTTPStatus.OK, body, CONTENT_TYPE, head)
        elif path == "/healthz":
            health = owner.engine.health()
            status = "ok" if health.alive else "unhealthy"
            answer = {"status": status, "phase": health.phase, "reason": health.reason}
            self._json(HTTPStatus.OK if health.alive else HTTPStatus.SERVICE_UNAVAILABLE, answer, head)
        elif path == "/readyz":
            waiting = readiness(owner.engine.health(), owner.engine.snapshots())
            answer = {"status": "not ready" if waiting else "ready", "waiting": waiting}
            self._json(HTTPStatus.SERVICE_UNAVAILABLE if waiting else HTTPStatus.OK, answer, head)
        elif path == "/":
            text = "schnitzel-stream: " + " ".join(_PATHS) + "\n"
            self._send(HTTPStatus.OK, text.encode(), "text/plain; charset=utf-8", head)
        else:
            self._send(
                HTTPStatus.NOT_FOUND, b"not found: try /metrics, /healthz or /readyz\n", "text/plain", head
            )

    def _json(self, status: HTTPStatus, body: dict[str, Any], head: bool) -> None:
        data = (_json.dumps(body, ensure_ascii=False) + "\n").encode()
        self._send(status, data, "application/json", head)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        # The base class writes every request to stderr, which would break --log-format json.
        log.debug("metrics: %s %s", self.address_string(), format % args)


class MetricsServer:
    """Serves one engine's metrics and health at ``address`` until :meth:`close`."""

    def __init__(self, engine: EngineView, address: tuple[str, int], *, graph: str | None = None) -> None:
        self.engine = engine
        self.address = address
        self.graph = graph
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Bind and serve on a daemon thread; a bind failure is a one-line error naming the address."""
        host, port = self.address
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise ConfigError(
                Problem(
                    code="metrics.address",
                    message=f"--metrics-addr {shown}: cannot resolve {host!r}: {exc.strerror}",
                )
            ) from None
        family, _, _, _, sockaddr = infos[0]
        try:
            self._server = _Server((str(sockaddr[0]), int(sockaddr[1])), family, self)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno in _IN_USE:
                # Maybe the previous process is still stopping: a restart may succeed, so not 78.
                raise SchnitzelError(
                    Problem(
                        code="metrics.address-in-use",
                        message=f"--metrics-addr {shown}: {reason}",
                        hint="another process listens there; pick another port or stop it",
                    )
                ) from None
            raise ConfigError(
                Problem(code="metrics.address", message=f"--metrics-addr {shown}: cannot listen: {reason}")
            ) from None
        self.address = (host, int(self._server.server_address[1]))
        self._thread = threading.Thread(target=self._server.serve_forever, name="ss-metrics", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
