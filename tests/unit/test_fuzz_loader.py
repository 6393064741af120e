"""Fuzzing the loader and validator: whatever the input, the outcome is a report, never a crash.

The normal suite runs a modest number of examples per strategy; the chaos session sets
``SCHNITZEL_STREAM_FUZZ_EXAMPLES`` (for example 20000) for a long run.
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schnitzel_stream.errors import GraphError
from schnitzel_stream.graph.load import decode
from schnitzel_stream.graph.report import FileReport
from schnitzel_stream.graph.validate import ValidateOptions, validate_text
from schnitzel_stream.nodes.registry import builtin_specs
from schnitzel_stream.paths import resolve_paths

EXAMPLES = int(os.environ.get("SCHNITZEL_STREAM_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # keep the work tree clean; failures print a reproduction blob
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OPTIONS = ValidateOptions(
    environ={"SET_VAR": "value"},
    paths=resolve_paths(os_name="linux", environ={}, scope="portable", root="/srv/edge"),
    import_plugins=False,  # random 'module:Class' names must never be imported
)


def _check(text: str) -> FileReport:
    graph, report = validate_text(text, "fuzz.yaml", OPTIONS)
    assert isinstance(report, FileReport)
    assert report.path == "fuzz.yaml"
    assert all(p.code != "internal.error" for p in report.problems), report.problems
    assert (graph is not None) == report.valid
    for problem in report.problems:
        assert problem.message and "\n" not in problem.message
        assert problem.line is None or problem.line >= 1
        assert problem.column is None or problem.column >= 1
    return report


@FUZZ
@given(st.text(max_size=400))
def test_arbitrary_text(text: str) -> None:
    _check(text)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    try:
        text = decode(data, "fuzz.yaml")
    except GraphError as error:
        assert [p.code for p in error.problems] == ["io.encoding"]
        return
    _check(text)


_TOKENS = [
    "version: 2", "nodes:", "edges:", "- ", "  ", "\n", "\t", "[", "]", "{", "}", ", ", ": ", "? ",
    "&a ", "*a", "&b ", "*b", "<<: ", "!!python/object:os.system ", "!!str ", "!!int ", "!x ", "|", ">",
    "'", '"', "#", "---", "...", "~", "id: cam", "kind: source", "plugin: synthetic_camera",
    "plugin: os:system", "config: ", "__runtime__: ", "${state}", "${MISSING}", "$${", "from: a", "to: b",
    "\x00", "\ufeff", "é", "1e309", "0x1F", "yes",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(_TOKENS), max_size=60))
def test_yaml_token_soup(tokens: list[str]) -> None:
    _check("".join(tokens))


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["${state}/x", "${UNSET_VAR}", "${SET_VAR:-d}", "$${x}", "${bad name}", "${"]),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_IDS = st.sampled_from(["cam", "motion", "out", "a", "b", ""])
_PLUGINS = st.sampled_from(
    [*builtin_specs(), "nope", "os:system", "acme.x:Y", " bad:Y", "schnitzel_stream.nodes.dev:Identity"]
)


def _node() -> st.SearchStrategy[Any]:
    config = st.one_of(
        st.dictionaries(
            st.sampled_from(["width", "fps", "path", "threshold", "prefix", "widht"]), _JSON, max_size=3
        ),
        st.fixed_dictionaries({"__runtime__": _JSON}),
        _JSON,
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "id": _IDS,
                "kind": st.sampled_from(["source", "node", "sink", "other"]),
                "plugin": _PLUGINS,
                "config": config,
            }
        ),
        _JSON,
    )


_EDGE = st.one_of(
    st.fixed_dictionaries({"from": _IDS, "to": _IDS}),
    st.fixed_dictionaries({"src": _IDS, "dst": _IDS}),
    _JSON,
)
_DOCUMENT = st.fixed_dictionaries(
    {"version": st.sampled_from([2, 2, 1, "2"]), "nodes": st.lists(_node(), max_size=5)},
    optional={
        "edges": st.lists(_EDGE, max_size=6),
        "plugins": st.fixed_dictionaries({"allow": st.lists(st.sampled_from(["acme", "bad name", "os"]))}),
        "config": _JSON,
        "extra": _JSON,
    },
)


@FUZZ
@given(_DOCUMENT)
def test_structured_random_documents(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    report = _check(text)
    if document["version"] not in (2, "2"):  # "2" is the design's string form: a compat warning
        assert not report.valid
    if document["version"] == "2":
        assert "compat.version" in {problem.code for problem in report.problems}
