"""Applying the schemas: a compiled validator's yes first, jsonschema's words for the rest.

Most graphs are valid, and a valid value needs no message, only a yes. ``jsonschema`` (the
reference validator, whose error objects drive the report) costs about 0.13 s to import and
checks in pure Python, so each value is first offered to jsonschema-rs, a compiled validator
installed with the package (abi3 wheels for Linux x86_64/aarch64, macOS and Windows). Only its
yes is trusted: a no, any exception (NaN, a number JSON cannot hold) or a missing
``jsonschema_rs`` module sends the value to jsonschema, which finds and words every problem.
A differential test (``tests/unit/test_compiled_validator_differential.py``) holds the two
to the same verdicts.

Compiled validators are cached per schema for the life of the process, so checking a
directory of graphs compiles each schema once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from schnitzel_stream.graph.findings import Finding, JsonPath
from schnitzel_stream.graph.schema import RUNTIME_SCHEMA, skeleton_schema
from schnitzel_stream.nodes.base import NodeSpec

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

Check = Callable[[Any], bool]

#: jsonschema validators by key; built only when some value of that schema is invalid.
_REFERENCE: dict[str, Validator] = {}
#: Compiled checks by key; ``None`` when jsonschema_rs is missing or refused the schema.
_COMPILED: dict[str, Check | None] = {}
_SKELETON = "skeleton"
_RUNTIME = "runtime"


def _compile(schema: Mapping[str, Any]) -> Check | None:
    try:
        import jsonschema_rs
    except ImportError:  # no wheel for this platform: jsonschema alone, just slower
        return None
    try:
        check: Check = jsonschema_rs.Draft202012Validator(dict(schema)).is_valid
    except Exception:  # noqa: BLE001  # a schema it cannot compile costs speed, never a verdict
        return None
    return check


def compiled_accepts(key: str, schema: Mapping[str, Any], instance: Any) -> bool:
    """True only when the compiled validator of ``schema`` (cached as ``key``) accepts ``instance``."""
    if key not in _COMPILED:
        _COMPILED[key] = _compile(schema)
    check = _COMPILED[key]
    if check is None:
        return False
    try:
        return check(instance)
    except Exception:  # noqa: BLE001  # a value it cannot read (NaN, 2**64): jsonschema decides
        return False


def _reference(key: str, schema: Mapping[str, Any], *, check: bool = False) -> Validator:
    found = _REFERENCE.get(key)
    if found is None:
        from jsonschema import Draft202012Validator

        if check:
            Draft202012Validator.check_schema(schema)
        found = Draft202012Validator(schema)
        _REFERENCE[key] = found
    return found


_SKELETON_SCHEMA = skeleton_schema()


def skeleton_findings(document: Any) -> list[Finding]:
    """Problems with the document outside node configs (all of them)."""
    if compiled_accepts(_SKELETON, _SKELETON_SCHEMA, document):
        return []
    from schnitzel_stream.graph._schema_errors import findings_for

    return findings_for(_reference(_SKELETON, _SKELETON_SCHEMA), document, ())


def runtime_findings(runtime: Any, base: JsonPath) -> list[Finding]:
    """Problems with a node's ``__runtime__`` mapping, located under ``base``."""
    if compiled_accepts(_RUNTIME, RUNTIME_SCHEMA, runtime):
        return []
    from schnitzel_stream.graph._schema_errors import findings_for

    return findings_for(_reference(_RUNTIME, RUNTIME_SCHEMA), runtime, base)


def config_key(spec: NodeSpec) -> str:
    """The cache key of ``spec``'s config schema: a spec that only shares a name gets its own."""
    return f"config:{spec.target}#{id(spec.schema)}"


def config_findings(
    spec: NodeSpec, config: Mapping[str, Any], base: JsonPath, *, builtin: bool
) -> list[Finding]:
    """Problems with a node's config (``__runtime__`` already removed) against its spec.

    A third-party spec's schema is checked against the metaschema first (by jsonschema, every
    time: the compiled validator is only offered the schemas we ship), so a broken plugin
    schema is reported as such instead of escaping as an exception.
    """
    key = config_key(spec)
    instance = dict(config)
    if builtin and compiled_accepts(key, spec.schema, instance):
        return []
    from schnitzel_stream.graph._schema_errors import findings_for

    try:
        return findings_for(_reference(key, spec.schema, check=not builtin), instance, base)
    except Exception as exc:  # a broken third-party schema must not crash validate
        if builtin:
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [
            Finding(
                "plugin.bad-schema",
                f"plugin {spec.name!r} publishes an invalid config schema: {message}",
                base,
            )
        ]


def validation_schemas() -> dict[str, Mapping[str, Any]]:
    """Every schema validation applies to built-in graphs, by name (for the differential test)."""
    from schnitzel_stream.nodes.registry import builtin_specs

    schemas: dict[str, Mapping[str, Any]] = {_SKELETON: _SKELETON_SCHEMA, _RUNTIME: RUNTIME_SCHEMA}
    for spec in builtin_specs().values():
        schemas[f"config.{spec.name}"] = spec.schema
    return schemas


__all__ = [
    "compiled_accepts",
    "config_findings",
    "config_key",
    "runtime_findings",
    "skeleton_findings",
    "validation_schemas",
]
