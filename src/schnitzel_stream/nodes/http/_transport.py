"""One keep-alive HTTP/1.1 connection with a total deadline per request.

:class:`Transport` sends one request at a time over one connection to the endpoint (or to
its proxy) and reads the answer, using the standard library only: ``http.client`` builds the
request and parses the answer (status line, headers, ``Content-Length``, chunked or
close-delimited bodies), ``ssl`` does TLS. It is several times cheaper per request than
``requests`` (see ``benchmarks/bench_http.py``).

**Deadlines.** Every socket operation of an attempt (connect, TLS handshake, a proxy's
``CONNECT``, sending, each read of the answer) gets as its timeout what is left of one
deadline, so the whole attempt (connect, send, the whole answer) ends by the deadline: a
server that trickles its answer a byte at a time cannot stretch it. Once the status line
and headers are in, the server has answered: a body that stalls or never ends is cut at
the deadline (or at ``max_body`` bytes) and the answer stands.
The socket handed to ``http.client`` is a small wrapper (:class:`_DeadlineSocket`) that arms
the remaining time before each blocking call.

**Connections.** A connection is reused while the server keeps it open and every answer
was read to its end; it is closed after a timeout, an error, an answer read only in part
(``max_response_bytes``), or ``Connection: close``. Before reuse, a connection the server
has closed in the meantime (its keep-alive timeout) is noticed and replaced.

**Proxies** come from the environment (``http_proxy``, ``https_proxy``, ``no_proxy``, and
the system settings on Windows and macOS), read once. An ``http://`` endpoint is reached
through an HTTP proxy with absolute-form requests, an ``https://`` endpoint through a
``CONNECT`` tunnel. Credentials in the proxy URL become ``Proxy-Authorization``.

Redirects are never followed: the caller sees the 3xx answer.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import select
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["Answer", "DeadlineExceeded", "Endpoint", "Transport", "TransportError"]

#: Longest status line plus headers of a proxy's answer to CONNECT.
_TUNNEL_HEAD_MAX = 65536
_READ_CHUNK = 16384


class TransportError(Exception):
    """The request did not get a complete answer (connection, TLS or protocol failure)."""


class DeadlineExceeded(TransportError, TimeoutError):
    """The request's deadline passed (connecting, sending or reading the answer)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request got back: the status, the headers the sink uses, the start of the body."""

    status: int
    content_type: str
    location: str | None
    retry_after: str | None
    head: bytes


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where requests go, worked out once from the URL and the environment."""

    host: str
    port: int
    secure: bool
    #: The request target: origin-form (``/path?q``), or absolute-form through an HTTP proxy.
    target: str
    #: ``Authorization`` from the URL's userinfo, or None.
    auth: str | None
    #: ``(host, port, Proxy-Authorization or None)`` of the proxy, or None for a direct connection.
    proxy: tuple[str, int, str | None] | None

    @classmethod
    def from_url(cls, url: str, *, use_proxy: bool = True) -> Endpoint:
        parts = urlsplit(url)
        secure = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        auth = None
        if parts.username is not None or parts.password is not None:
            auth = _basic(unquote(parts.username or ""), unquote(parts.password or ""))
        proxy = _proxy_for(parts.scheme.lower(), host) if use_proxy else None
        target = path
        if proxy is not None and not secure:
            # Absolute form for an HTTP proxy, without the userinfo (it goes in Authorization).
            shown_host = f"[{host}]" if ":" in host else host
            target = f"http://{shown_host}:{port}{path}"
        return cls(host=host, port=port, secure=secure, target=target, auth=auth, proxy=proxy)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _proxy_for(scheme: str, host: str) -> tuple[str, int, str | None] | None:
    # urllib.request is imported here only: it is large, and a sink is built once.
    import urllib.request

    if urllib.request.proxy_bypass(host):
        return None
    proxy_url = urllib.request.getproxies().get(scheme)
    if not proxy_url:
        return None
    if "://" not in proxy_url:
        proxy_url = f"http://{proxy_url}"
    parts = urlsplit(proxy_url)
    auth = None
    if parts.username is not None:
        auth = _basic(unquote(parts.username), unquote(parts.password or ""))
    return (parts.hostname or "", parts.port or 80, auth)


def tls_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS context for ``verify_tls``: true, false, or a CA bundle file or directory.

    ``true`` trusts the system's CA store plus certifi's bundle when installed (the bundle
    ``requests`` used), and ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` when set, as before.
    """
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if isinstance(verify, str):
        if Path(verify).is_dir():
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        return ssl.create_default_context(cafile=bundle)
    context = ssl.create_default_context()
    try:
        import certifi
    except ImportError:
        return context
    context.load_verify_locations(cafile=certifi.where())
    return context


class _DeadlineSocket:
    """The socket ``http.client`` sees: every blocking call gets what is left of ``deadline``.

    Closing follows ``socket.socket``: the real socket closes once ``close()`` was called and
    every reader made by :meth:`makefile` is closed too (``http.client`` hands a response the
    connection's reader and may close the connection before the response is read).
    """

    __slots__ = ("_closed", "_readers", "deadline", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self._readers = 0
        self._closed = False

    def arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded("deadline passed")
        self.sock.settimeout(remaining)

    def sendall(self, data: bytes) -> None:
        self.arm()
        # Since Python 3.5 a timeout bounds the whole of sendall(), not each send.
        self.sock.sendall(data)

    def recv_into(self, buffer: memoryview) -> int:
        self.arm()
        return self.sock.recv_into(buffer)

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_Reader(self))

    def release(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self.sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self.sock.close()

    def stale(self) -> bool:
        """True when the idle connection has something to read: the server closed it (or misbehaves)."""
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)


