"""The typed graph: what the loader and checks produce and the engine runs."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, Self, get_args

from schnitzel_stream.graph.flow import Flow, packet_flow
from schnitzel_stream.nodes.base import NodeSpec, Role

Overflow = Literal["block", "drop_oldest", "drop_new", "error"]
OVERFLOW_POLICIES: tuple[Overflow, ...] = get_args(Overflow)
DEFAULT_INBOX_MAX = 1024


class RuntimeOptions(NamedTuple):
    """Per-node engine settings from ``config.__runtime__``; ``None`` means the default."""

    inbox_max: int | None = None
    inbox_overflow: Overflow | None = None


class NodeDecl(NamedTuple):
    """One entry of ``nodes:``, validated, with config interpolated and ``__runtime__`` split off."""

    id: str
    kind: Role
    plugin: str
    spec: NodeSpec
    config: Mapping[str, Any]
    runtime: RuntimeOptions = RuntimeOptions()
    #: Its place in ``nodes:``.
    position: int = 0


class Edge(NamedTuple):
    """A resolved edge from node ``src`` to node ``dst``; ``position`` is its place in ``edges``."""

    src: str
    dst: str
    position: int = 0


#: The free-form ``config:`` of a graph that has none (read-only, so one object serves all).
_NO_CONFIG: Mapping[str, Any] = MappingProxyType({})


class _GraphFields(NamedTuple):
    nodes: tuple[NodeDecl, ...]
    edges: tuple[Edge, ...]
    version: int = 2
    source_file: str | None = None
    config: Mapping[str, Any] = _NO_CONFIG
    flow: Flow | None = None


class Graph(_GraphFields):
    """A valid version-2 graph document.

    ``flow`` is its node order and the packet kinds along its edges
    (:mod:`~schnitzel_stream.graph.flow`): validation computes it once and hands it over; a
    graph built in code without one gets it computed here.
    """

    __slots__ = ()

    def __new__(
        cls,
        nodes: tuple[NodeDecl, ...],
        edges: tuple[Edge, ...],
        version: int = 2,
        source_file: str | None = None,
        config: Mapping[str, Any] = _NO_CONFIG,
        flow: Flow | None = None,
    ) -> Self:
        if flow is None:
            kinds = {decl.id: (decl.kind, decl.spec) for decl in nodes}
            flow = packet_flow(kinds, dict.fromkeys((edge.src, edge.dst) for edge in edges))
        return super().__new__(cls, nodes, edges, version, source_file, config, flow)

    @property
    def order(self) -> tuple[str, ...]:
        """Node ids, every node after all of its senders (sources first)."""
        assert self.flow is not None  # set by __new__
        return self.flow.order

    def receives(self, node_id: str) -> frozenset[str]:
        """The packet kinds known to arrive at ``node_id``."""
        assert self.flow is not None
        return self.flow.receives(node_id)

    def node(self, node_id: str) -> NodeDecl:
        for decl in self.nodes:
            if decl.id == node_id:
                return decl
        raise KeyError(node_id)

    def downstream(self, node_id: str) -> tuple[str, ...]:
        return tuple(edge.dst for edge in self.edges if edge.src == node_id)

    def upstream(self, node_id: str) -> tuple[str, ...]:
        return tuple(edge.src for edge in self.edges if edge.dst == node_id)


__all__ = [
    "DEFAULT_INBOX_MAX",
    "OVERFLOW_POLICIES",
    "Edge",
    "Graph",
    "NodeDecl",
    "Overflow",
    "RuntimeOptions",
]
