"""Read a ``*.test.yaml`` file the way ``validate`` reads a graph.

The same safe loader (duplicate keys, tags, alias bombs, size and depth limits), the same
schema messages with did-you-mean hints, and every problem located at file, line and
column. What the schema cannot say is checked here: unique case names, ``min <= max``,
finite timeouts, and the files the test names (its graph, and payload schemas).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schnitzel_stream.errors import GraphError, Problem
from schnitzel_stream.graph.findings import Finding, JsonPath
from schnitzel_stream.graph.load import SourceDocument, parse_text, read_text
from schnitzel_stream.graph.validate import GRAPH_SUFFIXES, GRAPH_TEST_SUFFIXES, locate
from schnitzel_stream.graphtest._model import Case, CountRange, Expectation, GraphTest, Replacement
from schnitzel_stream.graphtest._payload_schema import PayloadSchema, SchemaFileError, load_payload_schema
from schnitzel_stream.graphtest._schema import DEFAULT_TIMEOUT_SEC, graph_test_schema


class InvalidTestFile(Exception):
    """The file cannot be run; ``problems`` says every reason found.

    ``sources`` holds the text of each file the problems are in (the test file, its graph).
    """

    def __init__(self, problems: list[Problem], sources: Mapping[str, str] | None = None) -> None:
        super().__init__(problems[0].one_line() if problems else "invalid test file")
        self.problems = problems
        self.sources = dict(sources or {})


def _as_test_file(problem: Problem) -> Problem:
    """The loader's wording is about graph files; say "test file" where this is one."""
    message = problem.message.replace("'version', 'nodes' and 'edges'", "'version', 'graph' and 'cases'")
    message = message.replace("graph file", "test file")
    code = problem.code.replace("graph.", "test.", 1) if problem.code.startswith("graph.") else problem.code
    return Problem(
        code,
        message,
        problem.path,
        problem.file,
        problem.line,
        problem.column,
        problem.severity,
        problem.hint,
    )


def load_test(path: str, *, confine: Path | None = None) -> GraphTest:
    """Parse and check one test file, and read the graph it names.

    Raises :class:`InvalidTestFile` when nothing can run (the file or its graph cannot be
    read, or a top-level key is wrong). Otherwise problems confined to some cases are in
    :attr:`GraphTest.problems` and only the other cases are in :attr:`GraphTest.cases`, so
    that planning can still report what is wrong with those: every problem in one pass.
    ``confine`` (a deployment root) is a directory every file the test names must stay in.
    """
    try:
        text = read_text(path)
    except GraphError as error:
        raise InvalidTestFile([_as_test_file(p) for p in error.problems]) from None
    try:
        document = parse_text(text, path)
    except GraphError as error:
        raise InvalidTestFile([_as_test_file(p) for p in error.problems], {path: text}) from None
    data = document.data
    findings = [*_schema_findings(data), *_semantic_findings(data)]
    base = Path(path).parent
    raw_graph = data.get("graph")
    graph_file = _graph_path(base, raw_graph, confine, findings) if isinstance(raw_graph, str) else None
    schemas = _payload_schemas(base, data, confine, findings)
    problems = [locate(finding, document) for finding in findings]
    sources = {path: text}
    graph: SourceDocument | None = None
    if graph_file is not None:
        try:
            sources[graph_file] = read_text(graph_file)
        except GraphError as error:  # missing, a directory, too large: say so where 'graph' names it
            problems.extend(
                locate(Finding(p.code, f"{graph_file}: {p.message}", ("graph",), hint=p.hint), document)
                for p in error.problems
            )
        else:
            try:
                graph = parse_text(sources[graph_file], graph_file)
            except GraphError as error:
                problems.extend(error.problems)
    whole_file = any(len(f.path) < 2 or f.path[0] != "cases" for f in findings)
    if graph is None or graph_file is None or whole_file:
        raise InvalidTestFile(sorted(problems, key=_order), sources)
    broken = {f.path[1] for f in findings}
    cases = tuple(
        _case(index, raw, schemas) for index, raw in enumerate(data["cases"]) if index not in broken
    )
    return GraphTest(
        path=path,
        document=document,
        graph_file=graph_file,
        graph=graph,
        env=dict(data.get("env", {})),
        cases=cases,
        problems=tuple(sorted(problems, key=_order)),
    )


def _order(problem: Problem) -> tuple[int, int]:
    return (problem.line or 0, problem.column or 0)


def _schema_findings(data: Mapping[str, Any]) -> list[Finding]:
    from schnitzel_stream.graphtest._validators import schema_findings

    found = schema_findings("graph-test", graph_test_schema(), data)
    if found and "nodes" in data and "cases" not in data:
        # Listing every key a graph has and a test file has not would bury the one real problem.
        hint = "a test file names its graph under 'graph:' and lists 'cases:'; see 'schnitzel-stream test --help'"
        return [Finding("test.is-graph", "this is a graph file, not a test file", (), hint=hint)]
    return found


