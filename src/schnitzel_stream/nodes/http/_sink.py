"""``http_sink``: deliver packets as JSON to an HTTP endpoint.

Delivery, in short:

- One keep-alive connection (``_transport``); each attempt has one total deadline,
  ``timeout_sec``. Every request carries an idempotency key so the receiver can de-duplicate
  retries and redeliveries; the wire format (bodies, keys, batches) is in ``_wire``.
- Retries use exponential backoff with full jitter, honour ``Retry-After`` on 429/503 (capped
  by ``retry_backoff_max_sec``), and spend from a per-sink retry budget (see ``_client``).
- ``forward: true`` passes a packet on only after it was delivered; that is how
  ``sqlite_queue_ack`` follows this sink (queue source -> http_sink -> ack).
- A packet that cannot be delivered meets its ``on_failure`` policy (``_delivery``):
  ``error`` raises :class:`DeliveryError` (the graph stops, non-zero exit), ``drop`` counts
  and logs it, ``keep`` does not forward it so it stays unacknowledged and the queue delivers
  it again, ``dead_letter`` forwards it marked as rejected so ``sqlite_queue_ack`` moves it
  to the queue's dead letters. ``auto`` (the default), for packets from a durable queue, keeps
  them when retries ran out and dead-letters them when the application rejected the packet
  itself (a status in ``reject_status`` with a JSON answer, or a payload that is not JSON);
  other packets are dropped.

Batch mode (``batch_max > 1``) buffers packets and sends a batch when it is full, or when its
oldest packet has waited ``batch_linger_ms`` (checked on every packet and on the engine's
idle ``tick()``). When the input ends, however the graph ends, the engine calls ``flush()``
before the nodes downstream stop, so the last partial batch is sent and its packets reach
``sqlite_queue_ack``. A batch the application rejects (or a 413 from anyone) is split in
halves and sent again, down to the single packets that are refused, so one bad packet never
takes its batch to the dead letters.

All of this runs on the engine's worker thread; a lock only keeps ``close()``, which the
engine may call from its own thread at a stop deadline, from using the connection at the
same time.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from schnitzel_stream import redact
from schnitzel_stream.errors import ConfigError, DeliveryError, Problem
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes import _delivery
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.nodes.http._config import HttpSinkSettings, parse_settings
from schnitzel_stream.nodes.http._spec import HTTP_SINK_SPEC
from schnitzel_stream.nodes.http._wire import batch_body, header_key
from schnitzel_stream.packet import Packet

if TYPE_CHECKING:
    from schnitzel_stream.nodes.http._client import Delivery

_log = logging.getLogger("schnitzel_stream.nodes.http")

#: How long close() may spend sending what is still buffered when the engine did not flush
#: it (direct use, or a stop that skipped the flush); whatever is left meets ``on_failure``.
CLOSE_GRACE_SEC = 1.0
_CLOSE_SETTLE_SEC = 0.5


class _Item(NamedTuple):
    packet: Packet
    body: bytes
    key: str
    queued_at: float


class HttpJsonSink(Node):
    """POST packets (or batches of packets) as JSON to an HTTP endpoint."""

    SPEC = HTTP_SINK_SPEC

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        # Imported here: `validate` reads SPECS only, and the client pulls in sockets and ssl.
        from schnitzel_stream.nodes.http._client import HttpClient, HttpCounters

        super().__init__(node_id=node_id, config=config)
        self._settings: HttpSinkSettings = parse_settings(node_id, self.config)
        self._label = f"http_sink {node_id}"
        self._counters = HttpCounters()
        try:
            self._client = HttpClient(
                self._settings, self._counters, self.interrupted, self.wait, _log, self._label
            )
        except OSError as exc:  # ssl.SSLError included: a CA bundle that does not load
            raise ConfigError(
                Problem(
                    "http.tls",
                    f"node {node_id!r} (http_sink): cannot load the CA bundle {self._settings.verify_tls}: "
                    f"{redact.redact(str(exc))}",
                    f"nodes.{node_id}.config.verify_tls",
                )
            ) from None
        self._base_headers = {"Content-Type": "application/json", **self._settings.headers}
        self._field = "packet" if self._settings.body == "packet" else "payload"
        #: Serialises use of the connection between the worker and a late close().
        self._lock = threading.Lock()
        self._buffer: list[_Item] = []
        #: The clock of batch lingering (a test replaces it).
        self.clock = time.monotonic

    # -- the node contract -------------------------------------------------------------------

    def process(self, packet: Packet) -> Iterable[Packet]:
        out: list[Packet] = []
        item = self._encode(packet, out)
        if item is None:
            return out
        settings = self._settings
        with self._lock:
            if settings.batch_max == 1:
                out.extend(self._send([item]))
                return out
            self._buffer.append(item)
            self._send_due(out, force=False)
        return out

    def tick(self) -> Iterable[Packet]:
        """Send a batch whose oldest packet has lingered long enough; the packets to pass on.

        The engine calls this when the node's inbox has been idle for a moment.
        """
        out: list[Packet] = []
        if self._buffer:
            with self._lock:
                self._send_due(out, force=False)
        return out

    def flush(self) -> Iterable[Packet]:
        """Send everything still buffered and return the packets to pass on.

        The engine calls this once the input has ended, before the nodes downstream stop,
        so that packets of the last partial batch reach ``sqlite_queue_ack``.
        """
        out: list[Packet] = []
        if self._buffer:
            with self._lock:
                self._send_due(out, force=True)
        return out

    def close(self) -> None:
        """Send what is still buffered, for at most ``CLOSE_GRACE_SEC``; release the connection.

        In a graph the engine has flushed the buffer already, unless its stop deadline passed
        (then the node is interrupted and gets no grace: its buffered packets meet
        ``on_failure`` at once, and behind a queue they stay unacknowledged for the next run).
        Packets delivered here cannot be passed on any more; behind a queue they will be
        delivered again (at least once).
        """
        grace = 0.0 if self.interrupted.is_set() else CLOSE_GRACE_SEC
        deadline = threading.Timer(grace, self.interrupt)
        deadline.daemon = True
        deadline.start()
        try:
            if self._lock.acquire(timeout=grace + _CLOSE_SETTLE_SEC if grace else 0.0):
                try:
                    self._close_buffer()
                finally:
                    self._lock.release()
            else:
                _log.warning(
                    "%s: stopping while a request is still in progress; it and %d buffered packet(s) "
                    "were not sent (behind a queue they stay unacknowledged)",
                    self._label,
                    len(self._buffer),
                )
        finally:
            deadline.cancel()
            self._client.close()

    def metrics(self) -> dict[str, int]:
        return {**self._counters.as_dict(), "buffered": len(self._buffer)}

    def histograms(self) -> Mapping[str, LatencyHistogram]:
        return {"request": self._client.request_latency}

    # -- internals ---------------------------------------------------------------------------

    def _close_buffer(self) -> None:
        out: list[Packet] = []
        try:
            if self.interrupted.is_set():
                items, self._buffer = self._buffer, []
                if items:
                    out = self._give_up(
                        [i.packet for i in items], "stopped before delivery", 0, permanent=False
                    )
            else:
                self._send_due(out, force=True)
        except DeliveryError as exc:
            _log.error("%s: %s", self._label, redact.redact(str(exc)))
        passed = [p for p in out if _delivery.rejection_of(p) is None]
        if passed:
            _log.warning(
                "%s: %d packet(s) delivered while closing could not be passed on; behind a queue "
                "they stay unacknowledged and are delivered again",
                self._label,
                len(passed),
            )

    def _encode(self, packet: Packet, out: list[Packet]) -> _Item | None:
        value = packet.to_dict() if self._field == "packet" else packet.payload
        try:
            body = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:  # UnicodeEncodeError (a lone surrogate) included
            reason = f"payload is not JSON-portable ({type(exc).__name__})"
            with self._lock:
                out.extend(self._give_up([packet], reason, 0, permanent=True))
            return None
        return _Item(packet, body, packet.idempotency_key, self.clock())

    def _send_due(self, out: list[Packet], *, force: bool) -> None:
        """Send buffered batches that are full or lingered long enough (all, when ``force``).

        Called with the lock held.
        """
        batch_max = self._settings.batch_max
        buffer = self._buffer
        while buffer and (
            force
            or len(buffer) >= batch_max
            or self.clock() - buffer[0].queued_at >= self._settings.batch_linger_sec
        ):
            batch = buffer[:batch_max]
            del buffer[:batch_max]
            out.extend(self._send(batch))

    def _send(self, items: list[_Item]) -> list[Packet]:
        """One request for ``items`` (the lock held); the packets to pass on.

        A batch the application rejected, or that anyone answered 413 (too large), is split
        in halves that are sent on their own, down to single packets.
        """
        settings = self._settings
        headers = dict(self._base_headers)
        if settings.batch_max == 1:
            body, key = items[0].body, header_key(items[0].key)
        else:
            body, key = batch_body([i.key for i in items], [i.body for i in items], self._field)
            self._counters.batches += 1
        if settings.idempotency_header:
            headers[settings.idempotency_header] = key
        result = self._client.deliver(body, headers)
        if not result.ok:
            if len(items) > 1 and (result.rejected or result.status == 413) and not result.interrupted:
                self._counters.splits += 1
                half = len(items) // 2
                return self._send(items[:half]) + self._send(items[half:])
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
