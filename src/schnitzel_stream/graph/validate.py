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
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schnitzel_stream.errors import GraphError, Problem
from schnitzel_stream.graph.checks import EdgeRef, NodeRef, check_graph
from schnitzel_stream.graph.findings import Finding, describe_value, format_path
from schnitzel_stream.graph.interpolate import interpolate
from schnitzel_stream.graph.load import SourceDocument, parse_text, read_text
from schnitzel_stream.graph.model import Edge, Graph, NodeDecl, RuntimeOptions
from schnitzel_stream.graph.report import FileReport, Report
from schnitzel_stream.graph.schema import RUNTIME_KEY, config_findings, runtime_findings, skeleton_findings
from schnitzel_stream.nodes.base import Role
from schnitzel_stream.nodes.registry import PluginError, Resolved, parse_allowlist, resolve
from schnitzel_stream.paths import PATH_CLASSES, PathSet, resolve_paths

ALLOWLIST_ENV = "SCHNITZEL_STREAM_PLUGIN_ALLOWLIST"
GRAPH_SUFFIXES = (".yaml", ".yml")
_ROLES: tuple[Role, ...] = ("source", "node", "sink")
_REFERENCE_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class ValidateOptions:
    """What validation needs from outside the graph file.

    ``environ`` resolves ``${NAME}``; ``paths`` resolves ``${state}``/``${config}``/``${logs}``;
    ``allowlist`` holds module prefixes allowed as plugins (the graph's ``plugins.allow`` is
    added per file). ``import_plugins=False`` resolves allowlisted third-party plugins without
    importing them (their config is then not checked).
    """

    environ: Mapping[str, str]
    paths: PathSet
    allowlist: tuple[str, ...] = ()
    import_plugins: bool = True

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
    """Check every file; directories are walked for ``*.yaml``/``*.yml`` (sorted, hidden dirs skipped)."""
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
            str(Path(directory, name)) for name in sorted(names) if name.lower().endswith(GRAPH_SUFFIXES)
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
    data = document.data
    findings = skeleton_findings(data)
    analysis = _Analysis(options, _allowlist(options, data), findings)
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
    findings.extend(check_graph(analysis.refs, edges, complete=complete))
    problems = sorted((_locate(finding, document) for finding in findings), key=_order)
    if any(problem.severity == "error" for problem in problems):
        return None, problems
    config = data.get("config")
    graph = Graph(
        nodes=tuple(analysis.decls),
        edges=tuple(Edge(src=edge.src, dst=edge.dst, index=edge.index) for edge in edges),
        version=2,
        source_file=document.file,
        config=config if isinstance(config, dict) else {},
    )
    return graph, problems


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


