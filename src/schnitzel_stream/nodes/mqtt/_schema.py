"""The ``mqtt_sink`` config schema: the only source of the node's part of ``graph.schema.json``.

Plain data, nothing imported: ``validate`` reads it through the registry without paho.
"""

from __future__ import annotations

from typing import Any

from schnitzel_stream.nodes._delivery import ON_FAILURE_CHOICES, ON_FAILURE_DESCRIPTION

_ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"
#: ``mqtt://[user[:password]@]host:port`` with a required port; ``${`` leaves a URL that comes
#: whole from the environment to the runtime check.
URL_PATTERN = r"^(mqtts?://([^:@/\s]*(:[^@/\s]*)?@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}/?|\$\{.*)$"
MAX_CLIENT_ID = 128


def _prop(kind: str | list[str], title: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "title": title, "description": description, **extra}


def _choice(values: list[Any], title: str, description: str, default: Any) -> dict[str, Any]:
    return {
        "enum": values,
        "title": title,
        "description": description,
        "default": default,
        "examples": values,
    }


TLS_SCHEMA: dict[str, Any] = _prop(
    ["object", "null"],
    "TLS",
    "TLS settings for mqtts:// URLs (an mqtts:// URL uses TLS even without them). Without ca_file "
    "the system's CA store verifies the broker.",
    additionalProperties=False,
    properties={
        "ca_file": _prop(
            ["string", "null"],
            "CA file",
            "PEM file of the CA(s) that signed the broker's certificate.",
            default=None,
            examples=["${config}/mqtt/ca.pem"],
        ),
        "cert_file": _prop(
            ["string", "null"],
            "Client certificate",
            "PEM client certificate, for brokers that require mutual TLS.",
            default=None,
            examples=["${config}/mqtt/device.crt"],
        ),
        "key_file": _prop(
            ["string", "null"],
            "Client key",
            "PEM private key of cert_file.",
            default=None,
            examples=["${config}/mqtt/device.key"],
        ),
        "insecure": _prop(
            "boolean",
            "Skip the host name check",
            "Do not check that the certificate names the host. The chain is still verified. Only for "
            "brokers reached by an address their certificate does not list.",
            default=False,
            examples=[False],
        ),
    },
    dependentRequired={"key_file": ["cert_file"]},
    default=None,
    examples=[{"ca_file": "${config}/mqtt/ca.pem"}],
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "mqtt_sink config",
    "description": (
        "Publish each packet as JSON to an MQTT broker, reconnecting with jittered backoff. With qos 1 "
        "and forward: true a packet passes on only after the broker's PUBACK, so sqlite_queue_ack "
        "acknowledges only what the broker accepted."
    ),
    "additionalProperties": False,
    "required": ["url", "topic"],
    "properties": {
        "url": _prop(
            "string",
            "Broker URL",
            "mqtt://host:port, or mqtts://host:port for TLS. The port is required. Credentials in the URL "
            "are accepted (for a URL that comes whole from ${VAR}) and masked everywhere; prefer "
            "username and password_from_env.",
            pattern=URL_PATTERN,
            examples=["mqtt://broker.local:1883", "mqtts://broker.example.com:8883"],
        ),
        "topic": _prop(
            "string",
            "Topic template",
            "Topic per packet, without the wildcards '+' and '#' and not starting with '$'. {source_id} "
            "and {kind} are packet fields; any other {name} comes from topic_vars, then the payload, "
            "then meta ({payload.name} or {meta.name} to be explicit). A placeholder that a packet "
            "cannot fill is an error; values from packets may not contain '/', '+' or '#'.",
            minLength=1,
            pattern="^[^#+$][^#+]*$",
            examples=["sites/{site}/cameras/{source_id}/events", "events/{kind}/{payload.zone}"],
        ),
        "topic_vars": _prop(
            "object",
            "Static topic values",
            "Values for topic placeholders that are fixed per device, such as the site. They may contain "
            "'/' to add levels, never '+' or '#'.",
            additionalProperties={"type": ["string", "integer"]},
            default={},
            examples=[{"site": "north-gate"}],
        ),
        "qos": _choice(
            [0, 1],
            "QoS",
            "1: the broker acknowledges every message (PUBACK) and a packet counts as delivered only then. "
            "0: fire and forget; a packet counts as delivered once written to the socket, so behind a "
            "durable queue use 1.",
            1,
        ),
        "retain": _prop(
            "boolean",
            "Retain",
            "Ask the broker to keep the last message per topic for subscribers that arrive later.",
            default=False,
            examples=[False, True],
        ),
        "client_id": _prop(
            ["string", "null"],
            "Client id",
            "MQTT client id. Defaults to 'schnitzel-<host name>-<node id>', stable across restarts. Two "
            "clients with the same id disconnect each other.",
            minLength=1,
            maxLength=MAX_CLIENT_ID,
            default=None,
            examples=["gate-cam-3"],
        ),
        "protocol": _choice(
            ["mqttv5", "mqttv311"],
            "Protocol version",
            "mqttv5 sends the idempotency key as the user property 'idempotency-key' and reports "
            "messages the broker refused (PUBACK reason codes). mqttv311 is for older brokers.",
            "mqttv5",
        ),
        "keepalive_sec": _prop(
            "integer",
            "Keepalive (s)",
            "Seconds between pings on an idle connection; a dead broker is noticed after about 1.5 "
            "times this.",
            minimum=5,
            maximum=65535,
            default=30,
            examples=[30, 60],
        ),
        "username": _prop(
            ["string", "null"],
            "User name",
            "Literal user name.",
            minLength=1,
            default=None,
            examples=["edge-17"],
        ),
        "username_from_env": _prop(
            ["string", "null"],
            "User name from the environment",
            "Name of an environment variable holding the user name.",
            pattern=_ENV_NAME,
            default=None,
            examples=["MQTT_USERNAME"],
        ),
        "password_from_env": _prop(
            ["string", "null"],
            "Password from the environment",
            "Name of an environment variable holding the password (a password never sits in the graph). "
            "It is masked in every log line and error. A variable that is not set stops the node "
            "from starting.",
            pattern=_ENV_NAME,
            default=None,
            examples=["MQTT_PASSWORD"],
        ),
        "tls": TLS_SCHEMA,
        "body": _choice(
            ["payload", "packet"],
            "Body",
            "'payload' publishes packet.payload as JSON; 'packet' publishes the whole packet (packet_id, "
            "ts, kind, source_id, payload, and meta with meta.idempotency_key always set).",
            "payload",
        ),
        "publish_timeout_sec": _prop(
            "number",
            "Publish timeout (s)",
            "How long one packet may wait, in all, for a connection and its PUBACK before on_failure "
            "applies. A broker that does not acknowledge in this time has its connection dropped and "
            "made again. It also bounds a connection attempt: no CONNACK within this time (at least 1 "
            "s, at most 10 s) from the start of the attempt, and the attempt is made again after a "
            "backoff.",
            exclusiveMinimum=0,
            default=5.0,
            examples=[5.0, 30.0],
        ),
        "reconnect_backoff_sec": _prop(
            "number",
            "Reconnect backoff base (s)",
            "Reconnect attempt n waits a random time in [0, base * 2^n] (full jitter), so a fleet does "
            "not come back in lockstep after a broker restart.",
            exclusiveMinimum=0,
            default=0.5,
            examples=[0.5],
        ),
        "reconnect_backoff_max_sec": _prop(
            "number",
            "Reconnect backoff cap (s)",
            "Cap of every reconnect delay.",
            exclusiveMinimum=0,
            default=30.0,
            examples=[30.0],
        ),
        "forward": _prop(
            "boolean",
            "Forward on success",
            "Pass each packet downstream after it was delivered (and only then), so that "
            "sqlite_queue_ack can acknowledge it.",
            default=False,
            examples=[False, True],
        ),
        "on_failure": _choice(
            list(ON_FAILURE_CHOICES),
            "On failure",
            "Applies to a packet that was not delivered within publish_timeout_sec or that the broker "
            "refused (transient), and to one that cannot be published at all: its topic placeholders "
            "cannot be filled or its payload is not JSON (rejected). " + ON_FAILURE_DESCRIPTION,
            "auto",
        ),
    },
}
