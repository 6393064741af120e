"""``${...}`` interpolation: path classes, environment, defaults, escapes, and every missing variable."""

from __future__ import annotations

from typing import Any

import pytest

from schnitzel_stream.graph.interpolate import interpolate
from schnitzel_stream.paths import PathSet, resolve_paths

PATHS: PathSet = resolve_paths(
    os_name="linux",
    environ={},
    scope="portable",
    root="/srv/edge",
)


def _one(text: str, environ: dict[str, str] | None = None) -> Any:
    result = interpolate(text, paths=PATHS, environ=environ or {}, base=("x",))
    assert result.findings == []
    return result.value


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        pytest.param("${state}/events.jsonl", {}, "/srv/edge/state/events.jsonl", id="state"),
        pytest.param("${config}|${logs}", {}, "/srv/edge/config|/srv/edge/logs", id="config-and-logs"),
        pytest.param("${CAM_URL}", {"CAM_URL": "rtsp://cam/1"}, "rtsp://cam/1", id="env"),
        pytest.param("${HOST:-localhost}:80", {}, "localhost:80", id="default-when-unset"),
        pytest.param("${HOST:-localhost}", {"HOST": "edge"}, "edge", id="set-beats-default"),
        pytest.param("${HOST:-localhost}", {"HOST": ""}, "localhost", id="empty-uses-default"),
        pytest.param("a${EMPTY}b", {"EMPTY": ""}, "ab", id="set-but-empty"),
        pytest.param("${X:-}", {}, "", id="empty-default"),
        pytest.param("$${state} costs $5", {}, "${state} costs $5", id="escape-and-dollar"),
        pytest.param("$$", {}, "$$", id="double-dollar-alone"),
        pytest.param(
            "${STATE}", {"STATE": "env wins for upper case"}, "env wins for upper case", id="case-sensitive"
        ),
        pytest.param("${state:-ignored}", {}, "/srv/edge/state", id="path-class-ignores-default"),
        pytest.param("no references", {}, "no references", id="plain"),
        pytest.param("${DIR:-${state}}/x", {}, "/srv/edge/state/x", id="nested-default"),
        pytest.param("${DIR:-${state}}/x", {"DIR": "/d"}, "/d/x", id="nested-default-unused"),
        pytest.param("${A:-${B:-${C:-c}}}", {}, "c", id="deeply-nested"),
        pytest.param("${DIR:-${UNSET_BUT_UNUSED}}", {"DIR": "d"}, "d", id="unused-default-not-checked"),
    ],
)
def test_strings_are_interpolated(text: str, environ: dict[str, str], expected: str) -> None:
    assert _one(text, environ) == expected


def test_windows_paths_render_with_backslashes() -> None:
    paths = resolve_paths(os_name="windows", environ={"ProgramData": r"D:\Data"}, scope="system")
    result = interpolate("${state}", paths=paths, environ={})
    assert result.value == r"D:\Data\SchnitzelStream\state"


def test_only_strings_change_and_the_input_is_untouched() -> None:
    value = {"n": 5, "b": True, "none": None, "list": ["${A}", 1.5], "${A}": "key stays"}
    result = interpolate(value, paths=PATHS, environ={"A": "a"}, base=("config",))
    assert result.value == {"n": 5, "b": True, "none": None, "list": ["a", 1.5], "${A}": "key stays"}
    assert value["list"] == ["${A}", 1.5]
    assert result.references == {("config", "list", 0)}


def test_every_missing_variable_is_reported_with_its_path() -> None:
    value = {"url": "${HOST}:${PORT}", "nested": [{"token": "${TOKEN}"}], "ok": "${SET}"}
    result = interpolate(value, paths=PATHS, environ={"SET": "1"}, base=("nodes", 2, "config"))
    found = sorted((f.path, f.message) for f in result.findings)
    assert found == [
        (("nodes", 2, "config", "nested", 0, "token"), "environment variable 'TOKEN' is not set"),
        (("nodes", 2, "config", "url"), "environment variable 'HOST' is not set"),
        (("nodes", 2, "config", "url"), "environment variable 'PORT' is not set"),
    ]
    assert all(f.code == "interp.missing-env" for f in result.findings)
    assert result.findings[0].hint is not None and ":-default}" in result.findings[0].hint
    assert result.unresolved == {("nodes", 2, "config", "url"), ("nodes", 2, "config", "nested", 0, "token")}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("${state", id="unterminated"),
        pytest.param("${}", id="empty-name"),
        pytest.param("${1abc}", id="digit-first"),
        pytest.param("${a b}", id="space"),
        pytest.param("${A:-${B}", id="nested-unterminated"),
        pytest.param("${A:-${1x}}", id="nested-bad-name"),
    ],
)
def test_malformed_references_are_syntax_problems(text: str) -> None:
    result = interpolate({"v": text}, paths=PATHS, environ={"B": "2"}, base=("c",))
    assert [f.code for f in result.findings] == ["interp.syntax"]
    assert result.findings[0].path == ("c", "v")
    assert result.unresolved == {("c", "v")}


