"""The JSONL sink: one JSON line per packet, appended to a file with optional rotation.

Each line is the whole packet (``packet_id``, ``ts``, ``kind``, ``source_id``, ``payload``,
``meta``) as compact UTF-8 JSON ending in ``\\n``, on every OS (the file is written in binary
mode, so Windows does not turn it into ``\\r\\n``). Every line is flushed to the OS as it is
written; ``fsync: true`` also forces it to the disk, trading speed for surviving power loss.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

from schnitzel_stream.errors import NodeError, Problem
from schnitzel_stream.nodes._paths import output_check, require_output
from schnitzel_stream.nodes._settings import with_defaults
from schnitzel_stream.nodes.base import ANY_KIND, Node, NodeSpec
from schnitzel_stream.packet import Packet

_COMPACT: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "allow_nan": False}


class JsonlSinkSettings(NamedTuple):
    """The sink's config with defaults applied (names match the schema's properties)."""

    path: str
    rotate_max_bytes: int
    rotate_keep: int
    fsync: bool
    forward: bool
    body: str
    flush: bool

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> JsonlSinkSettings:
        merged = with_defaults(_SCHEMA, config)
        return cls(
            path=str(merged["path"]),
            rotate_max_bytes=int(merged["rotate_max_bytes"]),
            rotate_keep=int(merged["rotate_keep"]),
            fsync=bool(merged["fsync"]),
            forward=bool(merged["forward"]),
            body=str(merged["body"]),
            flush=bool(merged["flush"]),
        )


class JsonlSink(Node):
    """Append each packet as one JSON line to ``path``; rotate to ``path.1``, ``path.2``, ..."""

    def __init__(self, *, node_id: str, config: Mapping[str, Any] | None = None) -> None:
        super().__init__(node_id=node_id, config=config)
        self.settings = JsonlSinkSettings.from_mapping(self.config)
        # Rotation renames files next to this one, so then its directory must be writable too.
        require_output(
            node_id,
            "jsonl_sink",
            "jsonl.path",
            self.settings.path,
            side_files=self.settings.rotate_max_bytes > 0,
        )
        self.path = Path(self.settings.path)
        self._file: IO[bytes] | None = None
        self._size = 0
        self._lines = 0
        self._bytes = 0
        self._rotations = 0

    def process(self, packet: Packet) -> Iterable[Packet]:
        try:
            text = (
                packet.to_json() if self.settings.body == "packet" else json.dumps(packet.payload, **_COMPACT)
            )
            line = (text + "\n").encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise NodeError(
                Problem(
                    code="node.payload-not-portable",
                    message=f"node {self.node_id!r} (jsonl_sink) cannot write packet {packet.packet_id} of kind "
                    f"{packet.kind!r}: its payload or meta is not JSON-portable ({exc})",
                    hint="only JSON values (no frames, NaN or binary data) can be written to JSONL",
                )
            ) from None
        limit = self.settings.rotate_max_bytes
        out = self._open()
        if limit and self._size and self._size + len(line) > limit:
            out = self._rotate()
        out.write(line)
        if self.settings.flush or self.settings.fsync:
            out.flush()
        if self.settings.fsync:
            os.fsync(out.fileno())
        self._size += len(line)
        self._lines += 1
        self._bytes += len(line)
        return (packet,) if self.settings.forward else ()

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
            # Appending to an existing file counts its bytes towards the rotation limit.
            self._size = self._file.seek(0, os.SEEK_END)
        return self._file

    def _rotate(self) -> IO[bytes]:
        """Shift ``path.N-1`` to ``path.N`` ... ``path`` to ``path.1``, dropping the oldest."""
        self.close()
        keep = self.settings.rotate_keep
        # Path.replace (os.replace) overwrites the target on every OS, so the oldest file simply drops off.
        for index in range(keep - 1, 0, -1):
            older = self._numbered(index)
            if older.exists():
                older.replace(self._numbered(index + 1))
        self.path.replace(self._numbered(1))
        self._rotations += 1
        return self._open()

    def _numbered(self, index: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{index}")

    def close(self) -> None:
        """Flush and close the file; safe to call more than once."""
        if self._file is not None:
            try:
                self._file.flush()
                if self.settings.fsync:
                    os.fsync(self._file.fileno())
            finally:
                self._file.close()
                self._file = None

    def metrics(self) -> dict[str, int]:
        return {"lines": self._lines, "bytes": self._bytes, "rotations": self._rotations}


_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["path"],
    "properties": {
        "path": {
            "type": "string",
            "minLength": 1,
            "title": "Path",
            "description": "File to append to; missing parent directories are created.",
            "examples": ["${state}/events/events.jsonl"],
        },
        "rotate_max_bytes": {
            "type": "integer",
            "minimum": 0,
            "title": "Rotate at bytes",
            "description": "Rotate before a line would make the file larger than this; 0 never rotates.",
            "default": 0,
            "examples": [10485760, 0],
        },
        "rotate_keep": {
            "type": "integer",
            "minimum": 1,
            "maximum": 1000,
            "title": "Rotated files kept",
            "description": "How many rotated files (path.1 is the newest) to keep.",
            "default": 5,
            "examples": [5],
        },
        "fsync": {
            "type": "boolean",
            "title": "fsync",
            "description": "Force every line to disk (slower, survives power loss); lines are flushed either way.",
            "default": False,
            "examples": [False, True],
        },
        "forward": {
            "type": "boolean",
            "title": "Forward",
            "description": "Also pass each packet on, to use the sink as a node in the middle of a graph.",
            "default": False,
            "examples": [False, True],
        },
        "body": {
            "enum": ["packet", "payload"],
            "title": "Line body",
            "description": "What each line holds: the whole packet, or only its payload (as the design's 'body').",
            "default": "packet",
            "examples": ["packet", "payload"],
        },
        "flush": {
            "type": "boolean",
            "title": "Flush every line",
            "description": "Hand each line to the OS at once; false lets lines wait in the buffer until it fills "
            "or the sink closes (the design's 'flush').",
            "default": True,
            "examples": [True, False],
        },
    },
}

JsonlSink.SPEC = NodeSpec(
    name="jsonl_sink",
    target="schnitzel_stream.nodes.files:JsonlSink",
    roles=frozenset({"sink", "node"}),
    title="JSONL file sink",
    description="Append each packet as one JSON line to a file, with optional size rotation.",
    schema=_SCHEMA,
    consumes=frozenset({ANY_KIND}),
    produces=frozenset({ANY_KIND}),
    portable=True,
    blocking=True,
    check=output_check("jsonl.path"),
)

SPECS: tuple[NodeSpec, ...] = (JsonlSink.SPEC,)
