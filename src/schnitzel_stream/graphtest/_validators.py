"""Schema checks for test files: a compiled validator accepts valid files fast, and the graph
layer's jsonschema translation words the problems of the others (same messages, same hints).

jsonschema costs about 0.2 s to import, which is a fifth of the time a one-case run may take,
so it is imported only for a file that has a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schnitzel_stream.graph.findings import Finding

_COMPILED: dict[str, Any] = {}


def _accepts(key: str, schema: Mapping[str, Any], value: Any) -> bool:
    validator = _COMPILED.get(key)
    if validator is None:
        try:
            import jsonschema_rs
        except ImportError:
            return False
        validator = _COMPILED[key] = jsonschema_rs.validator_for(dict(schema))
    return bool(validator.is_valid(value))


def schema_findings(key: str, schema: Mapping[str, Any], value: Any) -> list[Finding]:
    """Every problem of ``value`` against ``schema`` (cached under ``key``), located by JSON path."""
    if _accepts(key, schema, value):
        return []
    from jsonschema import Draft202012Validator

    from schnitzel_stream.graph._schema_errors import findings_for

    return findings_for(Draft202012Validator(dict(schema)), value, ())
