"""Graph tests: ``*.test.yaml`` files that run a graph with some nodes swapped and check what
reaches the captured ones (``schnitzel-stream test``).

The public surface is small: :func:`run_tests` runs files and directories and returns
:class:`RunResults`; :func:`render` writes them as text, json, github or junit; the test
file's JSON Schema is published as ``schemas/graph-test.schema.json`` and the json report's
as ``schemas/test-report.schema.json`` (:func:`published_schema`).
"""

from __future__ import annotations

from typing import Any

from schnitzel_stream.graphtest._render import FORMATS, Format, render
from schnitzel_stream.graphtest._results import CaseResult, FileResult, RunResults
from schnitzel_stream.graphtest._run import Progress, RunOptions, run_tests

#: The schemas this package publishes in ``schemas/``.
PUBLISHED_SCHEMAS = ("graph-test", "test-report")


def published_schema(name: str) -> dict[str, Any]:
    """The schema published as ``schemas/<name>.schema.json``."""
    if name == "graph-test":
        from schnitzel_stream.graphtest._schema import graph_test_schema

        return graph_test_schema()
    if name == "test-report":
        from schnitzel_stream.graphtest._report_schema import TEST_REPORT_SCHEMA

        return TEST_REPORT_SCHEMA
    raise KeyError(name)


__all__ = [
    "FORMATS",
    "PUBLISHED_SCHEMAS",
    "CaseResult",
    "FileResult",
    "Format",
    "Progress",
    "RunOptions",
    "RunResults",
    "published_schema",
    "render",
    "run_tests",
]
