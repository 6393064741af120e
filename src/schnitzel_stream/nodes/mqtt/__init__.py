"""``mqtt_sink``: packets to an MQTT broker (QoS 0/1, forwarded only after PUBACK).

``_spec`` is what ``validate`` reads (the spec, with ``_schema`` its JSON Schema), ``_sink``
the node, ``_config`` the settings built from the schema, ``_topic`` the topic templates,
``_connection`` the broker connection with reconnect and backoff, and ``_link`` the
synchronous publish over it. ``schnitzel_stream.nodes.mqtt:MqttSink`` is the node's published
import path; the class is imported on first use (``_lazy``), so reading the spec loads none
of this.
"""

from typing import TYPE_CHECKING

from schnitzel_stream.nodes._lazy import lazy_attributes
from schnitzel_stream.nodes.mqtt._spec import MQTT_SINK_SPEC, SPECS

if TYPE_CHECKING:
    from schnitzel_stream.nodes.mqtt._sink import MqttSink
else:
    __getattr__, __dir__ = lazy_attributes(__name__, {"MqttSink": "_sink"})

__all__ = ["MQTT_SINK_SPEC", "SPECS", "MqttSink"]