class _Analysis:
    """Per-node work: plugin resolution, ``__runtime__``, interpolation, config schema."""

    def __init__(self, options: ValidateOptions, allowlist: tuple[str, ...], findings: list[Finding]) -> None:
        self.options = options
        self.allowlist = allowlist
        self.findings = findings
        self.refs: list[NodeRef] = []
        self.decls: list[NodeDecl] = []
        self._resolved: dict[str, Resolved | PluginError] = {}

    def _resolve(self, plugin: str) -> Resolved | PluginError:
        found = self._resolved.get(plugin)
        if found is None:
            try:
                found = resolve(plugin, allowlist=self.allowlist, import_external=self.options.import_plugins)
            except PluginError as exc:
                found = exc
            self._resolved[plugin] = found
        return found

    def node(self, index: int, raw: Any) -> None:
        if not isinstance(raw, dict):
            return
        node_id, kind, plugin = raw.get("id"), raw.get("kind"), raw.get("plugin")
        if not isinstance(node_id, str) or not node_id:
            return  # the skeleton check reported it; edges cannot name this node anyway
        base = ("nodes", index)
        before = len(self.findings)
        resolved = self._resolve(plugin) if isinstance(plugin, str) and plugin else None
        if isinstance(resolved, PluginError):
            self.findings.append(
                Finding(resolved.code, resolved.message, (*base, "plugin"), hint=resolved.hint)
            )
            resolved = None
        spec = resolved.spec if resolved else None
        role: Role | None = kind if kind in _ROLES else None
        if spec is not None and role is not None and role not in spec.roles:
            roles = ", ".join(r for r in _ROLES if r in spec.roles)
            self.findings.append(
                Finding(
                    "graph.role",
                    f"plugin {spec.name!r} cannot be a {role}",
                    (*base, "kind"),
                    hint=f"{spec.name} can be: {roles}",
                )
            )
        self.refs.append(NodeRef(node_id, role, index, spec))
        config, runtime = self._config(base, raw.get("config", {}), resolved)
        if spec is not None and role is not None and config is not None and len(self.findings) == before:
            self.decls.append(
                NodeDecl(
                    id=node_id,
                    kind=role,
                    plugin=str(plugin),
                    spec=spec,
                    config=config,
                    runtime=runtime,
                    index=index,
                )
            )

    def _config(
        self, base: tuple[str | int, ...], raw: Any, resolved: Resolved | None
    ) -> tuple[dict[str, Any] | None, RuntimeOptions]:
        if not isinstance(raw, dict):
            return None, RuntimeOptions()  # the skeleton check reported it
        config = dict(raw)
        runtime = RuntimeOptions()
        at = (*base, "config")
        before = len(self.findings)
        if RUNTIME_KEY in config:
            raw_runtime = config.pop(RUNTIME_KEY)
            problems = runtime_findings(raw_runtime, (*at, RUNTIME_KEY))
            self.findings.extend(problems)
            if not problems:
                runtime = RuntimeOptions(
                    inbox_max=raw_runtime.get("inbox_max"), inbox_overflow=raw_runtime.get("inbox_overflow")
                )
        result = interpolate(config, paths=self.options.paths, environ=self.options.environ, base=at)
        self.findings.extend(result.findings)
        if resolved is None:
            return result.value, runtime
        for finding in config_findings(resolved.spec, result.value, at, builtin=resolved.builtin):
            if finding.path in result.unresolved:
                continue  # the missing variable is the problem; its placeholder text is not
            if finding.path in result.references:
                # The value came from ${...}: the environment may hold a secret (a camera URL
                # with its password), so the message names the reference, never the value.
                finding = _naming_reference(finding, config, result.value, len(at))
                if finding.code == "schema.type":
                    finding = _with_hint(finding, "a value built from ${...} is always a string")
            self.findings.append(finding)
        check = resolved.spec.check
        if check is not None and len(self.findings) == before:
            # The node's own static checks (a file path that is a directory...), on a valid config.
            self.findings.extend(Finding(f.code, f.message, (*at, f.key)) for f in check(result.value))
        return result.value, runtime


def _with_hint(finding: Finding, hint: str) -> Finding:
    return Finding(finding.code, finding.message, finding.path, finding.severity, hint, finding.anchor)


def _naming_reference(finding: Finding, raw: Any, interpolated: Any, depth: int) -> Finding:
    """``finding`` with the interpolated string it quotes replaced by the ``${...}`` text it came from."""
    for key in finding.path[depth:]:
        try:
            raw, interpolated = raw[key], interpolated[key]
        except (KeyError, IndexError, TypeError):
            return finding
    if not isinstance(raw, str) or not isinstance(interpolated, str):
        return finding
    if all(name in PATH_CLASSES for name in _REFERENCE_NAME.findall(raw)):
        return finding  # only ${state}/${config}/${logs}: directories, and showing them helps
    message = finding.message.replace(describe_value(interpolated), f"the string built from {raw!r}")
    return Finding(finding.code, message, finding.path, finding.severity, finding.hint, finding.anchor)


def _locate(finding: Finding, document: SourceDocument) -> Problem:
    position = document.position(finding.path, finding.anchor)
    line, column = position if position else (None, None)
    return Problem(
        code=finding.code,
        message=finding.message,
        path=format_path(finding.path),
        file=document.file,
        line=line,
        column=column,
        severity=finding.severity,
        hint=finding.hint,
    )


def _order(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


__all__ = [
    "ALLOWLIST_ENV",
    "ValidateOptions",
    "analyse",
    "load_graph",
    "load_graph_text",
    "validate_file",
    "validate_files",
    "validate_path",
    "validate_text",
]
