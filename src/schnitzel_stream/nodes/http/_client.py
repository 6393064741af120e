"""One HTTP request at a time over a keep-alive session, and the retry loop around it.

:class:`HttpClient` owns one ``requests.Session`` (imported lazily: ``validate`` never pays
for requests). :meth:`HttpClient.deliver` sends one body until it succeeds, fails finally,
or the node is interrupted, using the shared :mod:`._retry` mechanism: exponential backoff
with full jitter, ``Retry-After`` for 429/503 (capped), and a token-bucket retry budget
that, while the backend is failing, every request spends from, so an outage never turns
into a request storm.
"""

from __future__ import annotations

import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from schnitzel_stream import redact
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes._retry import Backoff, RetryBudget
from schnitzel_stream.nodes.http._config import HttpSinkSettings

if TYPE_CHECKING:
    import requests

_READ_CHUNK = 16384
_REASON_BODY_CHARS = 200


@dataclass(slots=True)
class HttpCounters:
    """The sink's integer counters; ``metrics()`` returns them as a dict."""

    requests: int = 0
    sent: int = 0
    retries: int = 0
    failures: int = 0
    dropped: int = 0
    kept: int = 0
    dead_lettered: int = 0
    interrupted: int = 0
    budget_waits: int = 0
    status_2xx: int = 0
    status_4xx: int = 0
    status_5xx: int = 0
    status_other: int = 0
    conn_errors: int = 0
    timeouts: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one request. ``reason`` is already redacted."""

    ok: bool
    retryable: bool
    reason: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of :meth:`HttpClient.deliver`."""

    ok: bool
    attempts: int
    reason: str
    status: int | None = None
    interrupted: bool = False
    #: The receiver refused this packet itself (a status in ``reject_status``): retrying
    #: can never succeed, so behind a queue it goes to the dead letters.
    rejected: bool = False


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means "-0000"
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