class _Reader(io.RawIOBase):
    """The raw stream under an answer's buffered reader; every read honours the deadline."""

    def __init__(self, owner: _DeadlineSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.release()
        super().close()


class _Connection(http.client.HTTPConnection):
    """``http.client``'s connection with our own connect: deadline, proxy tunnel, TLS."""

    def __init__(self, endpoint: Endpoint, context: ssl.SSLContext | None) -> None:
        super().__init__(endpoint.host, endpoint.port)
        self.endpoint = endpoint
        self.context = context
        self.deadline = 0.0
        self.connect_deadline = 0.0
        self.wrapped: _DeadlineSocket | None = None
        self.opened = 0

    def connect(self) -> None:
        endpoint = self.endpoint
        deadline = min(self.deadline, self.connect_deadline)
        address = (endpoint.proxy[0], endpoint.proxy[1]) if endpoint.proxy else (endpoint.host, endpoint.port)
        sock = socket.create_connection(address, timeout=_remaining(deadline))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if endpoint.proxy is not None and endpoint.secure:
                _open_tunnel(sock, endpoint, deadline)
            if self.context is not None:
                # The handshake as a whole is bounded by the socket's timeout.
                sock.settimeout(_remaining(deadline))
                sock = self.context.wrap_socket(sock, server_hostname=endpoint.host)
        except BaseException:
            sock.close()
            raise
        self.opened += 1
        self.wrapped = _DeadlineSocket(sock, self.deadline)
        self.sock = self.wrapped


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("deadline passed")
    return remaining


def _open_tunnel(sock: socket.socket, endpoint: Endpoint, deadline: float) -> None:
    """``CONNECT host:port`` through the proxy on ``sock``; raises unless it answers 2xx."""
    assert endpoint.proxy is not None
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    lines = [f"CONNECT {host}:{endpoint.port} HTTP/1.1", f"Host: {host}:{endpoint.port}"]
    if endpoint.proxy[2]:
        lines.append(f"Proxy-Authorization: {endpoint.proxy[2]}")
    sock.settimeout(_remaining(deadline))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
    head = b""
    # Byte by byte up to the blank line: what follows belongs to the TLS handshake.
    while not head.endswith(b"\r\n\r\n"):
        if len(head) > _TUNNEL_HEAD_MAX:
            raise TransportError("the proxy's answer to CONNECT is too long")
        sock.settimeout(_remaining(deadline))
        byte = sock.recv(1)
        if not byte:
            raise TransportError("the proxy closed the connection during CONNECT")
        head += byte
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit() or not 200 <= int(parts[1]) < 300:
        raise TransportError(f"the proxy refused CONNECT: {status_line[:100]}")


class Transport:
    """Requests to one endpoint over one keep-alive connection; not thread-safe."""

    def __init__(self, endpoint: Endpoint, verify: bool | str = True) -> None:
        self.endpoint = endpoint
        self._conn = _Connection(endpoint, tls_context(verify) if endpoint.secure else None)

    @property
    def connections(self) -> int:
        """How many connections were opened so far."""
        return self._conn.opened

    def close(self) -> None:
        self._conn.close()

    def request(
        self,
        method: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        timeout: float,
        connect_timeout: float,
        max_body: int,
    ) -> Answer:
        """Send one request and read its answer, all within ``timeout`` seconds.

        Raises :class:`DeadlineExceeded` when the deadline passes and :class:`TransportError`
        for any other failure; the connection is closed after either.
        """
        started = time.monotonic()
        conn = self._conn
        conn.deadline = started + timeout
        conn.connect_deadline = started + connect_timeout
        if conn.sock is not None and conn.wrapped is not None:
            if conn.wrapped.stale():
                conn.close()  # the server closed it while idle (its keep-alive timeout)
            else:
                conn.wrapped.deadline = conn.deadline
        response: http.client.HTTPResponse | None = None
        try:
            conn.request(method, self.endpoint.target, body, headers)
            response = conn.getresponse()
            head = _read_head(response, max_body)
            answer = Answer(
                status=response.status,
                content_type=response.getheader("Content-Type") or "",
                location=response.getheader("Location"),
                retry_after=response.getheader("Retry-After"),
                head=head,
            )
        except TimeoutError as exc:
            raise DeadlineExceeded(str(exc) or "timed out") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(_describe(exc)) from None
        finally:
            if response is None or not response.isclosed():
                # An error, or an answer read only in part: the connection cannot carry another.
                if response is not None:
                    response.close()
                conn.close()
        return answer


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _read_head(response: http.client.HTTPResponse, cap: int) -> bytes:
    """At most ``cap`` bytes of the body, within the deadline.

    The status line and headers are in: the server has answered. A body that stalls or
    breaks off is cut at the deadline and the answer stands; the connection is closed
    (the response is not ``isclosed()``), as after a body read only to ``cap``. A body read
    to its end lets the connection be reused.
    """
    head = bytearray()
    try:
        if cap <= 0:
            response.read(0)  # an empty body is complete at once and the connection survives
        while len(head) < cap:
            chunk = response.read(min(_READ_CHUNK, cap - len(head)))
            if not chunk:
                break
            head += chunk
    except (OSError, http.client.HTTPException):  # DeadlineExceeded included
        pass
    return bytes(head)
