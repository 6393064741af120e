"""The shape of ``schnitzel-stream test --format json``, published as ``test-report.schema.json``.

A problem has exactly the shape of a problem in the validate report (one definition, taken
from there), so a tool that reads one reads the other.
"""

from __future__ import annotations

import copy
from typing import Any

from schnitzel_stream.graph.report import REPORT_SCHEMA
from schnitzel_stream.graph.schema import DIALECT, SCHEMA_BASE


def _count(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "description": description}


TEST_REPORT_SCHEMA: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": f"{SCHEMA_BASE}test-report.schema.json",
    "title": "schnitzel-stream test report",
    "description": "The output of 'schnitzel-stream test --format json'.",
    "type": "object",
    "required": ["passed", "summary", "files"],
    "additionalProperties": False,
    "properties": {
        "passed": {
            "type": "boolean",
            "description": "True when every test file is valid and every case passed.",
        },
        "summary": {
            "type": "object",
            "required": ["files", "invalid_files", "cases", "passed", "failed", "errors"],
            "additionalProperties": False,
            "properties": {
                "files": _count("Test files run or found invalid."),
                "invalid_files": _count(
                    "Test files that could not run: every problem is in their 'problems'."
                ),
                "cases": _count("Cases run."),
                "passed": _count("Cases whose every expectation held."),
                "failed": _count("Cases with an expectation that did not hold."),
                "errors": _count("Cases whose graph could not start or failed while running."),
            },
        },
        "files": {"type": "array", "items": {"$ref": "#/$defs/file"}},
    },
    "$defs": {
        "file": {
            "type": "object",
            "required": ["path", "valid", "passed", "problems", "cases"],
            "additionalProperties": False,
            "properties": {
                "path": {"type": "string", "description": "The test file, as named or found."},
                "valid": {"type": "boolean", "description": "False when the file could not run at all."},
                "passed": {"type": "boolean", "description": "Valid, and every case passed."},
                "problems": {
                    "type": "array",
                    "description": "Why the file is invalid (in it, or in the graph it names).",
                    "items": {"$ref": "#/$defs/problem"},
                },
                "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}},
            },
        },
        "case": {
            "type": "object",
            "required": ["name", "status", "ended", "duration_sec", "captured", "problems", "logs"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "status": {"enum": ["passed", "failed", "error"]},
                "ended": {
                    "enum": ["completed", "timeout", "decided", "failed", "not-started"],
                    "description": (
                        "completed: every source ended; timeout: timeout_sec was reached; decided: an "
                        "expectation broke for good and the graph was stopped early; failed: a node "
                        "failed; not-started: a node could not be built."
                    ),
                },
                "duration_sec": {"type": "number", "minimum": 0},
                "captured": {
                    "type": "object",
                    "description": "Captured node id -> packets that reached it before the case ended.",
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
                "problems": {
                    "type": "array",
                    "description": "Each failed expectation (or the graph's failure), located in the test file.",
                    "items": {"$ref": "#/$defs/problem"},
                },
                "logs": {
                    "type": "array",
                    "description": "Warnings and errors the graph logged while the case ran (secrets masked).",
                    "items": {"type": "string"},
                },
            },
        },
        "problem": copy.deepcopy(REPORT_SCHEMA["$defs"]["problem"]),
    },
}
