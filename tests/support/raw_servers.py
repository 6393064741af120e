"""Small socket servers that misbehave on purpose, and a CONNECT proxy, on 127.0.0.1.

:class:`HostileServer` accepts connections and answers each one with a *behaviour*: a
function of the connected socket. The behaviours below are what a broken or hostile peer
does to a client's deadlines: say nothing, trickle an answer a byte at a time, send
headers and then stall, send an endless body. Every behaviour ends when the server stops
(``stopping``), so a test never leaves a thread behind.

:class:`ConnectProxy` is a minimal HTTP proxy for ``CONNECT host:port`` tunnels (what a
client uses to reach an ``https://`` URL through ``https_proxy``); it records the request
lines and ``Proxy-Authorization`` headers it saw.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Self

Behaviour = Callable[[socket.socket, threading.Event], None]

OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def read_request(sock: socket.socket) -> bytes:
    """Read up to the end of the request head plus whatever body came with it."""
    data = b""
    sock.settimeout(5)
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def silent(sock: socket.socket, stopping: threading.Event) -> None:
    """Read the request, never answer."""
    read_request(sock)
    stopping.wait()


def trickle_body(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer 200 with a 1 MB body, one byte every 50 ms."""
    read_request(sock)
    sock.sendall(OK_HEAD + b"Content-Length: 1000000\r\n\r\n")
    while not stopping.wait(0.05):
        sock.sendall(b" ")


def trickle_head(sock: socket.socket, stopping: threading.Event) -> None:
    """Send the status line and headers one byte every 50 ms, without end."""
    read_request(sock)
    for byte in OK_HEAD + b"X-Slow: " + b"a" * 100000:
        if stopping.wait(0.05):
            return
        sock.sendall(bytes([byte]))


def head_then_stall(sock: socket.socket, stopping: threading.Event) -> None:
    """Send complete headers announcing a body, then nothing."""
    read_request(sock)
    sock.sendall(OK_HEAD + b"Content-Length: 10\r\n\r\n")
    stopping.wait()


def endless_chunked(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer 200 with a chunked body that never ends, as fast as the client reads."""
    read_request(sock)
    sock.sendall(OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    while not stopping.is_set():
        sock.sendall(chunk)


def endless_close_delimited(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer 200 without a length: the body runs until the connection closes (never)."""
    read_request(sock)
    sock.sendall(OK_HEAD + b"Connection: close\r\n\r\n")
    while not stopping.is_set():
        sock.sendall(b"y" * 65536)


def chunked_ok(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer every request on the connection 200 with a small chunked body (keep-alive)."""
    while not stopping.is_set():
        if not read_request(sock):
            return
        sock.sendall(OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")


def close_delimited_ok(sock: socket.socket, stopping: threading.Event) -> None:
    """Answer 200 with a body that ends when the server closes the connection."""
    read_request(sock)
    sock.sendall(OK_HEAD + b"Connection: close\r\n\r\n{}")


class HostileServer:
    """Accepts connections on a free port and runs ``behaviour`` on each, on its own thread."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.stopping = threading.Event()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    def __enter__(self) -> Self:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._accept.join(5)
        for thread in self._threads:
            thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._handle, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, sock: socket.socket) -> None:
        with sock, contextlib.suppress(OSError):
            self.behaviour(sock, self.stopping)


class ConnectProxy(HostileServer):
    """A CONNECT-only proxy on a free port; ``seen`` holds the request heads it received."""

    def __init__(self) -> None:
        super().__init__(self._tunnel)
        self.seen: list[str] = []

    def _tunnel(self, client: socket.socket, stopping: threading.Event) -> None:
        head = read_request(client).decode("latin-1")
        self.seen.append(head)
        method, target, _ = [*head.split("\r\n", 1)[0].split(" "), "", ""][:3]
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = target.rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay = threading.Thread(target=_pump, args=(upstream, client, stopping), daemon=True)
            relay.start()
            _pump(client, upstream, stopping)
            relay.join(5)


def _pump(source: socket.socket, target: socket.socket, stopping: threading.Event) -> None:
    source.settimeout(0.2)
    while not stopping.is_set():
        try:
            data = source.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not data:
            break
        try:
            target.sendall(data)
        except OSError:
            break
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)
