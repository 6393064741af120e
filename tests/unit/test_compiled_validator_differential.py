"""Differential test: the compiled validator (jsonschema-rs) and jsonschema give the same verdicts.

``validate`` accepts a value on the compiled validator's yes alone, so a yes where
jsonschema says no would let an invalid graph through. For every built-in node's config
schema, ``__runtime__`` and the document skeleton, Hypothesis mutates real values (the
schemas' own examples and defaults, the reference graphs in ``ops/graphs``): wrong types,
extra and missing keys, numbers on and past the bounds, ints as floats, NaN and infinities,
nulls, strings with a trailing newline, nested junk. Both sides must agree on every one, and
both verdicts must come up for every schema.

Two differences are known and safe, because only the compiled validator's yes is trusted
(its no sends the value to jsonschema, whose verdict then stands):

- a ``$`` in a ``pattern`` matches only at the very end for jsonschema-rs (ECMA-262, as JSON
  Schema says), but also before a final newline for jsonschema (Python's ``re``), so
  ``"x\\n"`` can be a compiled no and a jsonschema yes;
- NaN and the infinities pass jsonschema's bounds (``timeout_sec: .inf`` has no maximum) and
  jsonschema-rs cannot read them. The loader never lets them into a graph (``yaml.number-range``), so neither
  reaches either validator in ``validate``.

Everywhere else the verdicts must be equal, and a compiled yes with a jsonschema no fails. Boundary bugs hide one edit away from a valid
value, where random search is thin, so every one-place edit of a few valid seeds is checked too.

The normal suite runs 300 random examples per schema; the chaos session sets
``SCHNITZEL_STREAM_FUZZ_EXAMPLES`` for a long run.
"""

from __future__ import annotations

import copy
import functools
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schnitzel_stream.graph._schema_check import compiled_accepts, validation_schemas

