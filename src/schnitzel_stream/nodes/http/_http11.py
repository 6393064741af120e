"""HTTP/1.1 on one connected socket: a request out in one write, an answer in, all by a deadline.

This is the small part of HTTP/1.1 a client that POSTs JSON needs (RFC 9112): a request is
written as one buffer (request line, headers, body), so it leaves in one ``send`` and the
server wakes once; an answer is read as a status line, headers, and a body delimited by
``Content-Length``, by chunked transfer coding (chunk extensions and trailers are read and
ignored), or by the end of the connection. Informational answers (1xx) are skipped. The
limits are those of ``http.client``: 64 KiB of status line and headers, at most 100 header
lines. Anything else is a :class:`~._transport.TransportError`.

:class:`Stream` gives every blocking call what is left of the attempt's ``deadline``, so a
server that trickles its answer cannot stretch the attempt. The body is read only up to a
cap; once the head is in, a body that stalls or breaks off is cut at the deadline and the
answer stands (the server has answered), and the connection is not reused.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Answer", "DeadlineExceeded", "Stream", "TransportError", "encode_request", "read_answer"]

_MAX_HEAD = 65536
_MAX_HEADERS = 100
_MAX_LINE = 4096
_RECV = 65536
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([0-9]{3})(?: .*)?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")


class TransportError(Exception):
    """The request did not get a complete answer (connection, TLS or protocol failure)."""


class DeadlineExceeded(TransportError, TimeoutError):
    """The request's deadline passed (connecting, sending or reading the answer)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request got back: the status, its headers (lower-case names), the start of the body."""

    status: int
    headers: Mapping[str, str]
    head: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    @property
    def retry_after(self) -> str | None:
        return self.headers.get("retry-after")


class Stream:
    """A connected socket with a read buffer; every blocking call ends by :attr:`deadline`."""

    __slots__ = ("buffer", "deadline", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buffer = bytearray()

    def _arm(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded("deadline passed")
        self.sock.settimeout(remaining)

    def send(self, data: bytes) -> None:
        self._arm()
        # Since Python 3.5 a timeout bounds the whole of sendall(), not each send.
        self.sock.sendall(data)

    def fill(self) -> bool:
        """Read what has arrived (waiting for it); False when the peer closed the connection."""
        self._arm()
        chunk = self.sock.recv(_RECV)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def idle_and_open(self) -> bool:
        """True when nothing is waiting to be read: the server has not closed the idle connection."""
        import select

        if self.buffer:
            return False
        pending = getattr(self.sock, "pending", None)
        if pending is not None and pending():
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        self.sock.close()


def encode_request(method: str, target: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The request as one buffer; raises ValueError for a header that would split the request."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or _UNSAFE_VALUE.search(value):
            raise ValueError(f"header {name!r} has a name or value that HTTP cannot carry")
        lines.append(f"{name}: {value}")
    lines += ("", "")
    return "\r\n".join(lines).encode("latin-1") + body


def read_answer(stream: Stream, method: str, cap: int) -> tuple[Answer, bool]:
    """Read one answer; returns it and whether the connection may carry another request."""
    while True:
        version, status, headers = _read_head(stream)
        if status >= 200 or status == 101:
            break
    connection = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    reusable = "close" not in connection and (version == 1 or "keep-alive" in connection)
    if status < 200:  # 101 Switching Protocols: not HTTP any more
        return Answer(status, headers, b""), False
    if method == "HEAD" or status in (204, 304):
        return Answer(status, headers, b""), reusable and not stream.buffer
    coding = headers.get("transfer-encoding")
    try:
        if coding is not None:
            if coding.rsplit(",", 1)[-1].strip().lower() != "chunked":
                body, _ = _until_close(stream, cap)
                return Answer(status, headers, body), False
            body, complete = _chunked(stream, cap)
        elif "content-length" in headers:
            body, complete = _sized(stream, _content_length(headers["content-length"]), cap)
        else:
            body, _ = _until_close(stream, cap)
            return Answer(status, headers, body), False
    except (OSError, TransportError):
        # The head is in: the server has answered. A body that stalls or breaks off is cut
        # here (the deadline included), and the connection cannot carry another request.
        return Answer(status, headers, b""), False
    return Answer(status, headers, body), reusable and complete and not stream.buffer


def _read_head(stream: Stream) -> tuple[int, int, dict[str, str]]:
    buffer = stream.buffer
    end = buffer.find(b"\r\n\r\n")
    while end < 0:
        if len(buffer) > _MAX_HEAD:
            raise TransportError("the answer's status line and headers are longer than 64 KiB")
        searched = max(0, len(buffer) - 3)  # a trickled head is not scanned again from its start
        if not stream.fill():
            raise TransportError("the server closed the connection without a complete answer")
        end = buffer.find(b"\r\n\r\n", searched)
    if end > _MAX_HEAD:
        raise TransportError("the answer's status line and headers are longer than 64 KiB")
    text = bytes(buffer[:end]).decode("latin-1")
    del buffer[: end + 4]
    status_line, *lines = text.split("\r\n")
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise TransportError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    if len(lines) > _MAX_HEADERS:
        raise TransportError(f"more than {_MAX_HEADERS} header lines")
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise TransportError(f"malformed header line: {line[:80]!r}")
        key = name.lower()
        value = value.strip(" \t")
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return int(match[1]), int(match[2]), headers


def _content_length(value: str) -> int:
    values = {part.strip() for part in value.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise TransportError(f"invalid Content-Length: {value[:40]!r}")
    return int(values.pop())


def _take(stream: Stream, size: int) -> bytes:
    """Exactly ``size`` bytes (the connection must not end before)."""
    buffer = stream.buffer
    while len(buffer) < size:
        if not stream.fill():
            raise TransportError("the server closed the connection in the middle of the body")
    data = bytes(buffer[:size])
    del buffer[:size]
    return data


def _line(stream: Stream) -> bytes:
    buffer = stream.buffer
    end = buffer.find(b"\r\n")
    while end < 0:
        if len(buffer) > _MAX_LINE:
            raise TransportError("a chunk line is too long")
        if not stream.fill():
            raise TransportError("the server closed the connection in the middle of the body")
        end = buffer.find(b"\r\n")
    line = bytes(buffer[:end])
    del buffer[: end + 2]
    return line


def _sized(stream: Stream, length: int, cap: int) -> tuple[bytes, bool]:
    if length <= cap:
        return _take(stream, length), True
    return _take(stream, cap), False


def _chunked(stream: Stream, cap: int) -> tuple[bytes, bool]:
    body = bytearray()
    while True:
        size_text = _line(stream).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise TransportError(f"invalid chunk size: {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            for _ in range(_MAX_HEADERS + 1):
                if not _line(stream):  # the end of the trailers
                    return bytes(body), True
            raise TransportError("too many trailer lines")
        room = cap - len(body)
        if size > room:
            # The rest is not read: the answer stands with what fits, the connection closes.
            body += _take(stream, room)
            return bytes(body), False
        body += _take(stream, size)
        if _take(stream, 2) != b"\r\n":
            raise TransportError("a chunk does not end with CRLF")


def _until_close(stream: Stream, cap: int) -> tuple[bytes, bool]:
    buffer = stream.buffer
    while len(buffer) < cap and stream.fill():
        pass
    body = bytes(buffer[:cap])
    buffer.clear()
    return body, False
