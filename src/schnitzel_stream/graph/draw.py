"""A picture of a graph: Mermaid (GitHub and most Markdown viewers draw it) or Graphviz DOT.

Nodes show their id, plugin and kind; edges follow the graph; the durable queues appear as
their own cylinder, with the queue nodes that share a ``path`` joined to it by dotted edges
(enqueue, lease, ack), so the two halves of a store-and-forward graph read as one pipeline.

Everything from the graph (ids, plugins, paths) is untrusted text: it only ever appears as an
escaped label, and the diagram's own identifiers are generated (``n0``, ``q0``). A hostile id
cannot close a quote, add a directive or break out of a Markdown code fence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from schnitzel_stream.graph.model import Graph

__all__ = ["DrawFormat", "draw"]

DrawFormat = Literal["mermaid", "dot"]

#: How each queue plugin meets its queue file: (edge label, arrow towards the queue?).
_QUEUE_ROLES: dict[str, tuple[str, bool]] = {
    "sqlite_queue_sink": ("enqueue", True),
    "sqlite_queue_source": ("lease", False),
    "sqlite_queue_ack": ("ack", True),
}
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:/+=()-")


@dataclass(frozen=True, slots=True)
class _Queue:
    ident: str
    path: str
    members: tuple[tuple[str, str, bool], ...]  # (node ident, label, towards the queue)


def draw(graph: Graph, fmt: DrawFormat) -> str:
    """The graph as a Mermaid flowchart or a DOT digraph, ending with a newline."""
    idents = {decl.id: f"n{i}" for i, decl in enumerate(graph.nodes)}
    queues = _queues(graph, idents)
    render: Callable[[Graph, dict[str, str], list[_Queue]], list[str]] = (
        _mermaid if fmt == "mermaid" else _dot
    )
    return "\n".join(render(graph, idents, queues)) + "\n"


def _queues(graph: Graph, idents: dict[str, str]) -> list[_Queue]:
    by_path: dict[str, list[tuple[str, str, bool]]] = {}
    for decl in graph.nodes:
        role = _QUEUE_ROLES.get(decl.plugin)
        path = decl.config.get("path")
        if role is not None and isinstance(path, str):
            by_path.setdefault(path, []).append((idents[decl.id], *role))
    return [_Queue(f"q{i}", path, tuple(members)) for i, (path, members) in enumerate(by_path.items())]


# -- Mermaid -----------------------------------------------------------------------------------

#: Node shapes by kind: sources are stadiums, sinks subroutines, the rest rectangles.
_MERMAID_SHAPES = {"source": ('(["', '"])'), "sink": ('[["', '"]]'), "node": ('["', '"]')}


def _mermaid_text(text: str) -> str:
    """Mermaid entity codes (``#60;``) for everything outside a small safe set."""
    return "".join(c if c in _SAFE else f"#{ord(c)};" for c in text)


def _mermaid(graph: Graph, idents: dict[str, str], queues: list[_Queue]) -> list[str]:
    lines = ["flowchart LR"]
    for decl in graph.nodes:
        opening, closing = _MERMAID_SHAPES.get(decl.kind, _MERMAID_SHAPES["node"])
        label = f"{_mermaid_text(decl.id)}<br/>{_mermaid_text(decl.plugin)} #183; {decl.kind}"
        lines.append(f"    {idents[decl.id]}{opening}{label}{closing}")
    for queue in queues:
        lines.append(f'    {queue.ident}[("queue<br/>{_mermaid_text(queue.path)}")]')
    lines.extend(f"    {idents[edge.src]} --> {idents[edge.dst]}" for edge in graph.edges)
    for queue in queues:
        for member, label, towards in queue.members:
            ends = (member, queue.ident) if towards else (queue.ident, member)
            lines.append(f"    {ends[0]} -.->|{label}| {ends[1]}")
    return lines


# -- DOT ---------------------------------------------------------------------------------------

_DOT_SHAPES = {"source": "oval", "sink": "box3d", "node": "box"}


def _dot_text(text: str) -> str:
    """A DOT double-quoted string body: backslash and quote escaped, control characters as text."""
    out: list[str] = []
    for c in text:
        if c in '\\"':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(repr(c)[1:-1].replace("\\", "\\\\"))
    return "".join(out)


def _dot(graph: Graph, idents: dict[str, str], queues: list[_Queue]) -> list[str]:
    lines = ["digraph schnitzel_stream {", "    rankdir=LR;", '    node [fontname="Helvetica"];']
    for decl in graph.nodes:
        shape = _DOT_SHAPES.get(decl.kind, "box")
        label = f"{_dot_text(decl.id)}\\n{_dot_text(decl.plugin)} \u00b7 {decl.kind}"
        lines.append(f'    {idents[decl.id]} [label="{label}", shape={shape}];')
    for queue in queues:
        lines.append(f'    {queue.ident} [label="queue\\n{_dot_text(queue.path)}", shape=cylinder];')
    lines.extend(f"    {idents[edge.src]} -> {idents[edge.dst]};" for edge in graph.edges)
    for queue in queues:
        for member, label, towards in queue.members:
            ends = (member, queue.ident) if towards else (queue.ident, member)
            lines.append(f'    {ends[0]} -> {ends[1]} [style=dashed, label="{label}"];')
    lines.append("}")
    return lines
