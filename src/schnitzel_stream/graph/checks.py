"""Semantic checks of a graph's topology and payload kinds, all reported together.

- node ids are unique; every edge endpoint names a node (with a did-you-mean hint);
- no cycles (the cycle is printed, ``a -> b -> c -> a``);
- sources receive nothing and sinks send nothing;
- every node is reachable from a source; a source or node whose output goes nowhere is a warning;
- payload kinds fit along every edge: ``produces``/``consumes`` of the specs, with ``"*"``
  in ``produces`` passing on what came in, and non-portable kinds (frames) never reaching
  a node that needs JSON-portable payloads.

The checks work on :class:`NodeRef`/:class:`EdgeRef`, which the pipeline builds even for
nodes whose plugin did not resolve (``spec`` is ``None``), so topology problems are found
in the same pass as config problems.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from schnitzel_stream.graph.findings import MAX_SHOWN, Finding, quoted
from schnitzel_stream.graph.flow import Flow, packet_flow
from schnitzel_stream.nodes.base import ANY_KIND, NodeSpec, Role
from schnitzel_stream.nodes.registry import did_you_mean
from schnitzel_stream.packet import NON_PORTABLE_KINDS


class NodeRef(NamedTuple):
    """A declared node: ``position`` is its place in ``nodes:``.

    ``kind`` is ``None`` when the declared kind is invalid (already reported); such a node
    may be meant as a source, so it seeds reachability instead of adding more errors.
    """

    id: str
    kind: Role | None
    position: int
    spec: NodeSpec | None = None


class EdgeRef(NamedTuple):
    """A declared edge; ``src_key``/``dst_key`` say which spelling (``from``/``src``) was used."""

    src: str
    dst: str
    position: int
    src_key: str = "from"
    dst_key: str = "to"


def check_graph(
    nodes: Sequence[NodeRef], edges: Sequence[EdgeRef], *, complete: bool = True
) -> list[Finding]:
    """Every semantic problem of the graph, errors and warnings (see :func:`checked_graph`)."""
    return checked_graph(nodes, edges, complete=complete)[0]


def checked_graph(
    nodes: Sequence[NodeRef], edges: Sequence[EdgeRef], *, complete: bool = True
) -> tuple[list[Finding], Flow | None]:
    """Every semantic problem of the graph, and its flow (None when it has a cycle).

    ``complete=False`` says some node or edge was too malformed to take part (already
    reported); reachability is then unknown, so it is not checked rather than guessed.
    """
    findings: list[Finding] = []
    by_id: dict[str, NodeRef] = {}
    for node in nodes:
        first = by_id.get(node.id)
        if first is None:
            by_id[node.id] = node
        else:
            findings.append(
                Finding(
                    "graph.duplicate-id",
                    f"duplicate node id {quoted(node.id)} (first used by nodes[{first.position}])",
                    ("nodes", node.position, "id"),
                )
            )
    before = len(findings)
    links = _links(by_id, edges, findings)
    complete = complete and not any(f.code == "graph.unknown-node" for f in findings[before:])
    has_cycle = _cycles(by_id, links, findings)
    if complete and by_id:
        _reachability(by_id, links, findings)
    if has_cycle:
        return findings, None
    flow = packet_flow({n.id: (n.kind, n.spec) for n in by_id.values()}, ((e.src, e.dst) for e in links))
    _kinds(by_id, links, flow, findings)
    return findings, flow


def _links(by_id: Mapping[str, NodeRef], edges: Iterable[EdgeRef], findings: list[Finding]) -> list[EdgeRef]:
    """Edges whose both ends exist, once each; reports unknown ends and wrong directions."""
    links: list[EdgeRef] = []
    first_index: dict[tuple[str, str], int] = {}
    for edge in edges:
        missing = False
        for end, key in ((edge.src, edge.src_key), (edge.dst, edge.dst_key)):
            if end not in by_id:
                missing = True
                findings.append(
                    Finding(
                        "graph.unknown-node",
                        f"edge refers to unknown node {quoted(end)}",
                        ("edges", edge.position, key),
                        hint=did_you_mean(end, by_id) or _some_ids(by_id),
                    )
                )
        if missing:
            continue
        src, dst = by_id[edge.src], by_id[edge.dst]
        wrong_way = dst.kind == "source" or src.kind == "sink"
        if dst.kind == "source":
            findings.append(
                Finding(
                    "graph.into-source",
                    f"source {dst.id!r} cannot receive packets; edges only leave sources",
                    ("edges", edge.position, edge.dst_key),
                )
            )
        if src.kind == "sink":
            findings.append(
                Finding(
                    "graph.from-sink",
                    f"sink {src.id!r} cannot send packets; edges only enter sinks",
                    ("edges", edge.position, edge.src_key),
                )
            )
        if wrong_way:
            continue  # already an error; leaving it out avoids reporting the cycle it may close
        pair = (edge.src, edge.dst)
        if pair in first_index:
            findings.append(
                Finding(
                    "graph.duplicate-edge",
                    f"edge {edge.src} -> {edge.dst} is declared twice (first as edges[{first_index[pair]}])",
                    ("edges", edge.position),
                    severity="warning",
                    hint="each packet would be delivered twice",
                )
            )
            continue
        first_index[pair] = edge.position
        links.append(edge)
    return links


def _some_ids(by_id: Mapping[str, NodeRef]) -> str:
    shown = list(by_id)[:8]
    more = f" and {len(by_id) - len(shown)} more" if len(by_id) > len(shown) else ""
    return "node ids: " + ", ".join(_cut(node_id) for node_id in shown) + more


def _cut(node_id: str) -> str:
    return node_id if len(node_id) <= MAX_SHOWN else node_id[: MAX_SHOWN - 3] + "..."


def _cycles(by_id: Mapping[str, NodeRef], links: Sequence[EdgeRef], findings: list[Finding]) -> bool:
    """Report each distinct cycle once, at the edge that closes it (iterative DFS)."""
    outgoing: dict[str, list[EdgeRef]] = {node_id: [] for node_id in by_id}
    for edge in links:
        outgoing[edge.src].append(edge)
    state = dict.fromkeys(by_id, 0)  # 0 unvisited, 1 on the current path, 2 done
    reported: set[frozenset[str]] = set()
    for root in by_id:
        if state[root]:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(outgoing[root])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            edge = step
            target = edge.dst
            if state[target] == 0:
                state[target] = 1
                path.append(target)
                stack.append(iter(outgoing[target]))
            elif state[target] == 1:
                cycle = [*path[path.index(target) :], target]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    findings.append(
                        Finding(
                            "graph.cycle",
                            "edges form a cycle: " + " -> ".join(_cut(node_id) for node_id in cycle),
                            ("edges", edge.position),
                            hint="packets would circle forever; remove one of these edges",
                        )
                    )
    return bool(reported)


def _reachability(by_id: Mapping[str, NodeRef], links: Sequence[EdgeRef], findings: list[Finding]) -> None:
    sources = [node for node in by_id.values() if node.kind in ("source", None)]
    senders = {edge.src for edge in links}
    if not sources:
        findings.append(
            Finding(
                "graph.no-source", "the graph has no source node (kind: source)", ("nodes",), anchor="key"
            )
        )
        return
    reached = {node.id for node in sources}
    queue = deque(reached)
    outgoing: dict[str, list[str]] = {}
    for edge in links:
        outgoing.setdefault(edge.src, []).append(edge.dst)
    while queue:
        for target in outgoing.get(queue.popleft(), ()):
            if target not in reached:
                reached.add(target)
                queue.append(target)
    for node in by_id.values():
        if node.id not in reached:
            findings.append(
                Finding(
                    "graph.unreachable",
                    f"{node.kind} {node.id!r} is not reachable from any source",
                    ("nodes", node.position, "id"),
                    hint="add an edge that leads to it, or remove it",
                )
            )
        if node.kind in ("source", "node") and node.id not in senders:
            findings.append(
                Finding(
                    "graph.dead-end",
                    f"{node.kind} {node.id!r} has no outgoing edge; its packets go nowhere",
                    ("nodes", node.position, "id"),
                    severity="warning",
                )
            )


def _kinds(
    by_id: Mapping[str, NodeRef], links: Sequence[EdgeRef], flow: Flow, findings: list[Finding]
) -> None:
    """Check each edge against the kinds known to travel along it."""
    for edge in links:
        dst = by_id[edge.dst]
        kinds = flow.sends[edge.src]
        if dst.spec is not None and kinds and edge.src not in flow.unknown:
            findings.extend(_edge_kinds(edge, by_id[edge.src], dst, dst.spec, kinds))


def _plural(kinds: Iterable[str]) -> str:
    names = [f"{kind}s" for kind in sorted(kinds)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _edge_kinds(
    edge: EdgeRef, src: NodeRef, dst: NodeRef, spec: NodeSpec, kinds: frozenset[str]
) -> list[Finding]:
    where = ("edges", edge.position, edge.dst_key)
    if spec.portable:
        frames = kinds & NON_PORTABLE_KINDS
        if frames:
            return [
                Finding(
                    "graph.non-portable",
                    f"{_plural(frames)} cannot flow into {spec.name} {dst.id!r}, which needs JSON-portable payloads",
                    where,
                    hint=f"{src.id!r} sends {_plural(kinds)}; put a node that turns them into events, "
                    "such as motion_detector, in between",
                )
            ]
    if ANY_KIND in spec.consumes:
        return []
    rejected = kinds - spec.consumes
    if not rejected:
        return []
    accepted = _plural(spec.consumes) if spec.consumes else "nothing"
    return [
        Finding(
            "graph.kind-mismatch",
            f"{spec.name} {dst.id!r} takes {accepted}, but {src.id!r} sends {_plural(rejected)}",
            where,
        )
    ]


__all__ = ["EdgeRef", "NodeRef", "check_graph", "checked_graph"]
