"""One HTTP request at a time over a keep-alive connection, and the retry loop around it.

:class:`HttpClient` owns one :class:`~._transport.Transport` (the standard library's
``http.client`` with a total deadline per request). :meth:`HttpClient.deliver` sends one
body until it succeeds, fails finally, or the node is interrupted, using the shared
:mod:`._retry` mechanism: exponential backoff with full jitter, ``Retry-After`` for 429/503
(capped), and a token-bucket retry budget that, while the backend is failing, every request
spends from, so an outage never turns into a request storm.

An answer is classified once (:meth:`HttpClient._classify`): 2xx delivered; a status in
``retry_on_status`` retried; a status in ``reject_status`` *with a JSON body* is the
application refusing the packet (a rejection); every other answer, a proxy's HTML error page
included, is a final failure of this attempt that says nothing about the packet, so
behind a queue the packet is kept, never dead-lettered.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from schnitzel_stream import redact
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes._retry import Backoff, RetryBudget
from schnitzel_stream.nodes.http._config import HttpSinkSettings
from schnitzel_stream.nodes.http._transport import (
    Answer,
    DeadlineExceeded,
    Endpoint,
    Transport,
    TransportError,
)

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
    splits: int = 0
    connections: int = 0

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
    #: The application refused the request's content (see the module docstring).
    rejected: bool = False


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
        self._settings = settings
        self._counters = counters
        self._interrupted = interrupted
        # The node's wait(): sleeps unless interrupted, and tells the watchdog we are alive.
        self._wait = wait
        self._log = logger
        self._label = label
        self._backoff = Backoff(
            settings.retry_backoff_sec, settings.retry_backoff_max_sec, rng or random.Random()
        )
        self._budget = RetryBudget(settings.retry_budget_per_sec)
        self._failing_since: float | None = None
        #: Time of each request, answer included (the ``request`` histogram of the sink).
        self.request_latency = LatencyHistogram()
        endpoint = Endpoint.from_url(settings.url)
        self._transport = Transport(endpoint, settings.verify_tls)
        self._headers: dict[str, str] = {"User-Agent": "schnitzel-stream http_sink"}
        if endpoint.auth and not any(name.lower() == "authorization" for name in settings.headers):
            self._headers["Authorization"] = endpoint.auth
        if endpoint.proxy is not None and endpoint.proxy[2] and not endpoint.secure:
            self._headers["Proxy-Authorization"] = endpoint.proxy[2]

    def close(self) -> None:
        self._transport.close()

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
                return Delivery(False, attempts, last.reason, last.status, rejected=last.rejected)
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
        settings = self._settings
        counters = self._counters
        counters.requests += 1
        transport = self._transport
        opened = transport.connections
        try:
            answer = transport.request(
                settings.method,
                body,
                {**self._headers, **headers},
                timeout=settings.timeout_sec,
                connect_timeout=settings.connect_timeout_sec,
                max_body=settings.max_response_bytes,
            )
        except DeadlineExceeded:
            counters.timeouts += 1
            return Attempt(
                ok=False, retryable=True, reason=f"no complete answer within {settings.timeout_sec:g}s"
            )
        except TransportError as exc:
            counters.conn_errors += 1
            return Attempt(
                ok=False, retryable=True, reason=f"connection error: {redact.redact(str(exc))[:300]}"
            )
        except ValueError as exc:
            # A header value http.client refuses (a line break): retrying cannot fix it.
            return Attempt(
                ok=False, retryable=False, reason=f"request failed: {redact.redact(str(exc))[:300]}"
            )
        finally:
            counters.connections += transport.connections - opened
        return self._classify(answer)

    def _classify(self, answer: Answer) -> Attempt:
        status = answer.status
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
        snippet = bytes(answer.head[:_REASON_BODY_CHARS]).decode("utf-8", "replace").strip()
        if 300 <= status < 400:
            snippet = f"redirect to {answer.location or '?'}"
        reason = f"HTTP {status}" + (f": {redact.redact(' '.join(snippet.split()))}" if snippet else "")
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(answer.retry_after)
        rejected = status in self._settings.reject_status and is_json(answer.content_type)
        if status in self._settings.reject_status and not rejected:
            reason += " (not the application's answer: no JSON body, so the packet is not rejected)"
        return Attempt(
            ok=False,
            retryable=status in self._settings.retry_on_status,
            reason=reason,
            status=status,
            retry_after=retry_after,
            rejected=rejected,
        )


def is_json(content_type: str) -> bool:
    """True for ``application/json`` and every ``+json`` media type (parameters ignored)."""
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
