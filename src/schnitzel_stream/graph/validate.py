"""The validation pipeline: file -> document -> schema, plugins, config, topology -> report.

Public entry points:

- :func:`validate_files` checks files and directories and returns a :class:`Report`;
- :func:`load_graph` returns a valid :class:`Graph` or raises :class:`GraphError` with every
  problem (the engine uses it; ``run`` prints the problems and exits 78);
- :func:`validate_path` / :func:`validate_text` return both the graph (``None`` when
  invalid) and the file's report, for callers that also want the warnings.

Every stage reports all it finds, so an operator fixes a graph in one pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from schnitzel_stream.errors import GraphError, Problem
from schnitzel_stream.graph._compat import normalize
from schnitzel_stream.graph._node_check import NodeAnalysis
from schnitzel_stream.graph._schema_check import skeleton_findings
from schnitzel_stream.graph.checks import EdgeRef, checked_graph
from schnitzel_stream.graph.expand import expand
from schnitzel_stream.graph.findings import Finding, format_path
from schnitzel_stream.graph.load import SourceDocument, parse_text, read_text
from schnitzel_stream.graph.model import Edge, Graph
from schnitzel_stream.graph.report import FileReport, Report
from schnitzel_stream.nodes.registry import hint_budget, parse_allowlist
from schnitzel_stream.paths import PathSet, resolve_paths

ALLOWLIST_ENV = "SCHNITZEL_STREAM_PLUGIN_ALLOWLIST"
GRAPH_SUFFIXES = (".yaml", ".yml")
#: The most nodes and edges one graph may have (docs/ops/command_reference.md, "Limits").
MAX_NODES = 256
MAX_EDGES = 4096
#: Did-you-mean suggestions per file; past them a problem is still reported, without one.
HINTS_PER_FILE = 16
#: Graph tests (``schnitzel-stream test``) sit next to graphs; a directory walk leaves them out.
GRAPH_TEST_SUFFIXES = (".test.yaml", ".test.yml")


class ValidateOptions(NamedTuple):
    """What validation needs from outside the graph file.

    ``environ`` resolves ``${NAME}``; ``paths`` resolves ``${state}``/``${config}``/``${logs}``;
    ``allowlist`` holds module prefixes allowed as plugins (the graph's ``plugins.allow`` is
    added per file). ``import_plugins=False`` resolves allowlisted third-party plugins without
    importing them (their config is then not checked). ``require_env=True`` makes a variable
    that a ``*_from_env`` key names but the environment lacks an error, not a warning (``run``,
    ``validate --env-file``). ``strict=True`` turns every warning into an error
    (``validate --strict``).
    """

    environ: Mapping[str, str]
    paths: PathSet
    allowlist: tuple[str, ...] = ()
    import_plugins: bool = True
    require_env: bool = False
    strict: bool = False

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] | None = None, paths: PathSet | None = None
    ) -> ValidateOptions:
        """Options from the process environment (or ``environ``): paths and allowlist."""
        env = os.environ if environ is None else environ
        return cls(
            environ=env,
            paths=paths if paths is not None else resolve_paths(environ=env),
            allowlist=parse_allowlist(env.get(ALLOWLIST_ENV)),
        )


def validate_files(paths: Sequence[str], options: ValidateOptions) -> Report:
    """Check every file; directories are walked for ``*.yaml``/``*.yml`` (sorted, hidden dirs and
    ``*.test.yaml`` graph tests skipped)."""
    reports: list[FileReport] = []
    seen: set[str] = set()
    for raw in paths:
        for target in _expand(raw, reports):
            key = str(Path(target).absolute())
            if key in seen:
                continue
            seen.add(key)
            reports.append(validate_file(target, options))
    return Report(files=tuple(reports))


def _expand(raw: str, reports: list[FileReport]) -> Iterator[str]:
    if not Path(raw).is_dir():
        yield raw
        return
    found: list[str] = []
    for directory, subdirs, names in os.walk(raw):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        found.extend(
            str(Path(directory, name))
            for name in sorted(names)
            if name.lower().endswith(GRAPH_SUFFIXES) and not name.lower().endswith(GRAPH_TEST_SUFFIXES)
        )
    found.sort(key=lambda path: Path(path).parts)  # files and subdirectories interleave by name
    if not found:
        problem = Problem(
            code="io.no-graphs", message="the directory holds no *.yaml or *.yml files", file=raw
        )
        reports.append(FileReport.from_problems(raw, [problem]))
    yield from found


def validate_file(path: str, options: ValidateOptions) -> FileReport:
    """Check one graph file; never raises for anything the file contains."""
    return validate_path(path, options)[1]


def validate_path(path: str, options: ValidateOptions) -> tuple[Graph | None, FileReport]:
    """The graph (``None`` when invalid) and the report for one file."""
    try:
        text = read_text(path)
    except GraphError as error:
        return None, FileReport.from_problems(path, error.problems)
    return validate_text(text, path, options)


def validate_text(text: str, file: str, options: ValidateOptions) -> tuple[Graph | None, FileReport]:
    """Validate graph text that came from ``file`` (named in messages)."""
    try:
        document = parse_text(text, file)
        with hint_budget(HINTS_PER_FILE):
            graph, problems = analyse(document, options)
    except GraphError as error:
        return None, FileReport.from_problems(file, error.problems, source=text)
    except Exception as exc:  # noqa: BLE001  # a bug of ours must still end as a report, not a traceback
        problem = Problem(
            code="internal.error",
            message=f"internal error while validating: {type(exc).__name__}: {exc}",
            file=file,
            hint="please report this as a schnitzel-stream bug",
        )
        return None, FileReport.from_problems(file, [problem], source=text)
    return graph, FileReport.from_problems(file, problems, source=text)


def load_graph(path: str, options: ValidateOptions | None = None) -> Graph:
    """A valid graph from ``path``, or :class:`GraphError` carrying every problem found."""
    graph, report = validate_path(path, options or ValidateOptions.from_environment())
    if graph is None:
        raise GraphError(report.problems)
    return graph


def load_graph_text(text: str, file: str, options: ValidateOptions | None = None) -> Graph:
    """Like :func:`load_graph` for text that did not come from a file on disk (a built-in demo)."""
    graph, report = validate_text(text, file, options or ValidateOptions.from_environment())
    if graph is None:
        raise GraphError(report.problems)
    return graph


def analyse(document: SourceDocument, options: ValidateOptions) -> tuple[Graph | None, list[Problem]]:
    """Every problem of a parsed document, located; the graph when there is no error."""
    document, findings = normalize(document)  # the design's forms, with a warning each
    expansion = expand(document, MAX_NODES)  # camera lists (see graph/expand.py); a no-op without them
    data = expansion.data
    findings.extend(expansion.findings)
    findings.extend(skeleton_findings(data))
    oversized = _size_findings(data)
    if oversized:  # checking each node of such a graph would only bury this under more
        located = (locate(expansion.locate(finding), document) for finding in [*findings, *oversized])
        return None, sorted(dict.fromkeys(located), key=_order)
    analysis = NodeAnalysis(options, _allowlist(options, data), findings)
    raw_nodes = data.get("nodes")
    for index, raw in enumerate(raw_nodes if isinstance(raw_nodes, list) else ()):
        analysis.node(index, raw)
    raw_edges = data.get("edges", [])
    edges = _edges(raw_edges)
    # A misspelt top-level key ('edgse') may hold the real edges: connectivity is then unknown.
    misspelt = any(f.code == "schema.unknown-key" and len(f.path) == 1 for f in findings)
    complete = (
        not misspelt
        and isinstance(raw_nodes, list)
        and len(analysis.refs) == len(raw_nodes)
        and isinstance(raw_edges, list)
        and len(edges) == len(raw_edges)
    )
    topology, flow = checked_graph(analysis.refs, edges, complete=complete)
    findings.extend(topology)
    located = (locate(expansion.locate(finding), document) for finding in findings)
    problems = sorted(dict.fromkeys(located), key=_order)  # a marked node's problem comes once
    if any(problem.severity == "error" for problem in problems):
        return None, problems
    config = data.get("config")
    graph = Graph(
        nodes=tuple(analysis.decls),
        edges=tuple(Edge(src=edge.src, dst=edge.dst, position=edge.position) for edge in edges),
        version=2,
        source_file=document.file,
        config=config if isinstance(config, dict) else {},
        flow=flow,
    )
    return graph, problems


def _size_findings(data: Mapping[str, Any]) -> list[Finding]:
    """The graph's size against what one process runs: a thread per node, a delivery per edge."""
    found = []
    for key, limit, why in (
        ("nodes", MAX_NODES, "the engine runs one thread per node"),
        ("edges", MAX_EDGES, "every packet is handed on along every edge"),
    ):
        items = data.get(key)
        if isinstance(items, list) and len(items) > limit:
            found.append(
                Finding(
                    f"graph.too-many-{key}",
                    f"the graph has {len(items)} {key}; one graph may have at most {limit} ({why})",
                    (key,),
                    hint="split it into several graphs, each run by its own service",
                    anchor="key",
                )
            )
    return found


