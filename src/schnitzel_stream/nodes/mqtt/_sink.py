"""The MQTT sink: many edge devices publish into one broker.

Delivery (the contract the durable queue relies on):

- With ``qos: 1`` and ``forward: true`` a packet passes downstream only after the broker's
  successful PUBACK, so ``sqlite_queue_ack`` acknowledges only what the broker accepted.
- While the broker is unreachable the sink reconnects with jittered backoff and never
  crashes; ``process()`` waits up to ``publish_timeout_sec`` (ending early when the engine
  interrupts it) and then applies ``on_failure``. A packet that was in flight when the
  connection dropped counts as delivered only if the PUBACK of its resend arrives in time.
  Otherwise it is not forwarded, and a queue delivers it again: duplicates are possible,
  losses are not.

Idempotency: every message carries the packet's ``idempotency_key`` so that receivers can
de-duplicate redeliveries. With MQTT 5 (the default) it is the user property
``idempotency-key``; with ``body: packet`` it is also ``meta.idempotency_key`` inside the JSON.
With ``protocol: mqttv311`` and ``body: payload`` the message has no room for it.

Credentials come from the environment (``username_from_env``, ``password_from_env``) and are
registered with :mod:`schnitzel_stream.redact`; log lines and errors show the broker as
``mqtt://host:port`` only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from schnitzel_stream import redact
from schnitzel_stream.errors import DeliveryError, NodeError, Problem
from schnitzel_stream.latency import LatencyHistogram
from schnitzel_stream.nodes import _delivery
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.nodes.mqtt._spec import MQTT_SINK_SPEC
from schnitzel_stream.nodes.mqtt._topic import TopicError
from schnitzel_stream.packet import IDEMPOTENCY_KEY, Packet

if TYPE_CHECKING:
    from schnitzel_stream.nodes.mqtt._config import MqttSettings

log = logging.getLogger("schnitzel_stream.nodes.mqtt")

_COUNTERS = ("published", "acked", "failures", "dropped", "kept", "dead_lettered")


class MqttSink(Node):
    """Publish each packet as JSON to an MQTT broker (plugin ``mqtt_sink``).

    Counters from :meth:`metrics`: ``published`` (delivered), ``acked`` (successful PUBACKs),
    ``failures`` (packets not delivered in time or refused), ``dropped`` and ``kept`` (what
    ``on_failure`` did with them), ``reconnects``, ``disconnects``, and ``connected`` (0 or 1).
    """

    SPEC = MQTT_SINK_SPEC

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        # Imported here: `validate` reads SPECS only, and needs neither settings nor the link.
        from schnitzel_stream.nodes.mqtt._config import parse_settings
        from schnitzel_stream.nodes.mqtt._link import MqttLink

        super().__init__(node_id=node_id, config=config)
        self.settings: MqttSettings = parse_settings(node_id, self.config)
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._warned_keep = False
        self._link = MqttLink(self.settings, node_id=node_id)
        self._link.start()

    def process(self, packet: Packet) -> Iterable[Packet]:
        settings = self.settings
        try:
            topic = settings.topic.render(packet)
        except TopicError as exc:
            # The packet does not fit the topic template: retrying can never help, and raising
            # would crash-loop on the same packet behind a queue. It is rejected instead.
            return self._give_up(packet, settings.topic.text, f"topic: {exc}", permanent=True)
        try:
            body = self._body(packet)
        except NodeError as exc:
            return self._give_up(packet, topic, exc.problems[0].message, permanent=True)
        result = self._link.publish(
            topic,
            body,
            idempotency_key=packet.idempotency_key,
            interrupted=self.interrupted,
            beat=self._beat,
        )
        if result.delivered:
            self._counts["published"] += 1
            if settings.qos == 1:
                self._counts["acked"] += 1
            return (packet,) if settings.forward else ()
        return self._give_up(packet, topic, result.reason, permanent=False)

    def _beat(self) -> None:
        # Waiting for the broker is deliberate, not a hang: tell the engine's watchdog.
        self.alive_at = time.monotonic()

    def _body(self, packet: Packet) -> bytes:
        if self.settings.body == "packet":
            document: Any = packet.to_dict()
            document["meta"] = {**packet.meta, IDEMPOTENCY_KEY: packet.idempotency_key}
        else:
            document = packet.payload
        try:
            # Encoded inside the try: a lone surrogate (text from a non-UTF-8 source) is a
            # UnicodeEncodeError, which must reject the packet, not stop the graph.
            data = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise NodeError(
                Problem(
                    "node.payload-not-portable",
                    f"node {self.node_id!r} (mqtt_sink) cannot publish packet {packet.packet_id} of kind "
                    f"{packet.kind!r}: it is not JSON-portable ({exc})",
                    f"nodes.{self.node_id}",
                    hint="only JSON values (no frames, NaN or binary data) can be published",
                )
            ) from None
        return data

    def _give_up(self, packet: Packet, topic: str, reason: str, *, permanent: bool) -> Iterable[Packet]:
        self._counts["failures"] += 1
        policy = _delivery.resolve(self.settings.on_failure, packet, permanent=permanent)
        if policy == "dead_letter" and not self.settings.forward:
            policy = "keep"  # only a forwarded packet reaches sqlite_queue_ack
        message = redact.redact(
            f"node {self.node_id!r} (mqtt_sink): packet {packet.idempotency_key} for topic {topic!r} "
            f"was not delivered to {self.settings.display_url}: {reason}"
        )
        if policy == "error":
            raise DeliveryError(Problem("mqtt.delivery", message, f"nodes.{self.node_id}"))
        if policy == "dead_letter":
            self._counts["dead_lettered"] += 1
            log.warning("%s; rejected for good, to the dead letters", message)
            return (_delivery.mark_rejected(packet, self.node_id, redact.redact(reason)),)
        if policy == "keep":
            self._counts["kept"] += 1
            log.warning("%s; kept (not forwarded), so the queue delivers it again", message)
            if not _delivery.came_from_queue(packet) and not self._warned_keep:
                self._warned_keep = True
                log.warning(
                    "node %r (mqtt_sink): on_failure is 'keep' but packets do not come from a durable "
                    "queue, so nothing will deliver them again",
                    self.node_id,
                )
        else:
            self._counts["dropped"] += 1
            log.warning("%s; dropped", message)
        return ()

    def close(self) -> None:
        """Disconnect cleanly (DISCONNECT packet) and stop the network thread."""
        self._link.close()

    def metrics(self) -> dict[str, int]:
        link = self._link
        return {
            **self._counts,
            "reconnects": link.reconnects,
            "disconnects": link.disconnects,
            "connected": int(link.connected),
        }

    def histograms(self) -> Mapping[str, LatencyHistogram]:
        return {"publish": self._link.publish_latency}