class HttpClient:
    """Sends request bodies for one sink; not thread-safe (the sink serialises calls)."""

    def __init__(
        self,
        settings: HttpSinkSettings,
        counters: HttpCounters,
        interrupted: threading.Event,
        wait: Callable[[float], bool],
        logger: logging.Logger,
        label: str,
        rng: random.Random | None = None,
    ) -> None:
        import requests
        import requests.adapters
        import requests.utils

        self._settings = settings
        self._counters = counters
        self._interrupted = interrupted
        # The node's wait(): sleeps unless interrupted, and tells the watchdog we are alive.
        self._wait = wait
        self._log = logger
        self._label = label
        self._requests = requests
        self._backoff = Backoff(
            settings.retry_backoff_sec, settings.retry_backoff_max_sec, rng or random.Random()
        )
        self._budget = RetryBudget(settings.retry_budget_per_sec)
        self._failing_since: float | None = None
        #: Time of each request, answer included (the ``request`` histogram of the sink).
        self.request_latency = LatencyHistogram()
        self._session = requests.Session()
        # Our own loop retries; urllib3's must not multiply the attempts behind our back.
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = "schnitzel-stream http_sink"
        self._timeout = (settings.connect_timeout_sec, settings.read_timeout_sec)
        # requests re-reads the proxy and CA-bundle variables (and ~/.netrc) from the
        # environment on every request, which costs more than the request itself on a busy
        # device. The URL is fixed, so read them once; ~/.netrc is not used.
        self._session.proxies.update(requests.utils.get_environ_proxies(settings.url))
        verify = settings.verify_tls
        if verify is True:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._verify = verify
        self._session.trust_env = False

    def close(self) -> None:
        self._session.close()

    def deliver(self, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """Send ``body`` until it succeeds, fails finally, or the node is interrupted."""
        settings = self._settings
        attempts = 0
        last = Attempt(ok=False, retryable=True, reason="not attempted")
        while True:
            if self._interrupted.is_set():
                return Delivery(False, attempts, "stopped before delivery", last.status, interrupted=True)
            # While the backend is failing, first attempts spend tokens too: otherwise a stream
            # of new packets, each with one free attempt, would be a request storm of its own.
            if (attempts > 0 or self._failing_since is not None) and not self._spend_token():
                return Delivery(False, attempts, "stopped before delivery", last.status, interrupted=True)
            started = time.perf_counter_ns()
            last = self._send_once(body, headers)
            self.request_latency.observe_ns(time.perf_counter_ns() - started)
            attempts += 1
            if last.ok:
                self._mark_healthy()
                return Delivery(True, attempts, last.reason, last.status)
            if not last.retryable:
                # The backend answered; it is up, it just refuses this request.
                self._mark_healthy()
                rejected = last.status is not None and last.status in settings.reject_status
                return Delivery(False, attempts, last.reason, last.status, rejected=rejected)
            self._mark_failing(last.reason)
            if settings.retry_max_attempts and attempts >= settings.retry_max_attempts:
                return Delivery(False, attempts, last.reason, last.status)
            delay = self._backoff.delay(attempts - 1)
            if last.retry_after is not None:
                delay = max(delay, min(last.retry_after, settings.retry_backoff_max_sec))
            self._counters.retries += 1
            if self._wait(delay):
                return Delivery(False, attempts, "stopped before delivery", last.status, interrupted=True)

    def _spend_token(self) -> bool:
        before = self._budget.waits
        acquired = self._budget.wait_for_token(self._interrupted, self._wait)
        self._counters.budget_waits += self._budget.waits - before
        return acquired

    def _mark_failing(self, reason: str) -> None:
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            self._log.warning(
                "%s: %s is failing (%s); retrying with backoff",
                self._label,
                self._settings.display_url,
                reason,
            )

    def _mark_healthy(self) -> None:
        if self._failing_since is not None:
            down = time.monotonic() - self._failing_since
            self._failing_since = None
            self._log.info("%s: %s answers again after %.1f s", self._label, self._settings.display_url, down)

    def _send_once(self, body: bytes, headers: Mapping[str, str]) -> Attempt:
        exc_types = self._requests.exceptions
        counters = self._counters
        counters.requests += 1
        try:
            response = self._session.request(
                self._settings.method,
                self._settings.url,
                data=body,
                headers=dict(headers),
                timeout=self._timeout,
                stream=True,
                # A 301/302 would turn the POST into a GET and "succeed" without the data: a
                # redirect is a final failure that names where the endpoint moved instead.
                allow_redirects=False,
                verify=self._verify,
            )
        except exc_types.Timeout as exc:  # before ConnectionError: ConnectTimeout is both
            counters.timeouts += 1
            return Attempt(ok=False, retryable=True, reason=f"timeout: {_describe(exc)}")
        except exc_types.ConnectionError as exc:
            counters.conn_errors += 1
            return Attempt(ok=False, retryable=True, reason=f"connection error: {_describe(exc)}")
        except (exc_types.RequestException, ValueError) as exc:
            # Invalid header values and the like: retrying cannot fix them.
            return Attempt(ok=False, retryable=False, reason=f"request failed: {_describe(exc)}")
        try:
            return self._read_response(response)
        except exc_types.Timeout as exc:
            counters.timeouts += 1
            return Attempt(ok=False, retryable=True, reason=f"timeout reading response: {_describe(exc)}")
        except (exc_types.RequestException, OSError) as exc:
            counters.conn_errors += 1
            return Attempt(
                ok=False, retryable=True, reason=f"connection error reading response: {_describe(exc)}"
            )
        finally:
            response.close()

    def _read_response(self, response: requests.Response) -> Attempt:
        status = response.status_code
        # Read at most max_response_bytes: a huge or endless body must not fill memory. A body
        # read to its end lets urllib3 reuse the connection; a capped one closes it.
        cap = self._settings.max_response_bytes
        head = bytearray()
        if cap > 0:
            for chunk in response.iter_content(chunk_size=min(_READ_CHUNK, cap)):
                head += chunk[: cap - len(head)]
                if len(head) >= cap:
                    break
        counters = self._counters
        if 200 <= status < 300:
            counters.status_2xx += 1
            return Attempt(ok=True, retryable=False, reason=f"HTTP {status}", status=status)
        if 400 <= status < 500:
            counters.status_4xx += 1
        elif 500 <= status < 600:
            counters.status_5xx += 1
        else:
            counters.status_other += 1
        snippet = bytes(head[:_REASON_BODY_CHARS]).decode("utf-8", "replace").strip()
        if 300 <= status < 400:
            snippet = f"redirect to {response.headers.get('Location', '?')}"
        reason = f"HTTP {status}" + (f": {redact.redact(' '.join(snippet.split()))}" if snippet else "")
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Attempt(
            ok=False,
            retryable=status in self._settings.retry_on_status,
            reason=reason,
            status=status,
            retry_after=retry_after,
        )


def _describe(exc: BaseException) -> str:
    """A short, redacted description of a requests exception (its chain is long and noisy)."""
    text = str(exc) or type(exc).__name__
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", None)
    if reason is not None:
        text = str(reason)
    return redact.redact(f"{type(exc).__name__}: {' '.join(text.split())}")[:300]
