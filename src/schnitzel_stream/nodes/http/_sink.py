"""``http_sink``: deliver packets as JSON to an HTTP endpoint.

Delivery, in short:

- One ``requests.Session`` with keep-alive. Every request carries the packet's
  ``idempotency_key`` in the ``Idempotency-Key`` header (in batch mode the keys of all packets
  of the batch, comma-separated, in body order; keys with commas or non-ASCII characters are
  percent-encoded), so the receiver can de-duplicate retries and redeliveries.
- Retries use exponential backoff with full jitter, honour ``Retry-After`` on 429/503 (capped
  by ``retry_backoff_max_sec``), and spend from a per-sink retry budget (see ``_http_client``).
- ``forward: true`` passes a packet on only after it was delivered; that is how
  ``sqlite_queue_ack`` follows this sink (queue source -> http_sink -> ack).
- A packet that cannot be delivered meets its ``on_failure`` policy (``_delivery``):
  ``error`` raises :class:`DeliveryError` (the graph stops, non-zero exit), ``drop`` counts
  and logs it, ``keep`` does not forward it so it stays unacknowledged and the queue delivers
  it again, ``dead_letter`` forwards it marked as rejected so ``sqlite_queue_ack`` moves it
  to the queue's dead letters. ``auto`` (the default), for packets from a durable queue, keeps
  them when retries ran out and dead-letters them when the backend rejected the packet itself
  (a status in ``reject_status``, or a payload that is not JSON); other packets are dropped.

Batch mode (``batch_max > 1``) buffers packets and sends a JSON array when the batch is full or
its oldest packet has waited ``batch_linger_ms``. A small timer thread sends lingering batches
even when no packet follows; packets it delivered are forwarded by the next ``process()`` or
``tick()`` call.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from schnitzel_stream import redact
from schnitzel_stream.errors import DeliveryError, Problem
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes import _delivery
from schnitzel_stream.nodes.base import ANY_KIND, Node, NodeSpec
from schnitzel_stream.nodes.http._config import SCHEMA, HttpSinkSettings, parse_settings
from schnitzel_stream.packet import Packet

if TYPE_CHECKING:
    from schnitzel_stream.nodes.http._client import Delivery

_log = logging.getLogger("schnitzel_stream.nodes.http")

#: How long close() may spend sending what is still buffered. A graceful stop must end
#: within 5 s: the engine drains for up to 3 s, so a lingering batch gets 1 s (+ the settle),
#: and whatever is left stays unacknowledged in the queue for the next run.
CLOSE_GRACE_SEC = 1.0
_CLOSE_SETTLE_SEC = 0.5


@dataclass(frozen=True, slots=True)
class _Item:
    packet: Packet
    body: bytes
    key: str
    queued_at: float


def _header_key(key: str) -> str:
    # HTTP header values are Latin-1 on the wire and the batch header is comma-separated.
    if key.isascii() and key.isprintable() and "," not in key:
        return key
    return quote(key, safe="")


class HttpJsonSink(Node):
    """POST packets (or batches of packets) as JSON to an HTTP endpoint."""

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        # Imported here: `validate` reads SPECS only, and the client pulls in email.utils and sockets.
        from schnitzel_stream.nodes.http._client import HttpClient, HttpCounters

        super().__init__(node_id=node_id, config=config)
        self._settings: HttpSinkSettings = parse_settings(node_id, self.config)
        self._label = f"http_sink {node_id}"
        self._counters = HttpCounters()
        self._client = HttpClient(
            self._settings, self._counters, self.interrupted, self.wait, _log, self._label
        )
        self._base_headers = {"Content-Type": "application/json", **(self._settings.headers or {})}
        # _send_lock serialises deliveries (the session is not thread-safe, and batches keep
        # their order); _lock guards the buffer and the results of the timer thread. Always
        # take _send_lock first.
        self._send_lock = threading.Lock()
        self._lock = threading.Condition()
        self._buffer: list[_Item] = []
        self._ready: list[Packet] = []
        self._deferred: DeliveryError | None = None
        self._closed = False
        self._timer: threading.Thread | None = None

    # -- the node contract -------------------------------------------------------------------

    def process(self, packet: Packet) -> Iterable[Packet]:
        item = self._encode(packet)
        if self._settings.batch_max == 1:
            out = self._take_ready()
            if item is not None:
                with self._send_lock:
                    out.extend(self._deliver([item]))
            return out
        if item is not None:
            with self._lock:
                self._buffer.append(item)
                due = len(self._buffer) >= self._settings.batch_max or self._linger_over()
                self._ensure_timer()
                if len(self._buffer) == 1:
                    # The timer thread sleeps without a deadline only while the buffer is empty.
                    self._lock.notify_all()
            if due:
                self._flush(force=False)
        return self._take_ready()

    def tick(self) -> Iterable[Packet]:
        """Send a batch whose linger time is over and return the packets ready to forward.

        The engine may call this when the node's inbox stays empty for a moment.
        """
        if self._settings.batch_max > 1:
            self._flush(force=False)
        return self._take_ready()

    def close(self) -> None:
        """Send what is still buffered, for at most ``CLOSE_GRACE_SEC``; release the connection.

        The engine interrupts only nodes whose worker is stuck, and a lingering batch may be
        retrying on the timer thread while the worker is idle: the grace bounds that, so a
        stop never hangs on a dead backend. What is left then meets ``on_failure``.

        A node the engine already interrupted (its stop deadline passed) gets no grace: a
        request still waiting for a slow backend holds the send lock for up to the read
        timeout, and waiting for it would break the stop deadline. Unsent packets stay
        unacknowledged in their queue.
        """
        grace = 0.0 if self.interrupted.is_set() else CLOSE_GRACE_SEC
        # After the grace's interrupt, a delivery in a backoff or budget wait returns at once;
        # the settle lets it apply on_failure. Interrupted earlier, it has long done so.
        ends = time.monotonic() + (grace + _CLOSE_SETTLE_SEC if grace else 0.0)
        deadline = threading.Timer(grace, self.interrupt)
        deadline.daemon = True
        deadline.start()
        try:
            with self._lock:
                self._closed = True
                self._lock.notify_all()
            if self._timer is not None:
                self._timer.join(max(0.0, ends - time.monotonic()))
            # Bounded: a request blocked in a read does not see `interrupted` until it times out.
            if self._send_lock.acquire(timeout=max(0.0, ends - time.monotonic())):
                self._send_lock.release()
                try:
                    self._flush(force=True)
                except DeliveryError as exc:
                    _log.error("%s: %s", self._label, redact.redact(str(exc)))
            else:
                _log.warning(
                    "%s: stopping while a request is still in progress; it and %d buffered packet(s) "
                    "were not sent (behind a queue they stay unacknowledged)",
                    self._label,
                    len(self._buffer),
                )
            with self._lock:
                if self._deferred is not None:
                    _log.error("%s: %s", self._label, redact.redact(str(self._deferred)))
                    self._deferred = None
        finally:
            deadline.cancel()
            self._client.close()

    def metrics(self) -> dict[str, int]:
        with self._lock:
            buffered = len(self._buffer)
        return {**self._counters.as_dict(), "buffered": buffered}

    def histograms(self) -> Mapping[str, LatencyHistogram]:
        return {"request": self._client.request_latency}

    # -- internals ---------------------------------------------------------------------------

    def _encode(self, packet: Packet) -> _Item | None:
        value = packet.to_dict() if self._settings.body == "packet" else packet.payload
        try:
            body = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            with self._send_lock:
                reason = f"payload is not JSON-portable ({type(exc).__name__})"
                forwarded = self._give_up([packet], reason, 0, permanent=True)
            with self._lock:
                self._ready.extend(forwarded)
            return None
        return _Item(packet, body, _header_key(packet.idempotency_key), time.monotonic())

    def _linger_over(self) -> bool:
        # Called with _lock held and a non-empty buffer: the oldest packet sets the pace.
        return time.monotonic() - self._buffer[0].queued_at >= self._settings.batch_linger_sec

    def _ensure_timer(self) -> None:
        # Called with _lock held. The thread only exists in batch mode, once a packet waits.
        if self._timer is None and not self._closed:
            self._timer = threading.Thread(
                target=self._linger_loop, name=f"{self._label} linger", daemon=True
            )
            self._timer.start()

    def _linger_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                if not self._buffer:
                    self._lock.wait()
                    continue
                remaining = self._buffer[0].queued_at + self._settings.batch_linger_sec - time.monotonic()
                if remaining > 0:
                    self._lock.wait(remaining)
                    continue
            try:
                self._flush(force=False)
            except DeliveryError as exc:
                # Raised to the engine by the next process()/tick(): the graph must stop.
                with self._lock:
                    self._deferred = self._deferred or exc
            except Exception:  # noqa: BLE001 -- a bug must not silently end lingering-batch delivery
                _log.exception("%s: sending a lingering batch failed", self._label)
                self._closed_wait(1.0)

    def _closed_wait(self, seconds: float) -> None:
        with self._lock:
            if not self._closed:
                self._lock.wait(seconds)

    def _flush(self, *, force: bool) -> None:
        """Send buffered batches that are full or lingered long enough (all, when ``force``)."""
        with self._send_lock:
            while True:
                with self._lock:
                    if not self._buffer or not (
                        force or len(self._buffer) >= self._settings.batch_max or self._linger_over()
                    ):
                        return
                    batch = self._buffer[: self._settings.batch_max]
                    del self._buffer[: self._settings.batch_max]
                forwarded = self._deliver(batch)
                with self._lock:
                    self._ready.extend(forwarded)

    def _take_ready(self) -> list[Packet]:
        with self._lock:
            if self._deferred is not None:
                error, self._deferred = self._deferred, None
                raise error
            ready, self._ready = self._ready, []
        return ready

    def _deliver(self, items: list[_Item]) -> list[Packet]:
        """Send one request for ``items`` (called with _send_lock held); the packets to forward."""
        settings = self._settings
        headers = dict(self._base_headers)
        if settings.batch_max == 1:
            body = items[0].body
        else:
            body = b"[" + b",".join(item.body for item in items) + b"]"
            self._counters.batches += 1
        if settings.idempotency_header:
            headers[settings.idempotency_header] = ",".join(item.key for item in items)
        result = self._client.deliver(body, headers)
        if not result.ok:
            packets = [item.packet for item in items]
            return self._give_up(
                packets, result.reason, result.attempts, permanent=result.rejected, result=result
            )
        self._counters.sent += len(items)
        if not settings.forward:
            return []
        info = {"node_id": self.node_id, "status": result.status, "attempts": result.attempts}
        return [item.packet.with_meta(http=info) for item in items]

    def _give_up(
        self,
        packets: list[Packet],
        reason: str,
        attempts: int,
        *,
        permanent: bool,
        result: Delivery | None = None,
    ) -> list[Packet]:
        """Apply ``on_failure`` to packets that were not delivered; returns those to forward.

        Dead letters are forwarded marked as rejected, so that ``sqlite_queue_ack`` moves them
        to the queue's dead letters; without ``forward`` nothing would, so they are kept.
        """
        counters = self._counters
        counts = {"error": 0, "drop": 0, "keep": 0, "dead_letter": 0}
        forwarded: list[Packet] = []
        for packet in packets:
            outcome = _delivery.resolve(self._settings.on_failure, packet, permanent=permanent)
            if outcome == "dead_letter" and not self._settings.forward:
                outcome = "keep"
            if outcome == "dead_letter":
                forwarded.append(_delivery.mark_rejected(packet, self.node_id, redact.redact(reason)))
            counts[outcome] += 1
        counters.failures += len(packets)
        counters.dropped += counts["drop"]
        counters.kept += counts["keep"]
        counters.dead_lettered += counts["dead_letter"]
        if result is not None and result.interrupted:
            counters.interrupted += len(packets)
        what = (
            f"{self._label}: gave up on {len(packets)} packet(s) for {self._settings.display_url} "
            f"after {attempts} attempt(s): {reason}"
        )
        _log.warning(
            "%s (kept for redelivery: %d, dead letters: %d, dropped: %d, fatal: %d)",
            redact.redact(what),
            counts["keep"],
            counts["dead_letter"],
            counts["drop"],
            counts["error"],
        )
        if counts["error"]:
            raise DeliveryError(
                Problem(
                    code="http.delivery-failed",
                    message=redact.redact(what),
                    path=f"nodes.{self.node_id}",
                    hint="on_failure is 'error'; use 'auto' behind a queue or 'drop' to carry on",
                )
            )
        return forwarded


HTTP_SINK_SPEC = NodeSpec(
    name="http_sink",
    target="schnitzel_stream.nodes.http:HttpJsonSink",
    roles=frozenset({"sink", "node"}),
    title="HTTP JSON sink",
    description=(
        "Deliver packets as JSON over HTTP with keep-alive, retries (full-jitter backoff, Retry-After, "
        "a retry budget), idempotency keys, optional batching and an explicit on_failure policy."
    ),
    schema=SCHEMA,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
)
HttpJsonSink.SPEC = HTTP_SINK_SPEC

SPECS: tuple[NodeSpec, ...] = (HTTP_SINK_SPEC,)
