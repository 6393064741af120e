"""Path classes per OS and scope, exercised by parameter (no patching of sys.platform)."""

from __future__ import annotations

import pytest

from schnitzel_stream.errors import ConfigError
from schnitzel_stream.paths import OsName, current_os, resolve_paths


@pytest.mark.parametrize(
    ("os_name", "environ", "expected"),
    [
        pytest.param(
            "linux",
            {},
            ("/etc/schnitzel-stream", "/var/lib/schnitzel-stream", "/var/log/schnitzel-stream"),
            id="linux",
        ),
        pytest.param(
            "windows",
            {"ProgramData": r"D:\Data"},
            (
                r"D:\Data\SchnitzelStream\config",
                r"D:\Data\SchnitzelStream\state",
                r"D:\Data\SchnitzelStream\logs",
            ),
            id="windows",
        ),
        pytest.param(
            "windows",
            {},
            (
                r"C:\ProgramData\SchnitzelStream\config",
                r"C:\ProgramData\SchnitzelStream\state",
                r"C:\ProgramData\SchnitzelStream\logs",
            ),
            id="windows-default-programdata",
        ),
        pytest.param(
            "macos",
            {},
            (
                "/usr/local/etc/schnitzel-stream",
                "/usr/local/var/lib/schnitzel-stream",
                "/usr/local/var/log/schnitzel-stream",
            ),
            id="macos",
        ),
    ],
)
def test_system_scope_matches_the_design_table(
    os_name: OsName, environ: dict[str, str], expected: tuple[str, str, str]
) -> None:
    paths = resolve_paths(os_name=os_name, environ=environ, scope="system", home="/home/op")
    assert (str(paths.config), str(paths.state), str(paths.logs)) == expected
    assert paths.scope == "system"


@pytest.mark.parametrize(
    ("os_name", "environ", "home", "state"),
    [
        pytest.param(
            "linux", {}, "/home/op", "/home/op/.local/state/schnitzel-stream", id="linux-xdg-default"
        ),
        pytest.param(
            "linux", {"XDG_STATE_HOME": "/srv/st"}, "/home/op", "/srv/st/schnitzel-stream", id="linux-xdg-set"
        ),
        pytest.param(
            "linux",
            {"XDG_STATE_HOME": "rel/st"},
            "/home/op",
            "/home/op/.local/state/schnitzel-stream",
            id="linux-xdg-relative-ignored",
        ),
        pytest.param(
            "macos",
            {},
            "/Users/op",
            "/Users/op/Library/Application Support/schnitzel-stream/state",
            id="macos",
        ),
        pytest.param(
            "windows",
            {"LOCALAPPDATA": r"C:\Users\op\AppData\Local"},
            r"C:\Users\op",
            r"C:\Users\op\AppData\Local\SchnitzelStream\state",
            id="windows",
        ),
    ],
)
def test_user_scope_is_the_default_and_needs_no_root(
    os_name: OsName, environ: dict[str, str], home: str, state: str
) -> None:
    paths = resolve_paths(os_name=os_name, environ=environ, home=home)
    assert paths.scope == "user"
    assert str(paths.state) == state


def test_scope_comes_from_the_environment_when_no_flag_is_given() -> None:
    paths = resolve_paths(os_name="linux", environ={"SCHNITZEL_STREAM_SCOPE": "system"}, home="/h")
    assert str(paths.state) == "/var/lib/schnitzel-stream"


def test_portable_scope_keeps_everything_inside_the_root() -> None:
    paths = resolve_paths(os_name="windows", environ={}, scope="portable", root=r"C:\Program Files\Cam 1")
    assert str(paths.config) == r"C:\Program Files\Cam 1\config"
    assert str(paths.logs) == r"C:\Program Files\Cam 1\logs"


def test_portable_scope_without_a_root_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs a root"):
        resolve_paths(os_name="linux", environ={}, scope="portable")


def test_unknown_scope_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown scope 'global'"):
        resolve_paths(os_name="linux", environ={"SCHNITZEL_STREAM_SCOPE": "global"})


def test_flags_beat_environment_beat_scope_defaults() -> None:
    environ = {"SCHNITZEL_STREAM_STATE_DIR": "/env/state", "SCHNITZEL_STREAM_LOGS_DIR": "/env/logs"}
    paths = resolve_paths(
        os_name="linux", environ=environ, scope="system", overrides={"state": "/flag/state"}
    )
    assert str(paths.state) == "/flag/state"
    assert str(paths.logs) == "/env/logs"
    assert str(paths.config) == "/etc/schnitzel-stream"
    assert paths.source_of("state") == "command line"
    assert paths.source_of("logs") == "SCHNITZEL_STREAM_LOGS_DIR"
    assert paths.source_of("config") == "system scope default"


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("linux", "linux", id="linux"),
        pytest.param("win32", "windows", id="win32"),
        pytest.param("darwin", "macos", id="darwin"),
        pytest.param("freebsd14", "linux", id="other-posix"),
    ],
)
def test_current_os_maps_sys_platform(platform: str, expected: str) -> None:
    assert current_os(platform) == expected
