"""What ``validate`` knows of ``mqtt_sink``: its spec, without the sink's implementation.

The package's ``__init__`` imports this module eagerly and the node (``_sink``) lazily, so
reading the spec loads neither logging nor the broker connection.
"""

from __future__ import annotations

from schnitzel_stream.nodes.base import ANY_KIND, NodeSpec
from schnitzel_stream.nodes.mqtt._schema import SCHEMA

__all__ = ["MQTT_SINK_SPEC", "SPECS"]

MQTT_SINK_SPEC = NodeSpec(
    name="mqtt_sink",
    target="schnitzel_stream.nodes.mqtt:MqttSink",
    roles=frozenset({"sink", "node"}),
    title="MQTT sink",
    description=(
        "Publish each packet as JSON to an MQTT broker on a templated topic, reconnecting with backoff; "
        "with qos 1 and forward: true a packet passes on only after the broker's PUBACK."
    ),
    schema=SCHEMA,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
)

SPECS: tuple[NodeSpec, ...] = (MQTT_SINK_SPEC,)