EXAMPLES = int(os.environ.get("SCHNITZEL_STREAM_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # keep the work tree clean; failures print a reproduction blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
REPO = Path(__file__).resolve().parents[2]
SCHEMAS = validation_schemas()


def _compiled(name: str, value: Any) -> bool:
    """The compiled validator's verdict (cached under a test-only key, apart from validate's)."""
    return compiled_accepts(f"differential:{name}", SCHEMAS[name], value)


def _safe_difference(value: Any) -> bool:
    """True when ``value`` holds what the two validators may judge differently (see above)."""
    if isinstance(value, str):
        return value.endswith("\n")
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_safe_difference(item) for item in value.values())
    if isinstance(value, list):
        return any(_safe_difference(item) for item in value)
    return False


def _agree(name: str, value: Any, expected: bool) -> bool:
    compiled = _compiled(name, value)
    if compiled and not expected:
        return False  # the one failure that would let an invalid graph through
    return compiled == expected or _safe_difference(value)


#: Values worth trying anywhere: type confusions and the edges of JSON numbers and strings.
_ANYWHERE: list[Any] = [
    None, True, False, 0, 1, -1, 2, 1.0, 2.0, 0.5, -0.0, 2**63, -(2**63), 10**30, 1e300,
    math.nan, math.inf, -math.inf, "", " ", "x", "\n", "a\n", "${X}", "${state}/x", "1",
    [], [None], ["x", "x"], [1, 1.0], {}, {"x": None}, {"": 1},
]  # fmt: skip
_KEYS: list[str] = ["", "x", "X_Y", "1x", "__runtime__", "version", "id", "config", "extra"]


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
                for sub in value.values():
                    yield from _subschemas(sub)
            elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
                for sub in value:
                    yield from _subschemas(sub)
            elif key in ("items", "additionalProperties", "not"):
                yield from _subschemas(value)


def _near(value: Any) -> list[Any]:
    """Values just beside ``value``: across a bound, another type of the same number, one more line."""
    if isinstance(value, bool):
        return [not value, int(value)]
    if isinstance(value, int | float):
        return [value - 1, value + 1, value - 0.5, value + 0.5, float(value), str(value)]
    if isinstance(value, str):
        return [value + "\n", value + "\n\n", value.upper(), value[:-1], " " + value, value + "$"]
    return []


def _resolve(root: Mapping[str, Any], sub: Any) -> Any:
    ref = sub.get("$ref") if isinstance(sub, dict) else None
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return sub
    for part in ref[2:].split("/"):
        root = root[part]
    return root


def _interesting(root: Mapping[str, Any], schema: Any) -> list[Any]:
    """The values ``schema`` (and what it contains) talks about, and their near misses."""
    values: list[Any] = []
    for sub in _subschemas(_resolve(root, schema)):
        sub = _resolve(root, sub)
        found: list[Any] = [*sub.get("enum", []), *sub.get("examples", [])]
        for key in ("const", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in sub:
                found.append(sub[key])
        for key in ("minLength", "maxLength", "minItems", "maxItems"):
            if key in sub:
                found.extend(["x" * sub[key], ["x"] * sub[key]])
        for value in found:
            values.extend([value, *_near(value)])
            if isinstance(value, list):
                values.extend(value)
                values.extend(near for item in value for near in _near(item))
            if isinstance(value, dict):
                values.extend(value.values())
    return values


def _pools(schema: Mapping[str, Any]) -> tuple[list[str], dict[str, list[Any]], list[Any]]:
    """The schema's property names, the values to try under each, and values to try anywhere."""
    by_key: dict[str, list[Any]] = {}
    for sub in _subschemas(schema):
        for key, prop in sub.get("properties", {}).items():
            by_key.setdefault(key, []).extend(_interesting(schema, prop))
        for key in sub.get("required", []):
            by_key.setdefault(key, [])
    keys = sorted({*by_key, *_KEYS})
    return keys, by_key, [*_ANYWHERE, *_interesting(schema, schema)]


def _seeds(name: str, schema: Mapping[str, Any]) -> list[Any]:
    """Starting points, valid ones first, so that mutations land on both sides of the boundary.

    For a config: its examples and defaults, then valid configs grown one example at a time
    (a schema may need one of two keys, or forbid two together).
    """
    if name == "skeleton":
        graphs = [
            yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((REPO / "ops/graphs").glob("*.yaml"))
        ]
        small = {
            "version": 2,
            "plugins": {"allow": ["acme.nodes"]},
            "nodes": [{"id": "a", "kind": "source", "plugin": "x", "config": {}}],
            "edges": [{"src": "a", "dst": "a"}],
            "config": {"free": ["form"]},
        }
        return [*graphs, small]
    validator = Draft202012Validator(schema)
    props: dict[str, Any] = schema.get("properties", {})
    examples = [(key, example) for key, sub in props.items() for example in sub.get("examples", [])[:3]]
    defaults = {key: sub["default"] for key, sub in props.items() if "default" in sub}
    firsts = {key: sub["examples"][0] for key, sub in props.items() if sub.get("examples")}
    candidates: list[dict[str, Any]] = [{}, defaults, firsts]
    candidates.extend({key: example} for key, example in examples)
    valid = [c for c in candidates if validator.is_valid(c)]
    for base in list(valid):
        grown = dict(base)
        for key, example in examples:
            trial = {**grown, key: example}
            if key not in grown and validator.is_valid(trial):
                grown = trial
        valid.extend([grown, *({**base, key: example} for key, example in examples)])
    return [
        *(c for c in valid if validator.is_valid(c)),
        *(c for c in candidates if not validator.is_valid(c)),
    ]


def _slots(value: Any, key: str = "") -> Iterator[tuple[Any, Any, str]]:
    """Every (container, index or key, property name) inside ``value``; list items keep their list's name."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield value, name, name
            yield from _slots(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield value, index, key
            yield from _slots(item, key)


@functools.cache
def _values(name: str) -> tuple[list[str], dict[str, list[Any]], list[Any], st.SearchStrategy[Any]]:
    """The schema's keys, values by key, seeds, and random nested values built from all of them."""
    keys, by_key, pool = _pools(SCHEMAS[name])
    leaves = st.one_of(
        st.sampled_from(pool).map(copy.deepcopy),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
    )
    junk = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys), inner, max_size=3),
        max_leaves=6,
    )
    return keys, by_key, _seeds(name, SCHEMAS[name]), junk


@st.composite
def _mutated(draw: st.DrawFn, name: str) -> Any:
    """A seed after a few mutations: nudged, replaced, added or removed values and keys."""
    keys, by_key, seeds, junk = _values(name)

    def value_for(key: str, current: Any = None) -> Any:
        known = [*_near(current), *by_key.get(key, [])]
        often = draw(st.integers(0, 3)) > 0  # three times in four: a value the schema talks about
        if known and often:
            return copy.deepcopy(draw(st.sampled_from(known)))
        return draw(junk)

    root = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3, 5]))):
        slots = list(_slots(root))
        dicts = [root, *(v for v in (c[k] for c, k, _ in slots) if isinstance(v, dict))]
        dicts = [d for d in dicts if isinstance(d, dict)]
        action = draw(st.sampled_from(["nudge", "nudge", "add", "add", "delete", "append", "root"]))
        if action in ("nudge", "delete") and slots:
            container, index, key = draw(st.sampled_from(slots))
            if action == "delete":
                del container[index]
            else:
                container[index] = value_for(key, container[index])
        elif action == "add" and dicts:
            key = draw(st.sampled_from(keys) | st.text(max_size=6))
            draw(st.sampled_from(dicts))[key] = value_for(key)
        elif action == "append" and any(isinstance(c[k], list) for c, k, _ in slots):
            lists = [(c[k], key) for c, k, key in slots if isinstance(c[k], list)]
            target, key = draw(st.sampled_from(lists))
            target.append(value_for(key))
        elif action == "root":
            root = draw(junk)
    return root


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_seeds_include_valid_values(name: str) -> None:
    validator = Draft202012Validator(SCHEMAS[name])
    assert any(validator.is_valid(seed) for seed in _seeds(name, SCHEMAS[name]))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_compiled_validator_agrees_with_jsonschema(name: str) -> None:
    validator = Draft202012Validator(SCHEMAS[name])
    verdicts: set[bool] = set()

    @FUZZ
    @given(_mutated(name))
    def agree(value: Any) -> None:
        expected = validator.is_valid(value)
        verdicts.add(expected)
        assert _agree(name, value, expected), (
            f"{name}: {value!r}; jsonschema: {[e.message for e in validator.iter_errors(value)][:3]}"
        )

    agree()
    assert verdicts == {True, False}, f"{name}: only {verdicts} came up; the strategy is too narrow"


