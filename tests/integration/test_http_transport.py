"""http_sink's transport against nginx and against hostile servers.

- TLS (a private CA, verify on, off, or with the CA file), proxies from the environment (nginx
  as a plain HTTP proxy; a CONNECT tunnel for https), redirects that are not followed,
  Content-Length, chunked and close-delimited answers, and connections reused or replaced
  after errors, after nginx's ``keepalive_requests`` and after its idle keep-alive timeout.
- Total deadlines (issue 11, class 4): a server that never answers, trickles its headers or
  its body a byte at a time, sends headers then stalls, or sends an endless body costs one
  attempt at most ``timeout_sec``. The bounds are generous (several seconds over a 1 s
  deadline) so that a busy machine cannot fail them, while a per-read timeout would let each
  of these servers hold the sink for hours.
"""

from __future__ import annotations

import base64
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from schnitzel_stream.nodes.http import HttpJsonSink
from schnitzel_stream.packet import Packet
from tests.support.nginx import Certificates, Nginx, make_certificates, running_nginx
from tests.support.raw_servers import (
    Behaviour,
    ConnectProxy,
    HostileServer,
    chunked_ok,
    close_delimited_ok,
    endless_chunked,
    endless_close_delimited,
    head_then_stall,
    silent,
    trickle_body,
    trickle_head,
)

if TYPE_CHECKING:
    from tests.support.http_backend import BackendProcess

PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "all_proxy",
)
#: A deadline of one second, and the most any attempt may take on a busy machine.
DEADLINE = 1.0
BOUND = 10.0


@pytest.fixture(autouse=True)
def no_proxy_from_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def backend() -> Iterator[BackendProcess]:
    # Imported here, not at the top: pytest must load it as a plugin (test_http_sink.py) first.
    from tests.support.http_backend import backend_process

    with backend_process("--keep-bodies") as server:
        yield server


@pytest.fixture
def nginx(tmp_path: Path, backend: BackendProcess, certificates: Certificates) -> Iterator[Nginx]:
    with running_nginx(tmp_path, backend.port, certificates=certificates) as server:
        yield server


def event(i: int = 1) -> Packet:
    return Packet.new("event", "cam", {"i": i}, meta={"idempotency_key": f"k-{i}"})


def make_sink(url: str, **config: Any) -> HttpJsonSink:
    base = {"url": url, "retry_max_attempts": 1, "retry_backoff_sec": 0.01, "retry_backoff_max_sec": 0.05}
    return HttpJsonSink(node_id="out", config={**base, **config})


def deliver(url: str, count: int = 1, **config: Any) -> dict[str, int]:
    sink = make_sink(url, **config)
    try:
        for i in range(count):
            sink.process(event(i))
    finally:
        sink.close()
    return sink.metrics()


# -- TLS -------------------------------------------------------------------------------------


def test_tls_with_the_servers_ca(nginx: Nginx, certificates: Certificates, backend: BackendProcess) -> None:
    metrics = deliver(nginx.url(tls=True), 3, verify_tls=str(certificates.ca))
    assert (metrics["sent"], metrics["connections"]) == (3, 1)
    assert backend.stats()["accepted"] == 3


def test_tls_refuses_a_server_it_cannot_verify(nginx: Nginx, backend: BackendProcess) -> None:
    metrics = deliver(nginx.url(tls=True))
    assert (metrics["sent"], metrics["conn_errors"]) == (0, 1)
    assert backend.stats()["requests"] == 0


def test_tls_without_verification_when_configured(nginx: Nginx) -> None:
    assert deliver(nginx.url(tls=True), verify_tls=False)["sent"] == 1


def test_tls_checks_the_host_name(tmp_path: Path, backend: BackendProcess) -> None:
    # Signed by a CA the sink trusts, but for another name than the one in the URL.
    other = make_certificates(tmp_path / "other", names="DNS:events.example.com")
    with running_nginx(tmp_path, backend.port, certificates=other) as server:
        metrics = deliver(server.url(tls=True), verify_tls=str(other.ca))
    assert (metrics["sent"], metrics["conn_errors"]) == (0, 1)
    assert backend.stats()["requests"] == 0


