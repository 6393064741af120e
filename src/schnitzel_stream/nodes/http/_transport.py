"""One keep-alive HTTP/1.1 connection to one endpoint, with a total deadline per request.

:class:`Transport` sends one request at a time over one connection to the endpoint (or to
its proxy) and reads the answer with :mod:`._http11` (the standard library's ``socket`` and
``ssl`` underneath): a request leaves in one write and costs a fraction of what ``requests``
or ``http.client`` spend on it (see ``benchmarks/bench_http.py``).

**Deadlines.** Every socket operation of an attempt (connect, TLS handshake, a proxy's
``CONNECT``, sending, each read of the answer) gets as its timeout what is left of one
deadline, so the whole attempt ends by it: a server that trickles its answer a byte at a
time cannot stretch it. Once the status line and headers are in, the server has answered:
a body that stalls or never ends is cut at the deadline (or at ``max_body`` bytes) and the
answer stands. The TLS handshake is bounded as a whole by the socket timeout set before it.

**Connections.** A connection is reused while the server keeps it open and every answer
was read to its end; it is closed after a timeout, an error, an answer read only in part,
or ``Connection: close``. Before reuse, a connection the server has closed in the meantime
(its keep-alive timeout) is noticed and replaced.

**Proxies** come from the environment (``http_proxy``, ``https_proxy``, ``no_proxy``, and
the system settings on Windows and macOS), read once. An ``http://`` endpoint is reached
through an HTTP proxy with absolute-form requests, an ``https://`` endpoint through a
``CONNECT`` tunnel. Credentials in the proxy URL become ``Proxy-Authorization``.

Redirects are never followed: the caller sees the 3xx answer.
"""

from __future__ import annotations

import base64
import os
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from schnitzel_stream.nodes.http._http11 import (
    Answer,
    DeadlineExceeded,
    Stream,
    TransportError,
    encode_request,
    read_answer,
)

__all__ = ["Answer", "DeadlineExceeded", "Endpoint", "Transport", "TransportError"]

#: What stays as it is in a request target: RFC 3986's reserved and unreserved characters, and %.
_PATH_SAFE = "/:@!$&'()*+,;=?%~-._"
#: Longest status line plus headers of a proxy's answer to CONNECT.
_TUNNEL_HEAD_MAX = 65536


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
    #: The ``Host`` header: the host (IPv6 in brackets) and a port that is not the scheme's own.
    host_header: str

    @classmethod
    def from_url(cls, url: str, *, use_proxy: bool = True) -> Endpoint:
        parts = urlsplit(url)
        secure = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        # Characters a request line cannot carry are percent-encoded; escapes already there stay.
        path = quote(parts.path or "/", safe=_PATH_SAFE) + (
            f"?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else ""
        )
        auth = None
        if parts.username is not None or parts.password is not None:
            auth = _basic(unquote(parts.username or ""), unquote(parts.password or ""))
        proxy = _proxy_for(parts.scheme.lower(), host) if use_proxy else None
        shown_host = f"[{host}]" if ":" in host else host
        if not shown_host.isascii():
            shown_host = shown_host.encode("idna").decode("ascii")
        host_header = shown_host if port == (443 if secure else 80) else f"{shown_host}:{port}"
        target = path
        if proxy is not None and not secure:
            # Absolute form for an HTTP proxy, without the userinfo (it goes in Authorization).
            target = f"http://{host_header}{path}"
        return cls(
            host=host,
            port=port,
            secure=secure,
            target=target,
            auth=auth,
            proxy=proxy,
            host_header=host_header,
        )


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

    ``true`` trusts the system's CA store plus certifi's bundle (a dependency; the bundle
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
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context


def _connect(endpoint: Endpoint, context: ssl.SSLContext | None, deadline: float) -> socket.socket:
    """A connected socket to the endpoint (through its proxy, TLS done), by ``deadline``."""
    address = (endpoint.proxy[0], endpoint.proxy[1]) if endpoint.proxy else (endpoint.host, endpoint.port)
    sock = socket.create_connection(address, timeout=_remaining(deadline))
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if endpoint.proxy is not None and endpoint.secure:
            _open_tunnel(sock, endpoint, deadline)
        if context is not None:
            # The handshake as a whole is bounded by the socket's timeout.
            sock.settimeout(_remaining(deadline))
            sock = context.wrap_socket(sock, server_hostname=endpoint.host)
    except BaseException:
        sock.close()
        raise
    return sock


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
        self._context = tls_context(verify) if endpoint.secure else None
        self._stream: Stream | None = None
        #: How many connections were opened so far.
        self.connections = 0

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

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

        Raises :class:`DeadlineExceeded` when the deadline passes, :class:`TransportError`
        for any other failure (the connection is closed after either), and ValueError for a
        header HTTP cannot carry (nothing was sent).
        """
        endpoint = self.endpoint
        data = encode_request(method, endpoint.target, endpoint.host_header, headers, body)
        started = time.monotonic()
        deadline = started + timeout
        stream = self._stream
        if stream is not None and not stream.idle_and_open():
            self.close()  # the server closed it while idle (its keep-alive timeout)
            stream = None
        reusable = False
        try:
            if stream is None:
                sock = _connect(endpoint, self._context, min(deadline, started + connect_timeout))
                self.connections += 1
                stream = self._stream = Stream(sock, deadline)
            stream.deadline = deadline
            stream.send(data)
            answer, reusable = read_answer(stream, method, max_body)
        except TimeoutError as exc:  # DeadlineExceeded, and socket timeouts of connect()
            raise DeadlineExceeded(str(exc) or "timed out") from None
        except TransportError:
            raise
        except OSError as exc:
            raise TransportError(_describe(exc)) from None
        finally:
            if not reusable:
                self.close()
        return answer


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
