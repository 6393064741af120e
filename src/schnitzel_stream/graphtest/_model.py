"""A test file as the runner sees it: cases, replacements, inputs, captures and expectations.

Every record keeps the JSON path it came from in the test file (``at``), so a failure found
while the graph runs is reported at the line of the expectation that failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.findings import JsonPath

if TYPE_CHECKING:
    from schnitzel_stream.graph.load import SourceDocument
    from schnitzel_stream.graphtest._payload_schema import PayloadSchema


@dataclass(frozen=True, slots=True)
class CountRange:
    """``count: 5`` is ``CountRange(5, 5, exact=True)``; ``{min: 1}`` has no upper bound."""

    low: int
    high: int | None
    exact: bool = False

    def describe(self) -> str:
        if self.exact:
            return f"exactly {self.low}"
        if self.high is None:
            return f"at least {self.low}"
        return f"at most {self.high}" if self.low == 0 else f"between {self.low} and {self.high}"


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the packets that reach one captured node must satisfy."""

    node: str
    at: JsonPath
    count: CountRange | None = None
    schema: PayloadSchema | None = None
    all: Mapping[str, Any] | None = None
    any: Mapping[str, Any] | None = None
    none: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Replacement:
    plugin: str
    config: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    """One case: the graph with some nodes swapped, run once."""

    index: int
    name: str
    timeout_sec: float
    replace: Mapping[str, Replacement]
    inputs: Mapping[str, list[Any]]
    capture: tuple[str, ...]
    expect: tuple[Expectation, ...]

    @property
    def at(self) -> JsonPath:
        return ("cases", self.index)


@dataclass(frozen=True, slots=True)
class GraphTest:
    """A parsed, schema-valid test file and the graph document it names."""

    path: str
    document: SourceDocument
    graph_file: str
    graph: SourceDocument
    env: Mapping[str, str]
    #: The cases without problems; the problems of the others are in ``problems``.
    cases: tuple[Case, ...]
    problems: tuple[Problem, ...] = ()

    @property
    def sources(self) -> dict[str, str]:
        """The text of the test file and of its graph, by file name."""
        return {self.path: self.document.text, self.graph.file: self.graph.text}
