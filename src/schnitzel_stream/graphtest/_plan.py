"""From a test file to runnable cases: each case's graph, validated before anything runs.

A case's graph is the graph document with the case's changes laid over it (a replaced node
gets its new plugin and config, a source with ``inputs`` becomes a static source) and then
validated by the graph layer's own pipeline, so a replacement is held to exactly the rules
of a graph. Problems inside a replacement or an input are reported where they were written:
in the test file, at ``cases[0].replace.cam.config.fps``, not in the graph.

Every case gets its own ``config``, ``state`` and ``logs`` directories under the run's
temporary directory; ``${state}`` and friends resolve there, and a kept node whose config
points into this machine's real directories is refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.graph.findings import Finding, JsonPath, format_path
from schnitzel_stream.graph.load import SourceDocument
from schnitzel_stream.graph.model import Graph
from schnitzel_stream.graph.validate import ALLOWLIST_ENV, ValidateOptions, analyse, locate
from schnitzel_stream.graphtest._load import InvalidTestFile
from schnitzel_stream.graphtest._model import Case, GraphTest
from schnitzel_stream.nodes.base import ANY_KIND
from schnitzel_stream.nodes.registry import did_you_mean, parse_allowlist
from schnitzel_stream.paths import PATH_CLASSES, PathClass, PathSet, current_os, resolve_paths, system_paths


@dataclass(frozen=True, slots=True)
class CasePlan:
    """A case ready to run: its graph, its directories, and what the runner swaps in."""

    test: GraphTest
    case: Case
    graph: Graph
    paths: PathSet
    #: Laid over the process environment while the case runs (nodes read some settings there).
    env: Mapping[str, str]
    #: Captured nodes that pass each packet on (a pass-through plugin with nodes downstream).
    passthrough: frozenset[str]


def case_paths(workdir: Path, file_number: int, case: Case | None) -> PathSet:
    """``WORKDIR/<file>-<case>/{config,state,logs}``; created only when the case runs."""
    root = workdir / f"{file_number}-{case.index if case is not None else 0}"
    return PathSet(
        config=root / "config",
        state=root / "state",
        logs=root / "logs",
        scope="portable",
        sources=tuple((name, "the case's temporary directory") for name in PATH_CLASSES),
    )


def plan_cases(test: GraphTest, *, file_number: int, workdir: Path, env: Mapping[str, str]) -> list[CasePlan]:
    """Every case of ``test``, validated. Raises :class:`InvalidTestFile` with every problem.

    ``env`` is laid over the process environment (a deployment's env file); the test file's
    own ``env`` is laid over both.
    """
    laid_over = {**env, **test.env}
    environ = {**os.environ, **laid_over}
    nodes = _declared_nodes(test.graph)
    problems = list(test.problems)
    preview = case_paths(workdir, file_number, test.cases[0] if test.cases else None)
    graph, found = analyse(test.graph, _options(environ, preview))
    problems.extend(p for p in found if p.severity == "error")
    if graph is None:
        raise InvalidTestFile(problems, test.sources)
    plans: list[CasePlan] = []
    for case in test.cases:
        findings = list(_reference_findings(case, nodes))
        if findings:
            problems.extend(locate(finding, test.document) for finding in findings)
            continue
        paths = case_paths(workdir, file_number, case)
        overlay, moves = _overlay(test, case, nodes)
        case_graph, found = analyse(overlay, _options(environ, paths))
        errors = [_relocate(p, moves, test.document, case) for p in found if p.severity == "error"]
        if case_graph is None or errors:
            problems.extend(errors)
            continue
        problems.extend(_real_path_problems(case_graph, case, test.graph))
        passthrough = frozenset(node for node in case.capture if _passes_on(case_graph, node))
        plans.append(CasePlan(test, case, case_graph, paths, laid_over, passthrough))
    if problems:
        raise InvalidTestFile(sorted(problems, key=_order), test.sources)
    return plans


def _order(problem: Problem) -> tuple[str, int, int]:
    return (problem.file or "", problem.line or 0, problem.column or 0)


def _passes_on(graph: Graph, node: str) -> bool:
    """Whether the captured node's plugin would pass packets on: it has nodes downstream, it
    passes on what it receives, and its ``forward`` setting (for a sink that has one, such as
    ``http_sink``) is on, whether written in the graph or the schema's default."""
    decl = graph.node(node)
    if not graph.downstream(node) or ANY_KIND not in decl.spec.produces:
        return False
    forward = decl.spec.schema.get("properties", {}).get("forward")
    if not isinstance(forward, Mapping):
        return True
    return bool(decl.config.get("forward", forward.get("default", False)))


def _options(environ: Mapping[str, str], paths: PathSet) -> ValidateOptions:
    return ValidateOptions(
        environ=environ, paths=paths, allowlist=parse_allowlist(environ.get(ALLOWLIST_ENV))
    )


def _declared_nodes(graph: SourceDocument) -> dict[str, tuple[int, str]]:
    """Node id -> (index in ``nodes:``, declared kind), for a graph that validated."""
    found: dict[str, tuple[int, str]] = {}
    for index, raw in enumerate(graph.data.get("nodes", [])):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            found.setdefault(raw["id"], (index, str(raw.get("kind"))))
    return found


def _reference_findings(case: Case, nodes: Mapping[str, tuple[int, str]]) -> Iterator[Finding]:
    at = case.at

    def unknown(node: str, path: JsonPath) -> Finding:
        hint = did_you_mean(node, nodes) or f"the graph's nodes are: {', '.join(nodes)}"
        return Finding("test.unknown-node", f"the graph has no node {node!r}", path, hint=hint, anchor="key")

    for node in case.replace:
        if node not in nodes:
            yield unknown(node, (*at, "replace", node))
        elif node in case.capture:
            yield Finding(
                "test.conflict",
                f"{node!r} is both replaced and captured; a captured node does not run",
                (*at, "replace", node),
                anchor="key",
            )
    for node in case.inputs:
        if node not in nodes:
            yield unknown(node, (*at, "inputs", node))
        elif nodes[node][1] != "source":
            yield Finding(
                "test.inputs-not-source",
                f"{node!r} is a {nodes[node][1]}, not a source; only a source can emit given packets",
                (*at, "inputs", node),
                hint="give the packets to the source upstream of it",
                anchor="key",
            )
        elif node in case.replace:
            yield Finding(
                "test.conflict",
                f"{node!r} has both inputs and a replacement; inputs already replace the source",
                (*at, "inputs", node),
                anchor="key",
            )
    for index, node in enumerate(case.capture):
        if node not in nodes:
            yield unknown(node, (*at, "capture", index))
        elif nodes[node][1] == "source":
            yield Finding(
                "test.capture-source",
                f"{node!r} is a source, and no packet ever reaches a source",
                (*at, "capture", index),
                hint="capture a node or sink downstream of it",
            )
    for expectation in case.expect:
        node = expectation.node
        if node in case.capture:
            continue
        if node not in nodes:
            yield unknown(node, expectation.at)
        else:
            yield Finding(
                "test.not-captured",
                f"{node!r} is not captured, so no packets are recorded for it",
                expectation.at,
                hint=f"add {node!r} to this case's 'capture' list",
                anchor="key",
            )


#: (JSON path in the graph document, JSON path in the test file) for each laid-over subtree.
Move = tuple[JsonPath, JsonPath]


def _overlay(
    test: GraphTest, case: Case, nodes: Mapping[str, tuple[int, str]]
) -> tuple[SourceDocument, list[Move]]:
    data = dict(test.graph.data)
    raw_nodes: list[Any] = list(data["nodes"])
    raw_cases = test.document.data["cases"][case.index]
    moves: list[Move] = []
    for node, replacement in case.replace.items():
        index = nodes[node][0]
        raw_nodes[index] = {
            **raw_nodes[index],
            "plugin": replacement.plugin,
            "config": dict(replacement.config),
        }
        there: JsonPath = (*case.at, "replace", node)
        has_config = "config" in raw_cases["replace"][node]
        moves += [
            (("nodes", index, "plugin"), (*there, "plugin")),
            (("nodes", index, "kind"), (*there, "plugin")),  # "cannot be a source": the plugin's fault
            (("nodes", index, "config"), (*there, "config") if has_config else there),
            (("nodes", index), there),
        ]
    for node, packets in case.inputs.items():
        index = nodes[node][0]
        raw_nodes[index] = {
            "id": node,
            "kind": "source",
            "plugin": "static_source",
            "config": {"packets": list(packets)},
        }
        there = (*case.at, "inputs", node)
        moves += [(("nodes", index, "config", "packets"), there), (("nodes", index), there)]
    data["nodes"] = raw_nodes
    overlay = SourceDocument(
        file=test.graph.file, text=test.graph.text, data=data, values=test.graph.values, keys=test.graph.keys
    )
    return overlay, moves


def _relocate(problem: Problem, moves: list[Move], document: SourceDocument, case: Case) -> Problem:
    """A problem of the laid-over graph, reported where the case wrote the value at fault."""
    for graph_prefix, test_prefix in moves:
        head = format_path(graph_prefix)
        if problem.path != head and not problem.path.startswith((f"{head}.", f"{head}[")):
            continue
        path = format_path(test_prefix) + problem.path[len(head) :]
        line, column = _position(document, test_prefix, path, key=problem.code == "schema.unknown-key")
        return Problem(
            problem.code, problem.message, path, document.file, line, column, problem.severity, problem.hint
        )
    # A topology problem the case's changes caused (frames now reach a JSON sink): name the case.
    where = f"{problem.location()}: " if problem.location() else ""
    inner = f"{problem.path}: " if problem.path else ""
    line, column = document.position(case.at) or (None, None)
    return Problem(
        problem.code,
        f"with this case's changes, {where}{inner}{problem.message}",
        format_path(case.at),
        document.file,
        line,
        column,
        problem.severity,
        problem.hint,
    )


def _position(
    document: SourceDocument, prefix: JsonPath, path: str, *, key: bool
) -> tuple[int | None, int | None]:
    """The position of the deepest value under ``prefix`` whose JSON path ``path`` is, or starts with."""
    best: JsonPath = prefix
    for candidate in document.values:
        if len(candidate) <= len(best) or candidate[: len(prefix)] != prefix:
            continue
        text = format_path(candidate)
        if path == text or path.startswith((f"{text}.", f"{text}[")):
            best = candidate
    found = document.position(best, "key" if key and format_path(best) == path else "value")
    return found if found else (None, None)


#: The path classes nodes write to; reading the real config directory (a CA file) is harmless.
_WRITTEN: tuple[PathClass, ...] = ("state", "logs")


def _real_dirs() -> list[PurePath]:
    """This machine's real state and logs directories: system and user scope, and the environment's."""
    found: list[PurePath] = [system_paths(current_os(), os.environ)[name] for name in _WRITTEN]
    for scope in (None, "user"):
        try:
            resolved = resolve_paths(environ=os.environ, scope=scope)
        except ConfigError:  # an odd SCHNITZEL_STREAM_SCOPE must not stop the other checks
            continue
        found.extend(resolved.get(name) for name in _WRITTEN)
    return found


def _real_path_problems(graph: Graph, case: Case, document: SourceDocument) -> Iterator[Problem]:
    real = _real_dirs()
    captured = set(case.capture)
    for decl in graph.nodes:
        if decl.id in captured:
            continue
        for path, value in _strings(decl.config, ("nodes", decl.position, "config")):
            if not PurePath(value).is_absolute():
                continue
            hit = next((d for d in real if PurePath(value) == d or PurePath(value).is_relative_to(d)), None)
            if hit is not None:
                message = (
                    f"case {case.name!r}: node {decl.id!r} would use {value!r}, inside this machine's real "
                    f"directory {hit}; a graph test keeps to its own temporary directories"
                )
                hint = "write the path with ${state} or ${logs}, or capture or replace the node"
                yield locate(Finding("test.real-path", message, path, hint=hint), document)


def _strings(value: Any, at: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield at, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*at, index))