def _distinct(values: list[Any]) -> list[Any]:
    """``values`` without repeats (``1`` and ``1.0`` and ``True`` stay apart)."""
    return list({(type(v).__name__, repr(v)): v for v in values}.values())


def _single_edits(name: str, value: Any) -> Iterator[Any]:
    """``value`` changed in one place, every way: each slot nudged, replaced or removed, keys added."""
    keys, by_key, _, _ = _values(name)
    for container, index, key in list(_slots(value)):
        original = container[index]
        for other in _distinct([*_near(original), *by_key.get(key, []), *_ANYWHERE]):
            container[index] = copy.deepcopy(other)
            yield value
        del container[index]
        yield value
        if isinstance(container, dict):
            container[index] = original
        else:
            container.insert(index, original)
    for target in [value, *(c[k] for c, k, _ in _slots(value))]:
        if isinstance(target, dict):
            for key in keys:
                if key not in target:
                    for other in _distinct([*by_key.get(key, [])[:8], None, "x", {}, []]):
                        target[key] = copy.deepcopy(other)
                        yield value
                    del target[key]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_compiled_validator_agrees_on_every_single_edit(name: str) -> None:
    """Every one-place change of every valid seed: where a boundary bug shows first."""
    validator = Draft202012Validator(SCHEMAS[name])
    _, _, seeds, _ = _values(name)
    # The biggest valid seeds hold the most slots, the smallest leave the most keys to add; a
    # whole reference graph has hundreds of slots, so the skeleton gets its two smallest.
    valid = sorted((s for s in seeds if validator.is_valid(s)), key=lambda s: len(repr(s)))
    chosen = valid[:2] if name == "skeleton" else [*valid[-2:], *valid[:2]]
    checked = 0
    for seed in _distinct(chosen):
        for value in _single_edits(name, copy.deepcopy(seed)):
            expected = validator.is_valid(value)
            assert _agree(name, value, expected), (
                f"{name}: {value!r}; jsonschema: {[e.message for e in validator.iter_errors(value)][:3]}"
            )
            checked += 1
    assert checked > 10


def _corpus_values() -> Iterator[tuple[str, str, Any]]:
    """(file, schema name, value) for every part of every corpus graph that a schema checks."""
    corpus = sorted((REPO / "tests/e2e/invalid_graphs").glob("*.yaml"))
    graphs = [*corpus, *sorted((REPO / "tests/e2e/valid_graphs").glob("*.yaml"))]
    for path in graphs:
        try:
            document = yaml.safe_load(path.read_bytes())
        except (yaml.YAMLError, ValueError):
            continue  # refused before any schema runs
        yield path.name, "skeleton", document
        nodes = document.get("nodes") if isinstance(document, dict) else None
        for node in nodes if isinstance(nodes, list) else ():
            if not isinstance(node, dict) or not isinstance(node.get("config"), dict):
                continue
            config = dict(node["config"])
            runtime = config.pop("__runtime__", None)
            if runtime is not None:
                yield path.name, "runtime", runtime
            name = f"config.{node.get('plugin')}"
            if name in SCHEMAS:
                yield path.name, name, config


def test_compiled_validator_agrees_on_the_graph_corpus() -> None:
    """Every document, node config and __runtime__ of the valid and invalid graph corpora."""
    checked: dict[bool, int] = {True: 0, False: 0}
    for file, name, value in _corpus_values():
        expected = Draft202012Validator(SCHEMAS[name]).is_valid(value)
        assert _agree(name, value, expected), f"{file}: {name}: {value!r}"
        checked[expected] += 1
    assert checked[True] > 50 and checked[False] > 10, checked
