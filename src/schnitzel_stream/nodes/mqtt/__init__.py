"""``mqtt_sink``: packets to an MQTT broker (QoS 0/1, forwarded only after PUBACK).

``_sink`` is the node, ``_schema`` its JSON Schema, ``_config`` the settings built from it,
``_topic`` the topic templates, ``_connection`` the broker connection with reconnect and
backoff, and ``_link`` the synchronous publish over it.
``schnitzel_stream.nodes.mqtt:MqttSink`` is the node's published import path.
"""

from schnitzel_stream.nodes.mqtt._sink import SPECS, MqttSink

__all__ = ["SPECS", "MqttSink"]
