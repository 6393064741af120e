"""Build plain JSON-like values from a YAML event stream, recording where each one sits.

We read *events* (``yaml.parse``), not composed nodes, because the event parser is a state
machine: it cannot overflow the stack however deep the nesting, and we stop the moment a
limit is passed instead of after a whole document was composed. Building values ourselves
also means no YAML tag ever constructs a Python object: only null, booleans, numbers,
strings, lists and mappings come out.

Positions are 1-based ``(line, column)`` pairs keyed by JSON path tuples: ``values`` says
where each value starts, ``keys`` where the key of each mapping entry starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from schnitzel_stream.graph.findings import JsonPath, quoted

Position = tuple[int, int]
#: A ``[start, end)`` slice of the recorded value or key positions.
_Span = tuple[int, int]

MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_ALIAS_NODES = 10_000

_TAG = "tag:yaml.org,2002:"
_SCALAR_BUILDERS = {
    f"{_TAG}null": SafeConstructor.construct_yaml_null,
    f"{_TAG}bool": SafeConstructor.construct_yaml_bool,
    f"{_TAG}int": SafeConstructor.construct_yaml_int,
    f"{_TAG}float": SafeConstructor.construct_yaml_float,
}
# Timestamps stay the text the user wrote: a graph is JSON-like, and a datetime is not.
_TEXT_TAGS = frozenset({f"{_TAG}str", f"{_TAG}timestamp", f"{_TAG}merge", f"{_TAG}value"})
_MAP_TAGS = frozenset({None, "!", f"{_TAG}map"})
_SEQ_TAGS = frozenset({None, "!", f"{_TAG}seq"})
_KEY_TAGS = frozenset({None, "!", *_TEXT_TAGS, *_SCALAR_BUILDERS})
_COMPLEX_KEY = "a mapping key must be a plain value, not a list or mapping"
_TOO_DEEP = f"the document nests deeper than {MAX_DEPTH} levels"


class TreeError(Exception):
    """A fatal problem: building stops here. ``line``/``column`` are 1-based."""

    def __init__(self, code: str, message: str, line: int, column: int, path: JsonPath = ()) -> None:
        super().__init__(message)
        self.code, self.message, self.line, self.column, self.path = code, message, line, column, path


class TreeIssue(NamedTuple):
    """A non-fatal problem (a duplicate key); building goes on so all of them are reported."""

    code: str
    message: str
    line: int
    column: int
    path: JsonPath


class Tree:
    """The built document and the positions of every value and key in it.

    ``block_scalars`` holds the (first, last) 1-based lines of literal/folded block scalars,
    where tabs are content.
    """

    __slots__ = ("block_scalars", "data", "documents", "issues", "keys", "values")

    def __init__(self) -> None:
        self.data: Any = None
        self.documents = 0
        self.values: dict[JsonPath, Position] = {}
        self.keys: dict[JsonPath, Position] = {}
        self.issues: list[TreeIssue] = []
        self.block_scalars: list[tuple[int, int]] = []


class _Anchor(NamedTuple):
    """What an ``&anchor`` names: its value, path, recorded positions and size, for ``*alias`` to replay."""

    value: Any
    path: JsonPath
    values: _Span
    keys: _Span
    size: int
    height: int
    key_text: str | None


class _Frame:
    """A mapping or sequence being built: where its positions start, and its pending key or merges.

    ``merges`` holds (value, path prefix of its positions, values range, keys range) per merge source.
    """

    __slots__ = (
        "anchor", "explicit", "height", "is_mapping", "keys_start", "merges", "nodes_start",
        "path", "pending_key", "pending_merge", "value", "values_start",
    )  # fmt: skip

    def __init__(self, path: JsonPath, value: Any, anchor: str | None, starts: tuple[int, int, int]) -> None:
        self.path, self.value, self.anchor = path, value, anchor
        self.values_start, self.keys_start, self.nodes_start = starts
        self.is_mapping = isinstance(value, dict)
        self.height = 1
        self.pending_key: str | None = None
        self.pending_merge = False
        self.explicit: dict[str, int] = {}
        self.merges: list[tuple[dict[str, Any], JsonPath, _Span, _Span]] = []


def _pos(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1)


class TreeBuilder:
    """Consumes events; call :meth:`feed` for each, then read :attr:`tree`."""

    def __init__(self) -> None:
        self.tree = Tree()
        self._values: list[tuple[JsonPath, Position]] = []
        self._keys: list[tuple[JsonPath, Position]] = []
        self._stack: list[_Frame] = []
        self._anchors: dict[str, _Anchor] = {}
        self._nodes = 0
        self._alias_nodes = 0
        self._resolver = Resolver()
        self._constructor = SafeConstructor()

    # -- public -----------------------------------------------------------------------------

    def build(self, events: Iterable[Any]) -> Tree:
        for event in events:
            self.feed(event)
        self.tree.values = dict(self._values)
        self.tree.keys = dict(self._keys)
        return self.tree

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self._start(event)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self._end()
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.tree.documents += 1
            if self.tree.documents > 1:
                message = "the file holds more than one YAML document; a graph file holds exactly one"
                raise TreeError("yaml.multiple-documents", message, *_pos(event.start_mark))

    # -- events -------------------------------------------------------------------------------

    def _scalar(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        self._count(1, pos)
        if event.style in ("|", ">"):
            self.tree.block_scalars.append((pos[0], event.end_mark.line + 1))
        frame = self._stack[-1] if self._stack else None
        if frame is not None and frame.is_mapping and frame.pending_key is None:
            self._check_tag(event.tag, pos, _KEY_TAGS)
            merge = event.value == "<<" and event.tag is None and event.implicit[0]
            self._set_key(frame, event.value, pos, merge=merge)
            if event.anchor:
                self._anchors[event.anchor] = _Anchor(event.value, (), (0, 0), (0, 0), 1, 0, event.value)
            return
        value = self._construct(event, pos)
        start = len(self._values)
        path = self._place(value, pos)
        if event.anchor:
            self._anchors[event.anchor] = _Anchor(
                value, path, (start, start + 1), (len(self._keys), len(self._keys)), 1, 0, event.value
            )

    def _start(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        self._check_tag(event.tag, pos, _MAP_TAGS if is_mapping else _SEQ_TAGS)
        parent = self._stack[-1] if self._stack else None
        if parent is not None and parent.is_mapping and parent.pending_key is None:
            raise TreeError("yaml.complex-key", _COMPLEX_KEY, *pos)
        if len(self._stack) + 1 > MAX_DEPTH:
            raise TreeError("yaml.too-deep", _TOO_DEEP, *pos)
        self._count(1, pos)
        path = self._child_path()
        self._values.append((path, pos))
        starts = (len(self._values) - 1, len(self._keys), self._nodes - 1)
        self._stack.append(_Frame(path, {} if is_mapping else [], event.anchor, starts))

    def _end(self) -> None:
        frame = self._stack.pop()
        if frame.is_mapping and frame.merges:
            self._apply_merges(frame)
        values = (frame.values_start, len(self._values))
        keys = (frame.keys_start, len(self._keys))
        parent = self._stack[-1] if self._stack else None
        if parent is not None:
            parent.height = max(parent.height, frame.height + 1)
        if parent is not None and parent.is_mapping and parent.pending_merge:
            self._add_merge(parent, frame.value, frame.path, values, keys, self._values[values[0]][1])
        else:
            self._attach(frame.value, frame.path)
        if frame.anchor:
            size = self._nodes - frame.nodes_start
            self._anchors[frame.anchor] = _Anchor(
                frame.value, frame.path, values, keys, size, frame.height, None
            )

    def _alias(self, event: Any) -> None:
        pos = _pos(event.start_mark)
        name = event.anchor
        if any(frame.anchor == name for frame in self._stack):
            raise TreeError("yaml.alias-recursive", f"alias '*{name}' refers to itself", *pos)
        anchor = self._anchors.get(name)
        if anchor is None:
            raise TreeError("yaml.alias-unknown", f"alias '*{name}' refers to no anchor '&{name}'", *pos)
        self._alias_nodes += anchor.size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise TreeError(
                "yaml.alias-limit",
                f"aliases expand to more than {MAX_ALIAS_NODES} values (a 'billion laughs' document?)",
                *pos,
            )
        self._count(anchor.size, pos)
        frame = self._stack[-1] if self._stack else None
        if frame is not None and frame.is_mapping and frame.pending_key is None:
            if anchor.key_text is None:
                raise TreeError("yaml.complex-key", _COMPLEX_KEY, *pos)
            self._set_key(frame, anchor.key_text, pos, merge=False)
            return
        if len(self._stack) + anchor.height > MAX_DEPTH:
            raise TreeError("yaml.too-deep", _TOO_DEEP, *pos)
        if frame is not None and frame.is_mapping and frame.pending_merge:
            self._add_merge(frame, anchor.value, anchor.path, anchor.values, anchor.keys, pos)
            return
        path = self._child_path()
        self._values.append((path, pos))
        self._copy_positions(anchor.path, path, anchor.values, anchor.keys, skip_root=True)
        if frame is not None:
            frame.height = max(frame.height, anchor.height + 1)
        self._attach(anchor.value, path)

    # -- helpers -------------------------------------------------------------------------------

    def _count(self, n: int, pos: Position) -> None:
        self._nodes += n
        if self._nodes > MAX_NODES:
            raise TreeError("yaml.too-large", f"the document holds more than {MAX_NODES} values", *pos)

    def _check_tag(self, tag: str | None, pos: Position, allowed: Iterable[str | None]) -> None:
        if tag not in allowed:
            shown = tag[len(_TAG) :] if tag and tag.startswith(_TAG) else tag
            shown = f"!!{shown}" if tag and tag.startswith(_TAG) else shown
            raise TreeError(
                "yaml.tag",
                f"the YAML tag '{shown}' is not allowed; graph files hold plain values only "
                "(strings, numbers, booleans, null, lists and mappings)",
                *pos,
                self._child_path(),
            )

    def _construct(self, event: Any, pos: Position) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self._resolver.resolve(ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag in _TEXT_TAGS:
            return event.value
        builder = _SCALAR_BUILDERS.get(tag)
        if builder is None:
            self._check_tag(tag, pos, ())
            return event.value  # unreachable: _check_tag raised
        shown = repr(event.value if len(event.value) <= 40 else event.value[:37] + "...")
        try:
            value = builder(self._constructor, ScalarNode(tag, event.value))
        # PyYAML's scalar builders fail in many ways on text they cannot read (`!!int abc` is a
        # ValueError, an empty `!!int` an IndexError): every one of them means a bad scalar.
        except Exception:  # noqa: BLE001
            raise TreeError(
                "yaml.bad-scalar", f"{shown} cannot be read as !!{tag[len(_TAG) :]}", *pos, self._child_path()
            ) from None
        # A graph is JSON-like: NaN and infinities are no JSON numbers (and pass every schema
        # bound, since NaN compares false), and a 0x... integer of a megabyte cannot be printed.
        if (isinstance(value, float) and not math.isfinite(value)) or (
            type(value) is int and not -(2**63) <= value < 2**64
        ):
            message = f"{shown} is not a finite number that fits in 64 bits; graph values are JSON numbers"
            raise TreeError("yaml.number-range", message, *pos, self._child_path())
        return value

    def _child_path(self) -> JsonPath:
        if not self._stack:
            return ()
        frame = self._stack[-1]
        if frame.is_mapping:
            return (*frame.path, frame.pending_key if frame.pending_key is not None else "")
        return (*frame.path, len(frame.value))

    def _set_key(self, frame: _Frame, key: str, pos: Position, *, merge: bool) -> None:
        if merge:
            frame.pending_key = "<<"
            frame.pending_merge = True
            return
        path = (*frame.path, key)
        first = frame.explicit.get(key)
        if first is not None:
            self.tree.issues.append(
                TreeIssue(
                    "yaml.duplicate-key",
                    f"duplicate key {quoted(key)} (first defined on line {first})",
                    pos[0],
                    pos[1],
                    path,
                )
            )
        else:
            frame.explicit[key] = pos[0]
        self._keys.append((path, pos))
        frame.pending_key = key

    def _place(self, value: Any, pos: Position) -> JsonPath:
        frame = self._stack[-1] if self._stack else None
        if frame is not None and frame.is_mapping and frame.pending_merge:
            raise TreeError(
                "yaml.bad-merge", "'<<' merges a mapping or a list of mappings, not a plain value", *pos
            )
        path = self._child_path()
        self._values.append((path, pos))
        self._attach(value, path)
        return path

    def _attach(self, value: Any, path: JsonPath) -> None:
        """Store a finished value in its parent (merge sources never come here)."""
        if not self._stack:
            self.tree.data = value
            return
        frame = self._stack[-1]
        if not frame.is_mapping:
            frame.value.append(value)
            return
        key = frame.pending_key
        assert key is not None
        frame.value[key] = value
        frame.pending_key = None

    def _add_merge(
        self, frame: _Frame, value: Any, path: JsonPath, values: _Span, keys: _Span, pos: Position
    ) -> None:
        frame.pending_merge = False
        frame.pending_key = None
        sources = [(value, path)] if isinstance(value, dict) else None
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            sources = [(item, (*path, i)) for i, item in enumerate(value)]
        if sources is None:
            raise TreeError("yaml.bad-merge", "'<<' merges a mapping or a list of mappings", *pos, frame.path)
        for item, prefix in sources:
            frame.merges.append((item, prefix, values, keys))

    def _apply_merges(self, frame: _Frame) -> None:
        merged: set[str] = set()
        for source, prefix, values, keys in frame.merges:
            for key, item in source.items():
                if key in frame.explicit or key in merged:
                    continue  # explicit keys win, then earlier merge sources
                merged.add(key)
                frame.value[key] = item
                self._copy_positions((*prefix, key), (*frame.path, key), values, keys, skip_root=False)

    def _copy_positions(
        self, old: JsonPath, new: JsonPath, values: _Span, keys: _Span, *, skip_root: bool
    ) -> None:
        cut = len(old)
        for source, target in ((self._values, self._values), (self._keys, self._keys)):
            lo, hi = values if source is self._values else keys
            for path, pos in source[lo:hi]:
                if path[:cut] == old and not (skip_root and len(path) == cut and source is self._values):
                    target.append(((*new, *path[cut:]), pos))
