"""jsonschema errors rewritten as plain English, one located finding each.

jsonschema's own messages (``'abc' is not of type 'integer'``) name Python reprs and say
nothing about where. Here every error becomes "expected an integer, got the string 'abc'"
at its JSON path; an ``additionalProperties`` error becomes one "unknown key" finding per
key with a did-you-mean hint, and ``anyOf``/``oneOf`` failures are reduced to the branch the
value was evidently meant for, or to "expected A or B" when it fits none of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from schnitzel_stream.graph.findings import Finding, JsonPath, describe_value, quoted
from schnitzel_stream.nodes.registry import did_you_mean

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
#: Keywords that say "this is the wrong sort of value", as opposed to "wrong in its details".
_SHAPE = frozenset({"type", "const", "enum"})


def findings_for(validator: Validator, instance: Any, base: JsonPath) -> list[Finding]:
    """Every error ``validator`` finds in ``instance``, as findings under ``base``."""
    found: list[Finding] = []
    for error in validator.iter_errors(instance):
        found.extend(_translate(error, base, instance))
    unique: dict[tuple[str, JsonPath, str], Finding] = {}
    for finding in found:
        unique.setdefault((finding.code, finding.path, finding.message), finding)
    return list(unique.values())


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value)


def _types(value: Any) -> str:
    names = [value] if isinstance(value, str) else list(value)
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _choices(values: Sequence[Any]) -> str:
    shown = [_literal(v) for v in values]
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def _first_sentence(text: str) -> str:
    sentence = text.strip().split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= 160 else sentence[:157] + "..."


def _translate(error: ValidationError, base: JsonPath, root: Any) -> list[Finding]:
    path: JsonPath = (*base, *error.absolute_path)
    kind = error.validator
    value: Any = error.validator_value
    inst = error.instance
    schema: Any = error.schema if isinstance(error.schema, dict) else {}
    got = describe_value(inst)

    if kind == "type":
        return [Finding("schema.type", f"expected {_types(value)}, got {got}", path)]
    if kind in ("additionalProperties", "unevaluatedProperties") and isinstance(inst, dict):
        return _unknown_keys(inst, schema, path) or [Finding("schema.invalid", error.message, path)]
    if kind == "required" and isinstance(inst, dict):
        props = schema.get("properties", {})
        return [
            Finding(
                "schema.required",
                f"missing required key {quoted(key)}",
                path,
                hint=_property_hint(key, props),
                anchor="key",
            )
            for key in value
            if key not in inst
        ]
    if kind == "enum":
        hint = did_you_mean(inst, [v for v in value if isinstance(v, str)]) if isinstance(inst, str) else None
        return [Finding("schema.enum", f"expected {_choices(value)}, got {got}", path, hint=hint)]
    if kind == "const":
        return [Finding("schema.const", f"expected {_literal(value)}, got {got}", path)]
    if kind in ("anyOf", "oneOf"):
        return _alternatives(error, base, path, root)
    if not isinstance(kind, str):  # a `false` schema has no keyword
        return [
            Finding(
                "schema.not-allowed",
                "this key is not allowed here",
                _false_key(error, path, root),
                anchor="key",
            )
        ]
    message = _detail_message(kind, value, inst, got)
    description = schema.get("description")
    hint = _first_sentence(description) if kind == "pattern" and isinstance(description, str) else None
    return [
        Finding(f"schema.{kind}" if message else "schema.invalid", message or error.message, path, hint=hint)
    ]


def _detail_message(kind: str, value: Any, inst: Any, got: str) -> str | None:
    size = len(inst) if isinstance(inst, (str, list, dict)) else 0
    messages: dict[str, Any] = {
        "minimum": lambda: f"must be at least {value}, got {got}",
        "maximum": lambda: f"must be at most {value}, got {got}",
        "exclusiveMinimum": lambda: f"must be greater than {value}, got {got}",
        "exclusiveMaximum": lambda: f"must be less than {value}, got {got}",
        "multipleOf": lambda: f"must be a multiple of {value}, got {got}",
        "minLength": lambda: (
            "must not be empty" if value == 1 else f"must be at least {value} characters long, got {size}"
        ),
        "maxLength": lambda: f"must be at most {value} characters long, got {size}",
        "pattern": lambda: f"{got} does not match the pattern {value!r}",
        "minItems": lambda: (
            "must not be empty" if value == 1 else f"needs at least {value} items, got {size}"
        ),
        "maxItems": lambda: f"takes at most {value} items, got {size}",
        "uniqueItems": lambda: "items must be unique",
        "minProperties": lambda: f"needs at least {value} keys, got {size}",
        "maxProperties": lambda: f"takes at most {value} keys, got {size}",
        "format": lambda: f"{got} is not a valid {value}",
        "not": lambda: f"{got} is not allowed here",
    }
    build = messages.get(kind)
    return str(build()) if build else None


def _property_hint(key: str, props: Any) -> str | None:
    prop = props.get(key) if isinstance(props, dict) else None
    description = prop.get("description") if isinstance(prop, dict) else None
    return f"{key}: {_first_sentence(description)}" if isinstance(description, str) and description else None


def _unknown_keys(inst: dict[str, Any], schema: dict[str, Any], path: JsonPath) -> list[Finding]:
    props = schema.get("properties", {})
    known = list(props) if isinstance(props, dict) else []
    patterns = list(schema.get("patternProperties", {}) or {})
    findings = []
    for key in inst:
        if key in known or any(re.search(p, key) for p in patterns):
            continue
        findings.append(
            Finding(
                "schema.unknown-key",
                f"unknown key {quoted(key)}",
                (*path, key),
                hint=did_you_mean(key, known) or _known_hint(known),
                anchor="key",
            )
        )
    return findings


def _known_hint(known: Sequence[str]) -> str | None:
    shown = [k for k in known if not k.startswith("__")]
    if not shown:
        return "this mapping takes no keys"
    if len(shown) > 12:
        return None
    return "known keys: " + ", ".join(shown)


def _required_only(branches: Iterable[Any]) -> list[str] | None:
    names = []
    for branch in branches:
        if not (isinstance(branch, dict) and set(branch) == {"required"} and len(branch["required"]) == 1):
            return None
        names.append(branch["required"][0])
    return names


def _false_key(error: ValidationError, path: JsonPath, root: Any) -> JsonPath:
    """jsonschema drops the key when a ``properties`` entry is ``false``; find it again.

    The error keeps the offending value itself, so the key is the one of the parent mapping
    whose value *is* that object; when that is ambiguous the parent is reported.
    """
    if not error.schema_path or error.schema_path[-1] != "properties":
        return path
    parent = root
    for part in error.absolute_path:
        parent = parent[part]
    if not isinstance(parent, dict):
        return path
    keys = [key for key, value in parent.items() if value is error.instance]
    return (*path, keys[0]) if len(keys) == 1 else path


def _alternatives(error: ValidationError, base: JsonPath, path: JsonPath, root: Any) -> list[Finding]:
    branches: list[Any] = list(error.validator_value) if isinstance(error.validator_value, list) else []
    got = describe_value(error.instance)
    names = _required_only(branches)
    if error.validator == "oneOf" and not error.context:  # more than one branch matched
        if names:
            return [Finding("schema.conflict", f"give only one of {_choices(names)}", path)]
        return [Finding("schema.ambiguous", f"{got} matches more than one of the allowed forms", path)]
    if names:
        alias = f" (or its alias {names[1]!r})" if len(names) == 2 else f" (or one of {_choices(names[1:])})"
        return [Finding("schema.required", f"missing required key {names[0]!r}{alias}", path, anchor="key")]
    by_branch: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        index = sub.relative_schema_path[0]
        if isinstance(index, int):
            by_branch.setdefault(index, []).append(sub)
    # A branch that fails only deeper down (not on the value's shape) is the one meant.
    meant = [
        index
        for index, errors in by_branch.items()
        if not any(sub.validator in _SHAPE and not sub.relative_path for sub in errors)
    ]
    if meant:
        best = min(meant, key=lambda index: len(by_branch[index]))
        return [finding for sub in by_branch[best] for finding in _translate(sub, base, root)]
    expected = " or ".join(dict.fromkeys(_branch_description(b) for b in branches))
    return [Finding("schema.type", f"expected {expected}, got {got}", path)]


def _branch_description(branch: Any) -> str:
    if not isinstance(branch, dict):
        return "a valid value"
    if "const" in branch:
        return _literal(branch["const"])
    if "enum" in branch:
        return "one of " + _choices(branch["enum"])
    if "type" in branch:
        return _types(branch["type"])
    return str(branch.get("title") or "a valid value")
