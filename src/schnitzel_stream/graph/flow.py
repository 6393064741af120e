"""The order of a graph's nodes and the packet kinds that flow along its edges, computed once.

``validate`` uses it to check that kinds fit along every edge; the engine uses the same
result to build nodes upstream first and to size the inboxes of nodes that receive frames.

- :func:`topological_order`: every node after all of its senders (``graphlib``), ties in
  declaration order.
- :func:`packet_flow`: the kinds each node is known to send. ``"*"`` in a spec's
  ``produces`` passes on what arrives (filtered by ``consumes``); a source with ``"*"`` and a
  node whose plugin did not resolve send kinds nobody knows statically, and so does every
  pass-through node downstream of them: those are in :attr:`Flow.unknown`, and checks that
  need the exact kinds skip their edges rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import TopologicalSorter
from typing import NamedTuple

from schnitzel_stream.nodes.base import ANY_KIND, NodeSpec, Role


class Flow(NamedTuple):
    """The result for one graph: order, and the kinds known to travel out of each node."""

    order: tuple[str, ...]
    sends: Mapping[str, frozenset[str]]
    unknown: frozenset[str]
    upstream: Mapping[str, tuple[str, ...]]

    def receives(self, node_id: str) -> frozenset[str]:
        """The kinds known to arrive at ``node_id`` (from every sender together)."""
        return frozenset().union(*(self.sends[sender] for sender in self.upstream[node_id]))


def topological_order(node_ids: Iterable[str], links: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Every node after all of its senders; raises ``graphlib.CycleError`` on a cycle."""
    senders: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
    for src, dst in links:
        senders[dst].append(src)
    return tuple(TopologicalSorter(senders).static_order())


def packet_flow(
    nodes: Mapping[str, tuple[Role | None, NodeSpec | None]], links: Iterable[tuple[str, str]]
) -> Flow:
    """The flow of an acyclic graph: ``nodes`` maps each id to its role and spec (None: unknown).

    ``links`` are (sender, receiver) pairs, each once; raises ``graphlib.CycleError`` on a cycle.
    """
    pairs = list(links)
    order = topological_order(nodes, pairs)
    upstream: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    for src, dst in pairs:
        upstream[dst].append(src)
    sends: dict[str, frozenset[str]] = {}
    unknown: set[str] = set()
    for node_id in order:
        role, spec = nodes[node_id]
        senders = upstream[node_id]
        received = frozenset().union(*(sends[sender] for sender in senders))
        if spec is None:
            sends[node_id] = frozenset()
            unknown.add(node_id)
            continue
        explicit = spec.produces - {ANY_KIND}
        if ANY_KIND not in spec.produces:
            sends[node_id] = explicit
        elif role == "source":
            sends[node_id] = explicit  # what it emits comes from its config, not from upstream
            unknown.add(node_id)
        else:
            accepted = received if ANY_KIND in spec.consumes else received & spec.consumes
            sends[node_id] = explicit | accepted
            if any(sender in unknown for sender in senders):
                unknown.add(node_id)
    return Flow(
        order=order,
        sends=sends,
        unknown=frozenset(unknown),
        upstream={node_id: tuple(found) for node_id, found in upstream.items()},
    )


__all__ = ["Flow", "packet_flow", "topological_order"]
