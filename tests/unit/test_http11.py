"""The HTTP/1.1 exchange of http_sink (nodes/http/_http11.py) over real socket pairs.

The server side writes bytes into one end of ``socket.socketpair()``; the client reads the
answer from the other. No clock is involved except where the deadline is the point, and
there the deadline has already passed (no waiting).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schnitzel_stream.nodes.http._http11 import (
    Answer,
    DeadlineExceeded,
    Stream,
    TransportError,
    encode_request,
    read_answer,
)


@pytest.fixture
def pair() -> Iterator[tuple[Stream, socket.socket]]:
    client, server = socket.socketpair()
    try:
        yield Stream(client, time.monotonic() + 30), server
    finally:
        client.close()
        server.close()


def answer_of(
    pair: tuple[Stream, socket.socket], data: bytes, *, close: bool = False, cap: int = 1 << 16
) -> tuple[Answer, bool]:
    stream, server = pair
    server.sendall(data)
    if close:
        server.shutdown(socket.SHUT_WR)
    return read_answer(stream, "POST", cap)


def test_the_request_is_one_buffer_with_host_and_length() -> None:
    data = encode_request("POST", "/ingest?x=1", "h:8080", {"Idempotency-Key": "k-1"}, b'{"a":1}')
    assert data == (
        b"POST /ingest?x=1 HTTP/1.1\r\nHost: h:8080\r\nContent-Length: 7\r\n"
        b'Idempotency-Key: k-1\r\n\r\n{"a":1}'
    )


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "v\r\nInjected: 1"}, {"X-A": "v\nx"}, {"Bad Name": "v"}, {"X-A": "\x00"}],
    ids=["crlf", "lf", "space-in-name", "nul"],
)
def test_a_header_that_would_split_the_request_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cannot carry"):
        encode_request("POST", "/", "h", headers, b"")


def test_content_length_answer_keeps_the_connection(pair: tuple[Stream, socket.socket]) -> None:
    answer, reusable = answer_of(
        pair, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    assert (answer.status, answer.content_type, answer.head, reusable) == (
        200,
        "application/json",
        b"{}",
        True,
    )


def test_chunked_answer_with_extensions_and_trailers(pair: tuple[Stream, socket.socket]) -> None:
    data = (
        b"HTTP/1.1 422 Unprocessable\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n"
    )
    answer, reusable = answer_of(pair, data)
    # gzip is not undone (the body only feeds a log line), but the chunks are.
    assert (answer.status, answer.head, reusable) == (422, b"abcde", True)


def test_informational_answers_are_skipped(pair: tuple[Stream, socket.socket]) -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\r\nLink: x\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
    )
    answer, reusable = answer_of(pair, data)
    assert (answer.status, answer.head, reusable) == (204, b"", True)


def test_close_delimited_answer_is_read_to_the_end_and_not_reused(pair: tuple[Stream, socket.socket]) -> None:
    answer, reusable = answer_of(pair, b"HTTP/1.0 200 OK\r\n\r\nhello", close=True)
    assert (answer.status, answer.head, reusable) == (200, b"hello", False)


@pytest.mark.parametrize(
    ("head", "reusable"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n", False),
        (b"HTTP/1.0 200 OK\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Upgrade\r\n", True),
    ],
)
def test_connection_header_and_version_decide_reuse(
    pair: tuple[Stream, socket.socket], head: bytes, reusable: bool
) -> None:
    _, reuse = answer_of(pair, head + b"Content-Length: 0\r\n\r\n")
    assert reuse is reusable


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
        # A chunk announced as 4 GiB: only what fits the cap is read, nothing is buffered.
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n0123",
    ],
    ids=["content-length", "chunked"],
)
def test_a_body_longer_than_the_cap_is_cut_and_the_connection_dropped(
    pair: tuple[Stream, socket.socket], data: bytes
) -> None:
    answer, reusable = answer_of(pair, data, cap=4)
    assert (answer.head, reusable) == (b"0123", False)


def test_extra_bytes_after_an_answer_forbid_reuse(pair: tuple[Stream, socket.socket]) -> None:
    _, reusable = answer_of(pair, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert reusable is False


def test_a_body_cut_off_after_the_head_still_counts_as_answered(pair: tuple[Stream, socket.socket]) -> None:
    answer, reusable = answer_of(
        pair, b"HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\npartial", close=True
    )
    assert (answer.status, reusable) == (201, False)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "without a complete answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Len", "without a complete answer"),
        (b"ICY 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/2 200\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", "malformed header line"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n", "more than 100 header lines"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", "longer than 64 KiB"),
    ],
    ids=["nothing", "cut-in-head", "icy", "http2", "no-colon", "folded", "too-many", "too-long"],
)
def test_what_is_not_an_http_answer_is_a_transport_error(
    pair: tuple[Stream, socket.socket], data: bytes, fragment: str
) -> None:
    with pytest.raises(TransportError, match=fragment):
        answer_of(pair, data, close=True)


@pytest.mark.parametrize(
    "lengths", [b"Content-Length: -1", b"Content-Length: 1, 2", b"Content-Length: 0x10"], ids=str
)
def test_invalid_content_length_is_not_trusted(pair: tuple[Stream, socket.socket], lengths: bytes) -> None:
    answer, reusable = answer_of(pair, b"HTTP/1.1 200 OK\r\n" + lengths + b"\r\n\r\n", close=True)
    # The head is in (200), but the body cannot be delimited: the connection is not reused.
    assert (answer.status, reusable) == (200, False)


def test_a_passed_deadline_ends_the_read_at_once() -> None:
    client, server = socket.socketpair()
    with client, server:
        stream = Stream(client, time.monotonic() - 1)
        with pytest.raises(DeadlineExceeded):
            read_answer(stream, "POST", 100)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400) | st.builds(lambda b: b"HTTP/1.1 200 OK\r\n" + b, st.binary(max_size=300)))
def test_any_bytes_from_a_server_give_an_answer_or_a_transport_error(data: bytes) -> None:
    client, server = socket.socketpair()
    with client, server:
        server.sendall(data)
        server.shutdown(socket.SHUT_WR)
        try:
            answer, _ = read_answer(Stream(client, time.monotonic() + 10), "POST", 1024)
        except TransportError:
            return
        assert 100 <= answer.status <= 999 and len(answer.head) <= 1024