def _mappings(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The mapping items of a list, with their indexes (the schema reported anything else)."""
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _semantic_findings(data: Mapping[str, Any]) -> list[Finding]:
    """What the schema cannot say; values of the wrong type were reported by it and are skipped."""
    findings: list[Finding] = []
    first: dict[str, int] = {}
    for index, case in _mappings(data.get("cases")):
        at: JsonPath = ("cases", index)
        name = case.get("name")
        if isinstance(name, str) and name in first:
            message = f"duplicate case name {name!r} (first used by cases[{first[name]}])"
            findings.append(Finding("test.duplicate-case", message, (*at, "name")))
        elif isinstance(name, str):
            first[name] = index
        timeout = case.get("timeout_sec")
        if isinstance(timeout, float) and not math.isfinite(timeout):
            findings.append(
                Finding("schema.type", "expected a finite number of seconds", (*at, "timeout_sec"))
            )
        expect = case.get("expect")
        for node, expectation in expect.items() if isinstance(expect, dict) else ():
            count = expectation.get("count") if isinstance(expectation, dict) else None
            low = count.get("min") if isinstance(count, dict) else None
            high = count.get("max") if isinstance(count, dict) else None
            if isinstance(low, int) and isinstance(high, int) and low > high:
                findings.append(
                    Finding(
                        "test.count-range",
                        f"min ({low}) is greater than max ({high}); no count can satisfy both",
                        (*at, "expect", node, "count"),
                    )
                )
    return findings


def _payload_schemas(
    base: Path, data: Mapping[str, Any], confine: Path | None, findings: list[Finding]
) -> dict[JsonPath, PayloadSchema]:
    """Each ``expect.<node>.schema`` file, loaded once however many cases name it."""
    schemas: dict[JsonPath, PayloadSchema] = {}
    loaded: dict[Path, PayloadSchema | str] = {}
    for index, case in _mappings(data.get("cases")):
        expect = case.get("expect")
        for node, expectation in expect.items() if isinstance(expect, dict) else ():
            raw = expectation.get("schema") if isinstance(expectation, dict) else None
            if not isinstance(raw, str) or not raw:
                continue
            at: JsonPath = ("cases", index, "expect", node)
            found = _payload_schema(base, raw, confine, loaded)
            if isinstance(found, str):
                findings.append(Finding("test.schema-file", found, (*at, "schema")))
            else:
                schemas[at] = found
    return schemas


def _inside(target: Path, confine: Path | None) -> bool:
    if confine is None:
        return True
    try:
        return target.resolve().is_relative_to(confine.resolve())
    except (OSError, RuntimeError):  # a symlink loop cannot be inside anything
        return False


def _graph_path(base: Path, raw: str, confine: Path | None, findings: list[Finding]) -> str | None:
    target = base / raw
    lowered = raw.lower()
    problem: str | None = None
    if lowered.endswith(GRAPH_TEST_SUFFIXES):
        problem = "names a test file; 'graph' names the graph under test (a *.yaml graph file)"
    elif not lowered.endswith(GRAPH_SUFFIXES):
        problem = "a graph file ends in .yaml or .yml"
    elif not _inside(target, confine):
        problem = f"{raw!r} is outside the deployment root {confine}; a root's tests use its own graph"
    if problem is not None:
        findings.append(Finding("test.graph-path", problem, ("graph",)))
        return None
    return str(target)


def _payload_schema(
    base: Path, raw: str, confine: Path | None, loaded: dict[Path, PayloadSchema | str]
) -> PayloadSchema | str:
    target = base / raw
    if not _inside(target, confine):
        return f"{raw!r} is outside the deployment root {confine}"
    if target not in loaded:
        try:
            loaded[target] = load_payload_schema(target)
        except SchemaFileError as exc:
            loaded[target] = str(exc)
    return loaded[target]


def _case(index: int, raw: Mapping[str, Any], schemas: Mapping[JsonPath, PayloadSchema]) -> Case:
    expect = tuple(
        Expectation(
            node=node,
            at=("cases", index, "expect", node),
            count=_count(spec.get("count")),
            schema=schemas.get(("cases", index, "expect", node)),
            all=spec.get("all"),
            any=spec.get("any"),
            none=spec.get("none"),
        )
        for node, spec in raw.get("expect", {}).items()
    )
    return Case(
        index=index,
        name=raw["name"],
        timeout_sec=float(raw.get("timeout_sec", DEFAULT_TIMEOUT_SEC)),
        replace={
            node: Replacement(plugin=spec["plugin"], config=spec.get("config", {}))
            for node, spec in raw.get("replace", {}).items()
        },
        inputs=dict(raw.get("inputs", {})),
        capture=tuple(raw.get("capture", ())),
        expect=expect,
    )


def _count(raw: Any) -> CountRange | None:
    if raw is None:
        return None
    if isinstance(raw, int):
        return CountRange(raw, raw, exact=True)
    return CountRange(int(raw.get("min", 0)), raw.get("max"))
