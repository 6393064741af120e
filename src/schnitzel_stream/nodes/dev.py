"""Development nodes: a static source, an identity node and a print sink.

They keep the targets of the design this project comes from
(``schnitzel_stream.nodes.dev:StaticSource``, ``:Identity``, ``:PrintSink``), and the engine's
throughput benchmark runs on them, so their per-packet paths are kept cheap.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from schnitzel_stream._json import finite
from schnitzel_stream.errors import OutputClosed
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.base import ANY_KIND, Node, NodeSpec, Source
from schnitzel_stream.packet import IDEMPOTENCY_KEY, Packet, new_packet_id, utc_now_iso


class StaticItem(NamedTuple):
    """One configured packet; ``source_id=None`` means the node id."""

    payload: Any
    kind: str
    source_id: str | None
    ts: str | None
    meta: Mapping[str, Any] | None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> StaticItem:
        """An item from its config entry; the item schema's defaults fill what it leaves out."""
        merged = with_defaults(_ITEM_SCHEMA, data)
        meta = merged["meta"]
        return cls(
            payload=merged["payload"],
            kind=str(merged["kind"]),
            source_id=merged["source_id"],
            ts=merged["ts"],
            meta=dict(meta) if meta is not None else None,
        )


class StaticSourceSettings(NamedTuple):
    """The static source's config with the schema's defaults applied."""

    packets: tuple[StaticItem, ...]
    repeat: int
    interval: float

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> StaticSourceSettings:
        merged = with_defaults(_STATIC_SCHEMA, config)
        return cls(
            packets=tuple(StaticItem.from_mapping(item) for item in merged["packets"]),
            repeat=int(merged["repeat"]),
            interval=float(merged["interval"]),
        )


class StaticSource(Source):
    """Emit the configured packets ``repeat`` times (0: until stopped).

    Every emitted packet gets a fresh ``packet_id`` and its own shallow copy of ``meta``, so a
    node may add keys to ``meta`` without touching other rounds. Payloads are shared between
    rounds, not copied: like every node, downstream nodes must not mutate a payload in place.
    A configured ``meta.idempotency_key`` is kept; otherwise each packet gets
    ``"{node_id}:{round}:{index}"``.
    """

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = StaticSourceSettings.from_mapping(self.config)
        self._emitted = 0
        self._rounds = 0

    def run(self) -> Iterator[Packet]:
        s = self.settings
        node_id = self.node_id
        # Everything that does not change between rounds is worked out once, so the loop
        # below builds a packet with one dict copy, one id and (maybe) one timestamp.
        items = [
            (
                item.kind,
                item.source_id or node_id,
                item.payload,
                item.ts,
                dict(item.meta or {}),
                IDEMPOTENCY_KEY in (item.meta or {}),
            )
            for item in s.packets
        ]
        if not items:
            return
        stopping = self.stopping
        interval = s.interval
        round_ = 0
        while s.repeat == 0 or round_ < s.repeat:
            for index, (kind, source_id, payload, ts, meta, keyed) in enumerate(items):
                if stopping.is_set() or (interval > 0 and stopping.wait(interval)):
                    return
                own_meta = dict(meta) if keyed else {**meta, IDEMPOTENCY_KEY: f"{node_id}:{round_}:{index}"}
                self._emitted += 1
                yield Packet(kind, source_id, payload, own_meta, new_packet_id(), ts or utc_now_iso())
            round_ += 1
            self._rounds = round_

    def metrics(self) -> dict[str, int]:
        return {"emitted": self._emitted, "rounds": self._rounds}


class Identity(Node):
    """Pass every packet on unchanged."""

    def process(self, packet: Packet) -> Iterable[Packet]:
        return (packet,)


class PrintSinkSettings(NamedTuple):
    """The print sink's config with defaults applied."""

    prefix: str
    forward: bool

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> PrintSinkSettings:
        merged = with_defaults(_PRINT_SCHEMA, config)
        return cls(prefix=str(merged["prefix"]), forward=bool(merged["forward"]))


class PrintSink(Node):
    """Print each packet as one JSON line on stdout; values JSON cannot hold are shown as text.

    Every line is valid JSON: NaN and infinities are printed as the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"``, arrays by their shape, and text stdout cannot encode
    with ``\\u`` escapes. When the reader goes away (``run ... | head -1``) the graph stops
    quietly, as a Unix tool does.
    """

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = PrintSinkSettings.from_mapping(self.config)
        self._lines = 0

    def process(self, packet: Packet) -> Iterable[Packet]:
        value = packet.to_dict()
        prefix = self.settings.prefix
        try:
            try:
                sys.stdout.write(f"{prefix}{_json_line(value, ascii_only=False)}\n")
            except UnicodeEncodeError:
                # stdout cannot carry it (a lone surrogate, a non-UTF-8 console): escape instead.
                sys.stdout.write(f"{prefix}{_json_line(value, ascii_only=True)}\n")
            # Flushed per line: a dev sink is read live, often through a pipe.
            sys.stdout.flush()
        except OSError as exc:
            if not _pipe_closed(exc):
                raise
            _discard_stdout()
            raise OutputClosed(
                f"node {self.node_id!r} (print_sink): stdout was closed by its reader"
            ) from None
        self._lines += 1
        return (packet,) if self.settings.forward else ()

    def metrics(self) -> dict[str, int]:
        return {"lines": self._lines}


