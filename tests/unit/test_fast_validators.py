"""The generated fast validators (``graph/_fast_validators/``): current, and draft-7 safe.

``validate`` trusts a generated validator's yes without asking jsonschema, so: the committed
package must be exactly what the generator makes of today's schemas; every schema may use only
keywords that mean the same in draft 7 (fastjsonschema) and 2020-12 (jsonschema); and the
rewrites the generator makes (``$`` anchors, ``format``) must keep jsonschema's verdicts. The
random differential test is ``test_fast_validators_differential.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from ops.ci import gen_fast_validators as gen

from schnitzel_stream.graph._fast_path import config_schema_name, fast_accepts
from schnitzel_stream.graph.schema import config_findings
from schnitzel_stream.nodes.base import NodeSpec
from schnitzel_stream.nodes.registry import builtin_specs

SCHEMAS = gen.schemas()


def _compiled(schema: dict[str, Any]) -> Any:
    """The generator's validator for ``schema``, built in memory."""
    namespace: dict[str, Any] = {}
    exec(gen.module_source("test", schema), namespace)  # noqa: S102  # our own generated code
    return namespace["validate"]


def _fast_verdict(schema: dict[str, Any], value: Any) -> bool:
    check = _compiled(schema)
    try:
        check(value)
    except ValueError:
        return False
    return True


def test_committed_package_is_current() -> None:
    stale = gen.stale_files()
    assert stale == [], (
        f"src/schnitzel_stream/graph/_fast_validators/ is stale ({', '.join(stale)}); "
        f"regenerate it with: {gen.REGENERATE}"
    )


def test_every_shipped_schema_has_a_fast_validator() -> None:
    from schnitzel_stream.graph._fast_validators import MODULES

    assert set(MODULES) == set(SCHEMAS)
    assert {f"config.{name}" for name in builtin_specs()} <= set(MODULES)
    for name, spec in builtin_specs().items():
        assert config_schema_name(spec) == f"config.{name}"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_uses_only_draft7_compatible_keywords(name: str) -> None:
    assert gen.draft7_problems(SCHEMAS[name]) == []


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        pytest.param({"prefixItems": [{"type": "string"}]}, "'prefixItems'", id="prefixItems"),
        pytest.param({"unevaluatedProperties": False}, "'unevaluatedProperties'", id="unevaluatedProperties"),
        pytest.param(
            {"dependentSchemas": {"a": {"required": ["b"]}}}, "'dependentSchemas'", id="dependentSchemas"
        ),
        pytest.param({"$dynamicRef": "#meta"}, "'$dynamicRef'", id="dynamicRef"),
        pytest.param({"$anchor": "here"}, "'$anchor'", id="anchor"),
        pytest.param({"contains": {"type": "string"}, "minContains": 2}, "'contains'", id="minContains"),
        pytest.param({"contentEncoding": "base64"}, "'contentEncoding'", id="contentEncoding"),
        pytest.param({"dependencies": {"a": ["b"]}}, "'dependencies'", id="draft7-dependencies"),
        pytest.param({"multipleOf": 0.1}, "'multipleOf'", id="multipleOf-float-semantics"),
        pytest.param({"items": [{"type": "string"}]}, "prefixItems", id="items-as-list"),
        pytest.param(
            {"properties": {"a": {"$ref": "#/$defs/x", "type": "string"}}, "$defs": {"x": {}}},
            "'$ref' beside ['type']",
            id="ref-with-asserting-sibling",
        ),
        pytest.param({"$ref": "https://example.org/other.json"}, "only local", id="remote-ref"),
        pytest.param({"properties": {"a": {"oneOf": [{"if": {}}]}}}, "#/properties/a/oneOf/0", id="nested"),
        pytest.param({"type": "date"}, "unknown type", id="unknown-type"),
        pytest.param({"pattern": "("}, "does not compile", id="broken-pattern"),
    ],
)
def test_draft7_check_refuses_what_differs(schema: dict[str, Any], fragment: str) -> None:
    problems = gen.draft7_problems(schema)
    assert any(fragment in problem for problem in problems), problems
    with pytest.raises(ValueError, match="not draft-7 compatible"):
        gen.as_draft7(schema)