def test_missing_variable_inside_a_used_default() -> None:
    result = interpolate("${A:-${B}}", paths=PATHS, environ={}, base=("c",))
    assert [f.message for f in result.findings] == ["environment variable 'B' is not set"]
    assert result.unresolved == {("c",)}


def test_path_classes_need_a_path_set() -> None:
    result = interpolate("${logs}", paths=None, environ={})
    assert [f.code for f in result.findings] == ["interp.no-paths"]


def _result(text: str, environ: dict[str, str] | None = None) -> Any:
    return interpolate({"v": text}, paths=PATHS, environ=environ or {}, base=("config",))


@pytest.mark.parametrize(
    ("text", "environ", "expected"),
    [
        pytest.param("${oc.env:HOST}", {"HOST": "edge"}, "edge", id="oc-env"),
        pytest.param("${oc.env:HOST,localhost}:80", {}, "localhost:80", id="oc-env-default"),
        pytest.param("${oc.env:HOST, localhost }", {}, "localhost", id="oc-env-default-trimmed"),
        pytest.param("${oc.env:HOST,localhost}", {"HOST": ""}, "", id="oc-env-set-but-empty-wins"),
        pytest.param("${oc.env:URL,'http://h:1/a,b'}", {}, "http://h:1/a,b", id="oc-env-quoted-default"),
        pytest.param('${oc.env:X,"a}b"}', {}, "a}b", id="oc-env-brace-in-quotes"),
        pytest.param("${oc.env:X,'it\\'s'}", {}, "it's", id="oc-env-escaped-quote"),
        pytest.param("${oc.env:DIR,${state}}/q", {}, "/srv/edge/state/q", id="oc-env-nested-default"),
        pytest.param("${oc.env:A,${oc.env:B,b}}", {"B": "bee"}, "bee", id="oc-env-nested-oc-env"),
        pytest.param("${oc.env:LIMIT,100}", {}, "100", id="oc-env-number-default-is-text"),
    ],
)
def test_omegaconfs_form_works_with_a_warning(text: str, environ: dict[str, str], expected: str) -> None:
    result = _result(text, environ)
    assert result.value == {"v": expected}
    assert result.findings and {f.code for f in result.findings} == {"compat.oc-env"}
    assert all(f.severity == "warning" for f in result.findings)


def test_an_oc_env_null_default_makes_the_value_null() -> None:
    result = _result("${oc.env:SOURCE_ID,null}")
    assert result.value == {"v": None}
    assert "'${SOURCE_ID:-null}'" in result.findings[0].message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        pytest.param("${oc.env:UNSET}", "interp.missing-env", id="oc-env-unset-without-default"),
        pytest.param("${oc.env:X,'open}", "interp.syntax", id="oc-env-unclosed-quote"),
        pytest.param("${oc.env:X,'a'b}", "interp.syntax", id="oc-env-text-after-quote"),
        pytest.param("${oc.env:1X}", "interp.syntax", id="oc-env-bad-name"),
        pytest.param("${oc.decode:${X}}", "interp.syntax", id="other-resolver"),
        pytest.param("a${oc.env:X,null}", "interp.syntax", id="null-inside-text"),
    ],
)
def test_bad_oc_env_forms_are_located_errors(text: str, code: str) -> None:
    result = _result(text)
    errors = [f for f in result.findings if f.severity == "error"]
    assert [f.code for f in errors] == [code]
    assert errors[0].path == ("config", "v")
    assert ("config", "v") in result.unresolved


def test_nesting_thousands_deep_is_a_located_error_not_a_recursion_error() -> None:
    text = "${A:-" * 5000 + "x" + "}" * 5000
    result = _result(text)
    assert [(f.code, f.path) for f in result.findings] == [("interp.too-deep", ("config", "v"))]
    oc = "${oc.env:A," * 5000 + "x" + "}" * 5000
    assert "interp.too-deep" in {f.code for f in _result(oc).findings}


def test_sixteen_levels_still_resolve() -> None:
    text = "${A:-" * 15 + "x" + "}" * 15
    assert _one(text) == "x"


def test_expansion_is_bounded() -> None:
    big = "y" * 100_000
    value = {"k": ["${BIG}"] * 11}
    result = interpolate(value, paths=PATHS, environ={"BIG": big}, base=("config",))
    assert [f.code for f in result.findings] == ["interp.too-large"]
    assert result.findings[0].path == ("config", "k", 10)


def test_a_value_that_is_not_utf8_is_refused_where_it_is_used() -> None:
    raw = b"rtsp://cam/\xff\xfe".decode("utf-8", "surrogateescape")  # as os.environ holds such bytes
    result = _result("${CAM}", {"CAM": raw})
    (finding,) = result.findings
    assert finding.code == "interp.encoding" and finding.path == ("config", "v")
    assert "'CAM' is not valid UTF-8 (byte 0xff at offset 11)" in finding.message
    assert "\udcff" not in finding.message
    oc = _result("${oc.env:CAM}", {"CAM": raw})
    assert "interp.encoding" in {f.code for f in oc.findings}