def _json_line(value: Any, *, ascii_only: bool) -> str:
    try:
        return json.dumps(
            value, default=_describe, ensure_ascii=ascii_only, separators=(",", ":"), allow_nan=False
        )
    except ValueError:  # NaN or an infinity somewhere (rare: the fast path above is the usual one)
        return json.dumps(finite(value), default=_describe, ensure_ascii=ascii_only, separators=(",", ":"))


def _pipe_closed(exc: OSError) -> bool:
    # Windows reports a write to a closed pipe as EINVAL rather than EPIPE.
    return isinstance(exc, BrokenPipeError) or (sys.platform == "win32" and exc.errno == errno.EINVAL)


def _discard_stdout() -> None:
    """Point stdout at the null device, so that the flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _describe(value: Any) -> str:
    """Text for a value JSON cannot hold; arrays by shape, so a frame is one short token."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        return f"<{type(value).__name__} shape={tuple(shape)} dtype={dtype}>"
    return str(value)


_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Packet",
    "description": "One packet to emit.",
    "additionalProperties": False,
    "properties": {
        "kind": {
            "type": "string",
            "minLength": 1,
            "title": "Kind",
            "description": "Packet kind.",
            "default": "raw",
            "examples": ["raw", "event"],
        },
        "source_id": {
            "type": ["string", "null"],
            "minLength": 1,
            "title": "Source id",
            "description": "source_id of the packet; null (the default) uses the node id.",
            "default": None,
            "examples": ["cam-1"],
        },
        "payload": {
            "title": "Payload",
            "description": "Any JSON value.",
            "default": None,
            "examples": [{"n": 1}, "hello"],
        },
        "ts": {
            "type": ["string", "null"],
            "title": "Timestamp",
            "description": "ISO-8601 timestamp; null (the default) stamps each packet when it is emitted.",
            "default": None,
            "examples": ["2026-01-01T00:00:00.000Z"],
        },
        "meta": {
            "type": ["object", "null"],
            "title": "Meta",
            "description": "Packet meta; an idempotency_key given here is kept on every repeat.",
            "default": None,
            "examples": [{"idempotency_key": "order-1"}],
        },
    },
}

_STATIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "packets": {
            "type": "array",
            "items": _ITEM_SCHEMA,
            "title": "Packets",
            "description": "The packets to emit, in order.",
            "default": [],
            "examples": [[{"kind": "event", "payload": {"n": 1}}]],
        },
        "repeat": {
            "type": "integer",
            "minimum": 0,
            "title": "Repeat",
            "description": "How many times to emit the list; 0 repeats until the graph is stopped.",
            "default": 1,
            "examples": [1, 1000, 0],
        },
        "interval": {
            "type": "number",
            "minimum": 0,
            "title": "Interval",
            "description": "Seconds to wait before each packet; 0 emits as fast as downstream takes them.",
            "default": 0.0,
            "examples": [0, 0.5],
        },
    },
}

_PRINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "prefix": {
            "type": "string",
            "title": "Prefix",
            "description": "Text printed before each line.",
            "default": "",
            "examples": ["", "out: "],
        },
        "forward": {
            "type": "boolean",
            "title": "Forward",
            "description": "Also pass each packet on, to use the sink as a node.",
            "default": False,
            "examples": [False, True],
        },
    },
}

StaticSource.SPEC = NodeSpec(
    name="static_source",
    target="schnitzel_stream.nodes.dev:StaticSource",
    roles=frozenset({"source"}),
    title="Static source",
    description="Emit the packets listed in the config, repeat times (0: until stopped).",
    schema=_STATIC_SCHEMA,
    produces=frozenset({ANY_KIND}),
    blocking=False,
)

Identity.SPEC = NodeSpec(
    name="identity",
    target="schnitzel_stream.nodes.dev:Identity",
    roles=frozenset({"node", "sink"}),
    title="Identity",
    description="Pass every packet on unchanged.",
    schema={"type": "object", "additionalProperties": False, "properties": {}},
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    blocking=False,
)

PrintSink.SPEC = NodeSpec(
    name="print_sink",
    target="schnitzel_stream.nodes.dev:PrintSink",
    roles=frozenset({"sink", "node"}),
    title="Print sink",
    description="Print each packet as one JSON line on stdout (non-JSON values as text).",
    schema=_PRINT_SCHEMA,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    blocking=True,
)

SPECS: tuple[NodeSpec, ...] = (StaticSource.SPEC, Identity.SPEC, PrintSink.SPEC)
