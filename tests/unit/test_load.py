"""The safe YAML loader: values, positions, and a clean located error for every hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from schnitzel_stream.errors import GraphError, Problem
from schnitzel_stream.graph._yaml_tree import MAX_ALIAS_NODES, MAX_DEPTH
from schnitzel_stream.graph.load import MAX_BYTES, decode, load_document, parse_text, read_text


def _error(text: str) -> Problem:
    with pytest.raises(GraphError) as caught:
        parse_text(text, "g.yaml")
    problems = caught.value.problems
    assert problems, "a GraphError must carry at least one problem"
    assert all(p.file == "g.yaml" for p in problems)
    return problems[0]


def test_values_are_plain_json_like() -> None:
    doc = parse_text(
        "a: 1\nb: 1.5\nc: yes\nd: ~\ne: 2024-01-02\nf: '007'\ng: [x, {h: i}]\n200: ok\nk: !!str 12\n",
        "g.yaml",
    )
    assert doc.data == {
        "a": 1,
        "b": 1.5,
        "c": True,
        "d": None,
        "e": "2024-01-02",  # timestamps stay text: a graph is JSON-like
        "f": "007",
        "g": ["x", {"h": "i"}],
        "200": "ok",  # keys are always strings
        "k": "12",
    }


def test_positions_of_values_and_keys_are_one_based() -> None:
    text = "version: 2\nnodes:\n  - id: cam\n    config: {width: 640}\n"
    doc = parse_text(text, "g.yaml")
    assert doc.values[("version",)] == (1, 10)
    assert doc.keys[("version",)] == (1, 1)
    assert doc.values[("nodes", 0)] == (3, 5)
    assert doc.values[("nodes", 0, "id")] == (3, 9)
    assert doc.keys[("nodes", 0, "config", "width")] == (4, 14)
    assert doc.values[("nodes", 0, "config", "width")] == (4, 21)


def test_position_falls_back_to_the_nearest_parent() -> None:
    doc = parse_text("a:\n  b: 1\n", "g.yaml")
    assert doc.position(("a", "b", "missing")) == (2, 6)
    assert doc.position(("a", "b"), "key") == (2, 3)
    assert doc.position(("zzz",)) == (1, 1)  # the root mapping starts at its first key


def test_aliases_expand_and_point_at_the_anchor_text() -> None:
    doc = parse_text("base: &b {x: 1}\nuse: *b\n", "g.yaml")
    assert doc.data == {"base": {"x": 1}, "use": {"x": 1}}
    assert doc.values[("use",)] == (2, 6)  # the alias itself
    assert doc.values[("use", "x")] == (1, 14)  # inside, the anchored text


def test_merge_keys_follow_yaml_rules() -> None:
    text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 9\n"
    doc = parse_text(text, "g.yaml")
    assert doc.data["c"] == {"x": 9, "y": 1, "z": 2}  # explicit wins, then earlier sources
    assert doc.values[("c", "z")] == (2, 17)


def test_inline_merge_mapping() -> None:
    doc = parse_text("c:\n  <<: {x: 1}\n  y: 2\n", "g.yaml")
    assert doc.data == {"c": {"x": 1, "y": 2}}
    assert doc.values[("c", "x")] == (2, 11)


def test_literal_block_may_hold_tabs() -> None:
    doc = parse_text("a: |\n  line\n  \tindented with a tab inside\n", "g.yaml")
    assert doc.data["a"] == "line\n\tindented with a tab inside\n"


def test_nesting_up_to_the_bound_is_fine() -> None:
    depth = MAX_DEPTH - 1  # the root mapping is one level
    doc = parse_text("a: " + "[" * depth + "]" * depth + "\n", "g.yaml")
    value = doc.data["a"]
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_alias_use_below_the_bound_is_fine() -> None:
    items = ", ".join(["1"] * 99)
    uses = ", ".join(["*a"] * 90)  # 90 * 100 = 9,000 expanded values
    doc = parse_text(f"a: &a [{items}]\nb: [{uses}]\n", "g.yaml")
    assert len(doc.data["b"]) == 90


@pytest.mark.parametrize(
    ("text", "code", "line", "fragment"),
    [
        pytest.param(
            "a: 1\nb: 2\na: 3\n", "yaml.duplicate-key", 3, "first defined on line 1", id="duplicate-key"
        ),
        pytest.param(
            "a: !!python/object/apply:os.system [ls]\n", "yaml.tag", 1, "!!python/object", id="python-tag"
        ),
        pytest.param("a: !!python/name:os.system\n", "yaml.tag", 1, "!!python/name", id="python-name"),
        pytest.param("a: !!set {x}\n", "yaml.tag", 1, "!!set", id="set-tag"),
        pytest.param("a: !custom x\n", "yaml.tag", 1, "!custom", id="local-tag"),
        pytest.param("!!omap\n- a: 1\n", "yaml.tag", 1, "!!omap", id="omap-root"),
        pytest.param("a: !!int twelve\n", "yaml.bad-scalar", 1, "!!int", id="bad-int"),
        pytest.param("a: !!int\n", "yaml.bad-scalar", 1, "!!int", id="empty-int"),  # found by fuzzing
        pytest.param("a: &a [*a]\n", "yaml.alias-recursive", 1, "itself", id="recursive-alias"),
        pytest.param("a: *nope\n", "yaml.alias-unknown", 1, "'&nope'", id="unknown-alias"),
        pytest.param("a:\n\tb: 1\n", "yaml.tab", 2, "tab", id="tab-indent"),
        pytest.param("a: b: c\n", "yaml.syntax", 1, "YAML syntax error", id="syntax"),
        pytest.param("a: [1, 2\nb: 3\n", "yaml.syntax", 2, "YAML syntax error", id="unclosed-flow"),
        pytest.param("- 1\n", "graph.not-mapping", 1, "not a list", id="list-root"),
        pytest.param("hello\n", "graph.not-mapping", 1, "not the string 'hello'", id="scalar-root"),
        pytest.param("", "graph.empty", 1, "empty", id="empty"),
        pytest.param("# only a comment\n", "graph.empty", 1, "empty", id="comment-only"),
        pytest.param("a: 1\n---\nb: 2\n", "yaml.multiple-documents", 2, "more than one", id="two-documents"),
        pytest.param("? [a]\n: 1\n", "yaml.complex-key", 1, "plain value", id="complex-key"),
        pytest.param("a: x\x00y\n", "yaml.control-char", 1, "U+0000", id="nul"),
        pytest.param("a: 1\nb: <<\nc:\n  <<: 5\n", "yaml.bad-merge", 4, "merges a mapping", id="bad-merge"),
        pytest.param("a: " + "[" * 100 + "]" * 100 + "\n", "yaml.too-deep", 1, "64 levels", id="too-deep"),
        pytest.param("a: " + "{b: " * 3000 + "\n", "yaml.too-deep", 1, "64 levels", id="very-deep-unclosed"),
    ],
)
def test_hostile_or_broken_yaml_is_one_located_problem(
    text: str, code: str, line: int, fragment: str
) -> None:
    problem = _error(text)
    assert problem.code == code
    assert problem.line == line
    assert problem.column is not None and problem.column >= 1
    assert fragment in problem.message


def test_billion_laughs_fails_fast_with_a_bound() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    problem = _error("\n".join(lines) + "\n")
    assert problem.code == "yaml.alias-limit"
    assert str(MAX_ALIAS_NODES) in problem.message


def test_every_duplicate_key_is_reported() -> None:
    with pytest.raises(GraphError) as caught:
        parse_text("a: 1\na: 2\nb:\n  c: 1\n  c: 2\n", "g.yaml")
    assert [(p.line, p.path) for p in caught.value.problems] == [(2, "a"), (5, "b.c")]


def test_tab_after_block_scalar_is_still_reported() -> None:
    problem = _error("a: |\n  text\nb:\n\t- 1\n")
    assert (problem.code, problem.line, problem.column) == ("yaml.tab", 4, 1)


# -- files -------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GraphError) as caught:
        read_text(str(tmp_path / "nope.yaml"))
    assert caught.value.problems[0].code == "io.missing"


def test_directory_is_not_a_graph(tmp_path: Path) -> None:
    with pytest.raises(GraphError) as caught:
        read_text(str(tmp_path))
    assert caught.value.problems[0].code == "io.directory"


def test_path_under_a_file_is_missing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(GraphError) as caught:
        read_text(str(tmp_path / "file" / "g.yaml"))
    assert caught.value.problems[0].code == "io.missing"


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        pytest.param("bad\0name.yaml", {"io.unreadable"}, id="nul-in-name"),
        pytest.param("x" * 300 + ".yaml", {"io.unreadable", "io.missing"}, id="name-too-long"),
    ],
)
def test_impossible_names_are_problems(tmp_path: Path, name: str, codes: set[str]) -> None:
    with pytest.raises(GraphError) as caught:
        read_text(str(tmp_path / name))
    assert caught.value.problems[0].code in codes


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: cheap to make, and never read
    with pytest.raises(GraphError) as caught:
        read_text(str(big))
    problem = caught.value.problems[0]
    assert problem.code == "io.too-large"
    assert "1 MiB" in problem.message


def test_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"a: 1\n" + b"#" * (MAX_BYTES - 6) + b"\n")
    assert len(read_text(str(exact))) == MAX_BYTES


def test_non_utf8_reports_offset_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"version: 2\nname: caf\xe9\n")
    with pytest.raises(GraphError) as caught:
        load_document(str(bad))
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.column) == ("io.encoding", 2, 10)
    assert "offset 20" in problem.message and "0xe9" in problem.message


def test_utf16_gets_a_hint() -> None:
    with pytest.raises(GraphError) as caught:
        decode("a: 1\n".encode("utf-16"), "g.yaml")
    assert caught.value.problems[0].hint == "the file looks like UTF-16; save it as UTF-8"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 2\n")
    assert load_document(str(path)).data == {"version": 2}
