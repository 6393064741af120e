"""The packet record that every node exchanges.

A packet has ``packet_id``, ``ts`` (ISO-8601 UTC), ``kind`` (``frame``, ``event``, ...),
``source_id``, ``payload`` and ``meta``. ``meta["idempotency_key"]`` is stable for the same
logical item and travels end to end, so receivers can de-duplicate redeliveries.

Frame payloads (numpy arrays) live only inside the process; every lane that leaves the
process (queue, HTTP, MQTT, JSONL) carries JSON-portable payloads only.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from datetime import UTC, datetime
from typing import Any

#: Kinds whose payload is an in-process object (a numpy array) and never JSON-portable.
NON_PORTABLE_KINDS: frozenset[str] = frozenset({"frame"})

IDEMPOTENCY_KEY = "idempotency_key"
_FIELDS = ("kind", "source_id", "payload", "meta", "packet_id", "ts")

# Packet ids are a per-process random prefix plus a counter: unique across processes with
# overwhelming probability, and far cheaper than uuid4() on the per-packet hot path.
_ID_PREFIX = os.urandom(6).hex()
_ID_COUNTER = itertools.count(1)


def new_packet_id() -> str:
    return f"{_ID_PREFIX}-{next(_ID_COUNTER):x}"


# Formatting a timestamp costs ~1 us, more than the rest of a packet. So the date and time
# part is formatted once per second, and at 100k+ packets/s the whole stamp once per
# millisecond. Each cache is one tuple, replaced in one assignment: safe across threads.
_second_cache: tuple[int, str] = (-1, "")
_ms_cache: tuple[int, str] = (-1, "")


def iso_from_ns(wall_ns: int) -> str:
    """A Unix time in nanoseconds as ISO-8601 UTC with milliseconds and a ``Z`` suffix."""
    global _second_cache
    second, nanos = divmod(wall_ns, 1_000_000_000)
    cached_second, prefix = _second_cache
    if second != cached_second:
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second_cache = (second, prefix)
    return f"{prefix}.{nanos // 1_000_000:03d}Z"


def utc_now_iso() -> str:
    """The current time as ISO-8601 UTC with millisecond precision and a ``Z`` suffix."""
    global _ms_cache
    now_ns = time.time_ns()
    now_ms = now_ns // 1_000_000
    cached_ms, text = _ms_cache
    if now_ms != cached_ms:
        text = iso_from_ns(now_ns)
        _ms_cache = (now_ms, text)
    return text


class Packet:
    """One unit of data flowing along a graph edge.

    A plain class with ``__slots__`` rather than a dataclass: every graph check imports this
    module, and ``validate`` imports no dataclass machinery (docs/performance.md).
    """

    __slots__ = ("kind", "meta", "packet_id", "payload", "source_id", "ts")

    def __init__(
        self,
        kind: str,
        source_id: str,
        payload: Any,
        meta: dict[str, Any] | None = None,
        packet_id: str = "",
        ts: str = "",
    ) -> None:
        self.kind = kind
        self.source_id = source_id
        self.payload = payload
        self.meta: dict[str, Any] = {} if meta is None else meta
        self.packet_id = packet_id
        self.ts = ts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Packet):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(_FIELDS, self._fields(), strict=True))
        return f"Packet({fields})"

    def _fields(self) -> tuple[Any, ...]:
        return (self.kind, self.source_id, self.payload, self.meta, self.packet_id, self.ts)

    @classmethod
    def new(
        cls,
        kind: str,
        source_id: str,
        payload: Any,
        *,
        ts: str | None = None,
        meta: dict[str, Any] | None = None,
        packet_id: str | None = None,
    ) -> Packet:
        """Build a packet, filling in a fresh id and the current time where not given."""
        return cls(
            kind=kind,
            source_id=source_id,
            payload=payload,
            meta={} if meta is None else meta,
            packet_id=packet_id or new_packet_id(),
            ts=ts or utc_now_iso(),
        )

    @property
    def idempotency_key(self) -> str:
        """The stable key of the logical item; falls back to the packet id."""
        key = self.meta.get(IDEMPOTENCY_KEY)
        return str(key) if key else self.packet_id

    def with_meta(self, **updates: Any) -> Packet:
        """A shallow copy with ``meta`` extended; the original is left untouched."""
        meta = dict(self.meta)
        meta.update(updates)
        return Packet(self.kind, self.source_id, self.payload, meta, self.packet_id, self.ts)

    def to_dict(self) -> dict[str, Any]:
        """The packet as a plain mapping (the payload is not converted)."""
        return {
            "packet_id": self.packet_id,
            "ts": self.ts,
            "kind": self.kind,
            "source_id": self.source_id,
            "payload": self.payload,
            "meta": self.meta,
        }

    def to_json(self) -> str:
        """The packet as compact JSON. Raises ``TypeError`` for non-portable payloads."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Packet:
        meta = data.get("meta")
        return cls(
            kind=str(data.get("kind", "raw")),
            source_id=str(data.get("source_id", "")),
            payload=data.get("payload"),
            meta=dict(meta) if isinstance(meta, dict) else {},
            packet_id=str(data.get("packet_id") or new_packet_id()),
            ts=str(data.get("ts") or utc_now_iso()),
        )


def is_json_portable(value: Any, _depth: int = 0) -> bool:
    """True when ``value`` survives ``json.dumps`` unchanged in meaning."""
    if _depth > 64:
        return False
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(is_json_portable(item, _depth + 1) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_portable(v, _depth + 1) for k, v in value.items())
    return False


#: Name kept for graphs and plugins written against the design this project comes from.
StreamPacket = Packet