# -- proxies -----------------------------------------------------------------------------------


def test_http_proxy_from_the_environment(
    nginx: Nginx, backend: BackendProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", f"http://proxyuser:proxypass@127.0.0.1:{nginx.port}")
    # The endpoint named in the URL is the backend; the request goes to nginx, which passes it on.
    metrics = deliver(f"http://127.0.0.1:{backend.port}/ingest", 2)
    assert metrics["sent"] == 2
    (first, _) = backend.records()
    assert first["headers"]["Host"] == "upstream_backend"  # what nginx's proxy_pass sends
    expected = "Basic " + base64.b64encode(b"proxyuser:proxypass").decode()
    assert first["headers"]["Proxy-Authorization"] == expected


def test_no_proxy_is_honoured(nginx: Nginx, backend: BackendProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{nginx.port}")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert deliver(f"http://127.0.0.1:{backend.port}/ingest")["sent"] == 1
    assert backend.records()[0]["headers"]["Host"] == f"127.0.0.1:{backend.port}"


def test_https_through_a_connect_tunnel(
    nginx: Nginx, certificates: Certificates, backend: BackendProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("https_proxy", f"http://tunnel:s3cret-pw@127.0.0.1:{proxy.port}")
        metrics = deliver(nginx.url(tls=True), 3, verify_tls=str(certificates.ca))
    assert (metrics["sent"], metrics["connections"]) == (3, 1)
    (head,) = proxy.seen
    assert head.startswith(f"CONNECT localhost:{nginx.tls_port} HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic " + base64.b64encode(b"tunnel:s3cret-pw").decode() in head
    # The proxy credentials never reach the endpoint.
    assert all("Proxy-Authorization" not in r["headers"] for r in backend.records())


# -- answers -----------------------------------------------------------------------------------


def test_redirects_are_not_followed(nginx: Nginx) -> None:
    sink = make_sink(nginx.url("/moved"), retry_max_attempts=3)
    try:
        assert list(sink.process(event())) == []
    finally:
        sink.close()
    metrics = sink.metrics()
    assert (metrics["requests"], metrics["status_other"], metrics["dropped"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("behaviour", "connections"),
    [
        pytest.param(chunked_ok, 1, id="chunked-keep-alive"),
        pytest.param(close_delimited_ok, 5, id="close-delimited"),
    ],
)
def test_chunked_and_close_delimited_answers(behaviour: Behaviour, connections: int) -> None:
    with HostileServer(behaviour) as server:
        metrics = deliver(server.url, 5)
    assert (metrics["sent"], metrics["connections"], metrics["conn_errors"]) == (5, connections, 0)


def test_chunked_answers_from_nginx_keep_one_connection(tmp_path: Path) -> None:
    # nginx re-chunks an upstream answer without a length for its HTTP/1.1 client.
    with HostileServer(chunked_ok) as upstream, running_nginx(tmp_path, upstream.port) as server:
        metrics = deliver(server.url(), 20)
    assert (metrics["sent"], metrics["connections"], metrics["conn_errors"]) == (20, 1, 0)


def test_content_length_answers_keep_one_connection(nginx: Nginx) -> None:
    metrics = deliver(nginx.url("/fast"), 50)
    assert (metrics["sent"], metrics["connections"]) == (50, 1)


def test_a_new_connection_after_nginx_closes_one(nginx: Nginx, backend: BackendProcess) -> None:
    # A body over nginx's 1 MiB limit: 413, and nginx closes the connection after its answer.
    sink = make_sink(nginx.url(), on_failure="drop")
    try:
        sink.process(Packet.new("event", "cam", {"pad": "x" * (1 << 20)}))
        for i in range(3):
            sink.process(event(i))
    finally:
        sink.close()
    metrics = sink.metrics()
    assert (metrics["status_4xx"], metrics["sent"], metrics["conn_errors"]) == (1, 3, 0)
    assert metrics["connections"] == 2


def test_connections_survive_nginx_keepalive_requests(nginx: Nginx) -> None:
    # nginx closes a connection after 1000 requests (keepalive_requests); no request fails.
    metrics = deliver(nginx.url("/fast"), 1100)
    assert (metrics["sent"], metrics["conn_errors"], metrics["retries"]) == (1100, 0, 0)
    assert metrics["connections"] == 2


def test_a_connection_nginx_closed_while_idle_is_replaced_without_an_error(
    tmp_path: Path, backend: BackendProcess
) -> None:
    with running_nginx(tmp_path, backend.port, keepalive_timeout="1s") as server:
        sink = make_sink(server.url("/fast"))
        try:
            sink.process(event(1))
            time.sleep(2.0)  # past nginx's keep-alive timeout: it closed the idle connection
            sink.process(event(2))
        finally:
            sink.close()
    metrics = sink.metrics()
    assert (metrics["sent"], metrics["conn_errors"], metrics["retries"], metrics["connections"]) == (
        2,
        0,
        0,
        2,
    )


# -- total deadlines (issue 11, class 4) --------------------------------------------------------


def timed_delivery(url: str, **config: Any) -> tuple[float, dict[str, int]]:
    """Deliver one event on a thread; fail (instead of hanging) if it outlives BOUND."""
    sink = make_sink(url, timeout_sec=DEADLINE, **config)
    started = time.monotonic()
    worker = threading.Thread(target=sink.process, args=(event(),), daemon=True)
    worker.start()
    worker.join(BOUND * 3)
    elapsed = time.monotonic() - started
    if worker.is_alive():
        sink.interrupt()
        raise AssertionError(f"one attempt with a {DEADLINE}s deadline still runs after {elapsed:.0f}s")
    sink.close()
    return elapsed, sink.metrics()


@pytest.mark.parametrize(
    ("behaviour", "delivered"),
    [
        pytest.param(silent, False, id="never-answers"),
        pytest.param(trickle_head, False, id="trickles-its-headers"),
        # The status line and headers are in: the server answered 200 and the event counts as
        # delivered; only reading the rest of the body is cut at the deadline.
        pytest.param(trickle_body, True, id="trickles-its-body"),
        pytest.param(head_then_stall, True, id="headers-then-stall"),
    ],
)
def test_one_attempt_never_outlasts_its_deadline(behaviour: Behaviour, delivered: bool) -> None:
    with HostileServer(behaviour) as server:
        elapsed, metrics = timed_delivery(server.url)
    assert elapsed < BOUND
    assert metrics["sent"] == int(delivered)
    assert metrics["timeouts"] == int(not delivered)


@pytest.mark.parametrize(
    "behaviour", [endless_chunked, endless_close_delimited], ids=["chunked", "close-delimited"]
)
def test_an_endless_body_is_read_only_to_the_cap(behaviour: Behaviour) -> None:
    with HostileServer(behaviour) as server:
        tracemalloc.start()
        try:
            elapsed, metrics = timed_delivery(server.url, max_response_bytes=4096)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert elapsed < BOUND and metrics["sent"] == 1
    assert peak < 4 * 1024 * 1024


def test_a_tls_handshake_that_never_completes_is_bounded() -> None:
    with HostileServer(silent) as server:
        elapsed, metrics = timed_delivery(server.url.replace("http://", "https://"))
    assert elapsed < BOUND and metrics["timeouts"] == 1


def test_retries_of_a_silent_server_add_up_to_attempts_times_the_deadline() -> None:
    with HostileServer(silent) as server:
        elapsed, metrics = timed_delivery(server.url, retry_max_attempts=3, retry_budget_per_sec=0)
    assert (metrics["requests"], metrics["timeouts"]) == (3, 3)
    assert elapsed < 3 * DEADLINE + BOUND
    assert server.connections == 3  # a timed-out connection is never reused