def test_draft7_check_accepts_annotations_and_shared_keywords() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.org/x.json",
        "title": "t",
        "description": "d",
        "type": "object",
        "required": ["a"],
        "additionalProperties": False,
        "properties": {
            "a": {"$ref": "#/$defs/a", "description": "an annotation beside $ref is fine"},
            "b": {"oneOf": [{"const": 1}, {"enum": ["x"]}], "deprecated": True, "default": 1},
        },
        "dependentRequired": {"b": ["a"]},
        "$defs": {"a": {"type": "string", "pattern": "^a$", "format": "email", "examples": ["a"]}},
    }
    assert gen.draft7_problems(schema) == []
    assert _fast_verdict(schema, {"a": "a", "b": 1})
    assert not _fast_verdict(schema, {"b": 1})  # dependentRequired, as draft 7 'dependencies'
    assert not _fast_verdict(schema, {"a": "a", "b": 2})  # const, as a one-value enum


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param("^a$", id="anchor"),
        pytest.param(r"^[^#+$][^#+]*$", id="dollar-in-class"),
        pytest.param(r"^a\$", id="escaped-dollar"),
        pytest.param(r"^a\\$", id="escaped-backslash-then-anchor"),
        pytest.param(r"[]$]$", id="bracket-first-in-class"),
        pytest.param(r"^[^]$]x$", id="negated-bracket-first-in-class"),
        pytest.param(r"^(a|\$\{.*)$", id="env-reference"),
    ],
)
def test_dollar_anchors_keep_re_search_semantics(pattern: str) -> None:
    fixed = gen._python_dollar(pattern)
    assert re.sub(r"(?<!\\)\$", r"\\Z", fixed) == fixed, "fastjsonschema would still rewrite it"
    samples = ["a", "a\n", "a\n\n", "$", "$\n", "a$", "a\\", "a\\\n", "]", "]\n", "x", "zx\n", "${X}\n", ""]
    for sample in samples:
        expected = re.search(pattern, sample) is not None
        assert (re.search(fixed, sample) is not None) == expected, sample
        assert _fast_verdict({"type": "string", "pattern": pattern}, sample) == expected, sample


@pytest.mark.parametrize("fmt", ["email", "date-time", "ipv4", "hostname", "uri", "date", "regex"])
def test_format_is_asserted_by_neither_side(fmt: str) -> None:
    schema = {"type": "object", "properties": {"value": {"type": "string", "format": fmt}}}
    value = {"value": "(( not a valid anything"}
    spec = NodeSpec(
        name="fmt",
        target="acme.nodes:Fmt",
        roles=frozenset({"sink"}),
        title="t",
        description="d",
        schema=schema,
    )
    # The production jsonschema path (a non-built-in spec goes straight to it) ...
    assert config_findings(spec, value, ("c",), builtin=False) == []
    assert Draft202012Validator(schema).is_valid(value)
    # ... and the generated code agree: format is an annotation.
    assert _fast_verdict(schema, value)


def test_arrays_are_lists_not_tuples() -> None:
    schema = {"type": "object", "properties": {"items": {"type": "array"}}}
    assert _fast_verdict(schema, {"items": ["a"]})
    assert not _fast_verdict(schema, {"items": ("a",)})
    assert not Draft202012Validator(schema).is_valid({"items": ("a",)})


def test_defaults_are_not_filled_in() -> None:
    config: dict[str, Any] = {}
    assert fast_accepts("config.synthetic_camera", config)
    assert config == {}


def test_fast_path_never_trusts_a_failure() -> None:
    assert not fast_accepts("no-such-schema", {})
    assert not fast_accepts("runtime", {"inbox_max": 0})
    # The generated uniqueItems check hashes the items: a set raises TypeError, which is a no.
    config = {"url": "http://127.0.0.1:9/x", "retry_on_status": [{500}]}
    with pytest.raises(TypeError):
        gen_check = _compiled(SCHEMAS["config.http_sink"])
        gen_check(config)
    assert not fast_accepts("config.http_sink", config)


def test_a_spec_that_borrows_a_builtin_name_gets_no_fast_validator() -> None:
    shipped = builtin_specs()["identity"]
    impostor = NodeSpec(
        name=shipped.name,
        target=shipped.target,
        roles=shipped.roles,
        title=shipped.title,
        description=shipped.description,
        schema={"type": "object", "required": ["must"]},
    )
    assert config_schema_name(impostor) is None
    findings = config_findings(impostor, {}, ("c",), builtin=True)
    assert [f.code for f in findings] == ["schema.required"]
