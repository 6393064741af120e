"""Publishing for the ``mqtt_sink``: one message at a time, waiting for its delivery.

The sink's worker thread calls :meth:`MqttLink.publish`, which queues the message in paho
and waits on the message's own completion flag; the connection's network thread
(``_connection``) writes it and reads the PUBACK.

Deadlines: a publish waits at most ``publish_timeout_sec`` in all (for the connection and
its PUBACK); a broker that took the message but never acknowledged it in that time has a
connection we no longer trust, so the network thread drops it and reconnects (paho resends
what was in flight).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes.mqtt._config import MqttSettings
from schnitzel_stream.nodes.mqtt._connection import MqttConnection

if TYPE_CHECKING:
    from paho.mqtt.client import Client, MQTTMessageInfo
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

#: How often a waiting publish looks at ``interrupted`` and at the deadline.
_WAIT_SLICE = 0.1
IDEMPOTENCY_PROPERTY = "idempotency-key"


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Whether the broker took the message; ``reason`` says why not."""

    delivered: bool
    reason: str = ""


class MqttLink(MqttConnection):
    """A connection to one broker that reconnects until closed and publishes synchronously."""

    def __init__(self, settings: MqttSettings, *, node_id: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import MQTTErrorCode

        super().__init__(settings, node_id=node_id)
        #: From publish to the PUBACK (QoS 1) or the socket write (QoS 0), delivered messages only.
        self.publish_latency = LatencyHistogram()
        self._no_conn = MQTTErrorCode.MQTT_ERR_NO_CONN
        self._error_string = mqtt.error_string
        #: PUBACK refusals by message id, guarded by ``_lock``.
        self._refusals: dict[int, str] = {}
        self._client.on_publish = self._on_publish

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        idempotency_key: str,
        interrupted: threading.Event,
        beat: Callable[[], None] = lambda: None,
    ) -> PublishResult:
        """Publish one message and wait until it is delivered, refused or out of time.

        Delivered means: at QoS 1 the broker sent a successful PUBACK; at QoS 0 the message
        was written to the socket. A message in flight when the connection drops is resent
        by paho after the reconnect; it counts as delivered only if that PUBACK arrives in
        time. A message given up on may still reach the broker later (a duplicate, never a
        loss); receivers de-duplicate by the idempotency key.

        ``interrupted`` ends every wait early (a failure); ``beat`` is called at least every
        tenth of a second while waiting, so the engine's watchdog sees the node alive.
        """
        settings = self._settings
        deadline = time.monotonic() + settings.publish_timeout_sec
        properties = self._properties(idempotency_key) if self._v5 else None
        while True:
            waited = self._wait_connected(deadline, interrupted, beat)
            if waited is not None:
                return PublishResult(False, waited)
            try:
                info = self._client.publish(
                    topic, payload, qos=settings.qos, retain=settings.retain, properties=properties
                )
            except ValueError as exc:  # topic or payload that MQTT cannot carry
                return PublishResult(False, f"cannot publish: {exc}")
            if info.rc == self._ok:
                sent = time.perf_counter_ns()
                result = self._await_delivery(info, deadline, interrupted, beat)
                if result.delivered:
                    self.publish_latency.observe_ns(time.perf_counter_ns() - sent)
                return result
            if info.rc != self._no_conn:
                return PublishResult(False, f"cannot publish: {self._error_string(info.rc)}")
            # The connection dropped between the check and the publish. paho keeps a QoS 1
            # message and sends it after the reconnect, but its info stays marked as failed, so
            # publish again on the next connection (a duplicate at worst).
            interrupted.wait(_WAIT_SLICE)

    def _wait_connected(
        self, deadline: float, interrupted: threading.Event, beat: Callable[[], None]
    ) -> str | None:
        while not self._connected.is_set():
            beat()
            if interrupted.is_set():
                return "interrupted while waiting for the broker connection"
            if self._closing.is_set():
                return "the sink is closing"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                problem = self.last_problem
                timeout = self._settings.publish_timeout_sec
                return f"not connected within {timeout:g}s" + (f" ({problem})" if problem else "")
            self._connected.wait(min(remaining, _WAIT_SLICE))
        return None

    def _await_delivery(
        self, info: MQTTMessageInfo, deadline: float, interrupted: threading.Event, beat: Callable[[], None]
    ) -> PublishResult:
        what = "PUBACK" if self._settings.qos else "socket write"
        while True:
            beat()
            try:
                if info.is_published():
                    break
            except (RuntimeError, ValueError) as exc:  # lost with the connection, or paho's queue full
                return PublishResult(False, f"publish failed: {exc}")
            if interrupted.is_set():
                return PublishResult(False, f"interrupted while waiting for the {what}")
            if self._closing.is_set():
                return PublishResult(False, "the sink is closing")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                state = "" if self._connected.is_set() else " (the connection was lost)"
                timeout = self._settings.publish_timeout_sec
                if self._connected.is_set() and self._settings.qos:
                    self._suspect.set()
                return PublishResult(False, f"no {what} within {timeout:g}s{state}")
            try:
                info.wait_for_publish(min(remaining, _WAIT_SLICE))
            except (RuntimeError, ValueError):
                continue  # is_published() raises it again, with the reason
        # on_publish ran before paho marked the message published, so a refusal is recorded.
        with self._lock:
            refusal = self._refusals.pop(info.mid, None)
        if refusal is not None:
            return PublishResult(False, f"the broker refused the message: {refusal}")
        return PublishResult(True)

    def _properties(self, idempotency_key: str) -> Properties:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.UserProperty = [(IDEMPOTENCY_PROPERTY, idempotency_key)]
        properties.ContentType = "application/json"
        properties.PayloadFormatIndicator = 1  # UTF-8 text
        return properties

    # -- paho callback (network thread) -------------------------------------------------

    def _on_publish(
        self, client: Client, userdata: Any, mid: int, reason: ReasonCode, properties: Any
    ) -> None:
        # Keyed by mid, written for every PUBACK: a later message that reuses the mid overwrites
        # (or clears) what an abandoned earlier one left behind.
        with self._lock:
            if reason.is_failure:
                self._refusals[mid] = str(reason)
            else:
                self._refusals.pop(mid, None)
