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