def _allowlist(options: ValidateOptions, data: Mapping[str, Any]) -> tuple[str, ...]:
    plugins = data.get("plugins")
    allow = plugins.get("allow") if isinstance(plugins, dict) else None
    extra = tuple(item for item in allow if isinstance(item, str)) if isinstance(allow, list) else ()
    return (*options.allowlist, *extra)


def _edges(raw_edges: Any) -> list[EdgeRef]:
    edges: list[EdgeRef] = []
    for index, raw in enumerate(raw_edges if isinstance(raw_edges, list) else ()):
        if not isinstance(raw, dict):
            continue
        src_key = "from" if "from" in raw else "src"
        dst_key = "to" if "to" in raw else "dst"
        src, dst = raw.get(src_key), raw.get(dst_key)
        if isinstance(src, str) and isinstance(dst, str) and src and dst:
            edges.append(EdgeRef(src, dst, index, src_key, dst_key))
    return edges


def locate(finding: Finding, document: SourceDocument) -> Problem:
    """A finding about ``document`` as a problem with its file, line and column."""
    from schnitzel_stream.redact import redact  # a valid graph has no findings: it never pays

    position = document.position(finding.path, finding.anchor)
    line, column = position if position else (None, None)
    # A message may quote a value of the graph (a URL with its password): mask it for every format.
    return Problem(
        code=finding.code,
        message=redact(finding.message),
        path=format_path(finding.path),
        file=document.file,
        line=line,
        column=column,
        severity=finding.severity,
        hint=redact(finding.hint) if finding.hint else None,
    )


def _order(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


__all__ = [
    "ALLOWLIST_ENV",
    "MAX_EDGES",
    "MAX_NODES",
    "ValidateOptions",
    "analyse",
    "load_graph",
    "load_graph_text",
    "locate",
    "validate_file",
    "validate_files",
    "validate_path",
    "validate_text",
]
