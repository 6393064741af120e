"""Topic templates of the ``mqtt_sink``: ``sites/{site}/cameras/{source_id}/events``.

A placeholder ``{name}`` is looked up, in this order:

1. the packet fields ``source_id`` and ``kind``;
2. ``topic_vars``, the static values from the node config (resolved once, at start);
3. a key of ``packet.payload`` (when the payload is a mapping);
4. a key of ``packet.meta``.

``{payload.name}`` and ``{meta.name}`` skip the search and read that mapping only.

Values that come from a packet are data, not configuration, so they may not reshape the
topic: they must be non-empty scalars without ``/``, ``+``, ``#`` or NUL. Static values may
contain ``/`` (``site: eu/berlin`` adds a level on purpose) but never wildcards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from schnitzel_stream.packet import Packet

Scope = Literal["any", "payload", "meta"]

PACKET_FIELDS: tuple[str, ...] = ("source_id", "kind")
#: The MQTT limit: a topic is a UTF-8 string with a 16-bit length prefix.
MAX_TOPIC_BYTES = 65535

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_REFERENCE = re.compile(r"(?:(?P<scope>payload|meta)\.)?(?P<name>[A-Za-z_][A-Za-z0-9_-]*)")
_WILDCARDS = ("+", "#", "\x00")


class TopicError(ValueError):
    """A template that cannot be parsed, or a packet that cannot fill it."""


class _Slot(NamedTuple):
    scope: Scope
    name: str

    @property
    def label(self) -> str:
        return self.name if self.scope == "any" else f"{self.scope}.{self.name}"


class TopicTemplate(NamedTuple):
    """A parsed topic template; :meth:`render` fills it from one packet."""

    text: str
    parts: tuple[str | _Slot, ...]

    @classmethod
    def parse(cls, text: str, static_vars: Mapping[str, Any] | None = None) -> TopicTemplate:
        """Parse ``text`` and resolve the placeholders that ``static_vars`` names.

        Raises :class:`TopicError` for empty topics, stray braces, malformed placeholders,
        wildcards, a ``$`` prefix (reserved for broker topics such as ``$SYS``) and static
        values that are not usable.
        """
        static = dict(static_vars or {})
        for key, value in static.items():
            if key in PACKET_FIELDS:
                raise TopicError(f"topic_vars may not define {key!r}: it is always the packet's own field")
            _check_static_value(key, value)
        if not text:
            raise TopicError("the topic is empty")
        if text.startswith("$"):
            raise TopicError(f"topic {text!r} starts with '$', which brokers reserve for their own topics")
        parts: list[str | _Slot] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(text):
            parts.append(_literal(text, text[pos : match.start()]))
            reference = _REFERENCE.fullmatch(match.group(1))
            if reference is None:
                raise TopicError(
                    f"topic {text!r}: placeholder {match.group(0)!r} is not a name, "
                    "'payload.<key>' or 'meta.<key>'"
                )
            scope: Scope = reference["scope"] or "any"  # type: ignore[assignment]
            name = reference["name"]
            if scope == "any" and name not in PACKET_FIELDS and name in static:
                parts.append(_format_scalar(static[name]))
            else:
                parts.append(_Slot(scope, name))
            pos = match.end()
        parts.append(_literal(text, text[pos:]))
        merged = _merge_literals(parts)
        if not any(isinstance(part, _Slot) for part in merged):
            _check_topic("".join(str(part) for part in merged))
        return cls(text=text, parts=merged)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholders left for packets to fill, as written (``site``, ``payload.zone``)."""
        return tuple(part.label for part in self.parts if isinstance(part, _Slot))

    def render(self, packet: Packet) -> str:
        """The topic for ``packet``. Raises :class:`TopicError` naming the placeholder."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _lookup(part, packet)
            if value is _MISSING:
                raise TopicError(
                    f"topic {self.text!r} needs {{{part.label}}}, which packet {packet.packet_id} "
                    f"does not have ({_where(part)})"
                )
            text = _dynamic_value(part, value)
            out.append(text)
        topic = "".join(out)
        _check_topic(topic)
        return topic


_MISSING: Any = object()


def _lookup(slot: _Slot, packet: Packet) -> Any:
    if slot.scope == "any" and slot.name in PACKET_FIELDS:
        return getattr(packet, slot.name)
    payload = packet.payload if isinstance(packet.payload, Mapping) else {}
    if slot.scope == "payload":
        return payload.get(slot.name, _MISSING)
    if slot.scope == "meta":
        return packet.meta.get(slot.name, _MISSING)
    if slot.name in payload:
        return payload[slot.name]
    return packet.meta.get(slot.name, _MISSING)


def _where(slot: _Slot) -> str:
    if slot.scope == "payload":
        return f"no payload key {slot.name!r}"
    if slot.scope == "meta":
        return f"no meta key {slot.name!r}"
    return f"not in topic_vars, payload or meta; add topic_vars.{slot.name} or fix the template"


def _format_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise TopicError(f"{value!r} is not a usable topic value")
    if isinstance(value, (str, int, float)):
        return str(value)
    raise TopicError(f"a {type(value).__name__} is not a usable topic value (use a string or a number)")


def _dynamic_value(slot: _Slot, value: Any) -> str:
    try:
        text = _format_scalar(value)
    except TopicError as exc:
        raise TopicError(f"placeholder {{{slot.label}}}: {exc}") from None
    if not text:
        raise TopicError(f"placeholder {{{slot.label}}} is empty")
    if "/" in text or any(ch in text for ch in _WILDCARDS):
        raise TopicError(
            f"placeholder {{{slot.label}}} value {text!r} contains '/', '+', '#' or NUL; "
            "values from packets may not change the topic's levels"
        )
    return text


def _check_static_value(key: str, value: Any) -> None:
    try:
        text = _format_scalar(value)
    except TopicError as exc:
        raise TopicError(f"topic_vars.{key}: {exc}") from None
    if not text or any(ch in text for ch in _WILDCARDS):
        raise TopicError(f"topic_vars.{key} = {text!r} is empty or contains '+', '#' or NUL")


def _literal(template: str, text: str) -> str:
    if "{" in text or "}" in text:
        raise TopicError(f"topic {template!r} has an unmatched '{{' or '}}'")
    if any(ch in text for ch in _WILDCARDS):
        raise TopicError(f"topic {template!r} contains a wildcard ('+' or '#'); a publish topic cannot")
    return text


def _merge_literals(parts: list[str | _Slot]) -> tuple[str | _Slot, ...]:
    merged: list[str | _Slot] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return tuple(merged)


def _check_topic(topic: str) -> None:
    if not topic:
        raise TopicError("the rendered topic is empty")
    if len(topic.encode("utf-8")) > MAX_TOPIC_BYTES:
        raise TopicError(f"the rendered topic is longer than {MAX_TOPIC_BYTES} bytes")
