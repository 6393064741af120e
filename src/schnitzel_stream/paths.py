"""Path classes: where config, state and logs live, per OS and scope.

Graphs refer to the three classes as ``${config}``, ``${state}`` and ``${logs}``.

Resolution order, most specific first:

1. explicit directories (CLI flags ``--config-dir`` / ``--state-dir`` / ``--logs-dir``),
2. the environment (``SCHNITZEL_STREAM_CONFIG_DIR`` / ``..._STATE_DIR`` / ``..._LOGS_DIR``),
3. the scope's defaults. The scope comes from ``--scope``, then ``SCHNITZEL_STREAM_SCOPE``,
   and is ``user`` otherwise, so an interactive first run never needs root.

Every function takes the OS and the environment as parameters, so each OS branch is
testable on any machine without patching ``sys.platform``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Literal, NamedTuple, TypeVar, get_args

from schnitzel_stream.errors import ConfigError

OsName = Literal["linux", "windows", "macos"]
Scope = Literal["system", "user", "portable"]
PathClass = Literal["config", "state", "logs"]

OS_NAMES: tuple[OsName, ...] = get_args(OsName)
SCOPES: tuple[Scope, ...] = get_args(Scope)
PATH_CLASSES: tuple[PathClass, ...] = get_args(PathClass)
_P = TypeVar("_P", bound=PurePath)

APP_DIR = "schnitzel-stream"
WINDOWS_APP_DIR = "SchnitzelStream"
ENV_PREFIX = "SCHNITZEL_STREAM_"
SCOPE_ENV = "SCHNITZEL_STREAM_SCOPE"
ROOT_ENV = "SCHNITZEL_STREAM_ROOT"


def current_os(platform: str = sys.platform) -> OsName:
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def env_var_for(path_class: PathClass) -> str:
    return f"{ENV_PREFIX}{path_class.upper()}_DIR"


class PathSet(NamedTuple):
    """The three resolved directories and where each came from."""

    config: PurePath
    state: PurePath
    logs: PurePath
    scope: Scope
    sources: tuple[tuple[PathClass, str], ...] = ()

    def get(self, path_class: PathClass) -> PurePath:
        value: PurePath = getattr(self, path_class)
        return value

    def as_dict(self) -> dict[str, str]:
        return {name: str(self.get(name)) for name in PATH_CLASSES}

    def source_of(self, path_class: PathClass) -> str:
        return dict(self.sources).get(path_class, f"{self.scope} scope default")


def _pure(os_name: OsName, value: str) -> PurePath:
    return PureWindowsPath(value) if os_name == "windows" else PurePosixPath(value)


def system_paths(
    os_name: OsName, environ: Mapping[str, str], instance: str | None = None
) -> dict[PathClass, PurePath]:
    """The system-scope table of DESIGN.md section 3.

    ``instance`` (a deployment name) gives one deployment's own directories below the
    application's: ``/etc/schnitzel-stream/<instance>``, ``...\\SchnitzelStream\\<instance>\\config``.
    """
    if os_name == "windows":
        base = PureWindowsPath(environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData")
        app = _app(base / WINDOWS_APP_DIR, instance)
        return {"config": app / "config", "state": app / "state", "logs": app / "logs"}
    if os_name == "macos":
        return {
            "config": _app(PurePosixPath("/usr/local/etc") / APP_DIR, instance),
            "state": _app(PurePosixPath("/usr/local/var/lib") / APP_DIR, instance),
            "logs": _app(PurePosixPath("/usr/local/var/log") / APP_DIR, instance),
        }
    return {
        "config": _app(PurePosixPath("/etc") / APP_DIR, instance),
        "state": _app(PurePosixPath("/var/lib") / APP_DIR, instance),
        "logs": _app(PurePosixPath("/var/log") / APP_DIR, instance),
    }


def _app(app_dir: _P, instance: str | None) -> _P:
    return app_dir / instance if instance else app_dir


def user_paths(
    os_name: OsName, environ: Mapping[str, str], home: str, instance: str | None = None
) -> dict[PathClass, PurePath]:
    """The user's own directories for the OS (the XDG, Apple and Windows conventions)."""
    if os_name == "windows":
        local = PureWindowsPath(environ.get("LOCALAPPDATA") or str(PureWindowsPath(home, "AppData", "Local")))
        app = _app(local / WINDOWS_APP_DIR, instance)
        return {"config": app / "config", "state": app / "state", "logs": app / "logs"}
    posix_home = PurePosixPath(home)
    if os_name == "macos":
        support = _app(posix_home / "Library" / "Application Support" / APP_DIR, instance)
        return {
            "config": support / "config",
            "state": support / "state",
            "logs": _app(posix_home / "Library" / "Logs" / APP_DIR, instance),
        }

    def xdg(var: str, default: PurePosixPath) -> PurePosixPath:
        value = environ.get(var, "")
        # The XDG spec says relative values are invalid and must be ignored.
        return PurePosixPath(value) if value.startswith("/") else default

    state = _app(xdg("XDG_STATE_HOME", posix_home / ".local" / "state") / APP_DIR, instance)
    return {
        "config": _app(xdg("XDG_CONFIG_HOME", posix_home / ".config") / APP_DIR, instance),
        "state": state,
        "logs": state / "logs",
    }


def scope_paths(
    os_name: OsName,
    scope: Scope,
    *,
    environ: Mapping[str, str],
    home: str | None = None,
    root: str | None = None,
    instance: str | None = None,
) -> dict[PathClass, PurePath]:
    """The scope's default directories (no overrides); portable scope needs ``root``."""
    if scope == "system":
        return system_paths(os_name, environ, instance)
    if scope == "portable":
        if not root:
            raise ConfigError(
                f"portable scope needs a root: pass --root or set {ROOT_ENV}", code="paths.root"
            )
        return portable_paths(os_name, root)
    return user_paths(os_name, environ, home or str(Path.home()), instance)


def portable_paths(os_name: OsName, root: str) -> dict[PathClass, PurePath]:
    base = _pure(os_name, root)
    return {"config": base / "config", "state": base / "state", "logs": base / "logs"}


def resolve_paths(
    *,
    os_name: OsName | None = None,
    environ: Mapping[str, str] | None = None,
    scope: str | None = None,
    root: str | None = None,
    overrides: Mapping[PathClass, str | None] | None = None,
    home: str | None = None,
) -> PathSet:
    """Resolve the three path classes. Raises :class:`ConfigError` for a bad scope."""
    os_name = os_name or current_os()
    env = os.environ if environ is None else environ
    chosen = scope or env.get(SCOPE_ENV) or "user"
    if chosen not in SCOPES:
        raise ConfigError(
            f"unknown scope {chosen!r}; expected one of {', '.join(SCOPES)}", code="paths.scope"
        )
    resolved_scope: Scope = chosen
    defaults = scope_paths(
        os_name,
        resolved_scope,
        environ=env,
        home=home,
        root=root or env.get(ROOT_ENV),
    )

    chosen_paths = dict(defaults)
    sources: list[tuple[PathClass, str]] = []
    for path_class in PATH_CLASSES:
        flag = (overrides or {}).get(path_class)
        env_value = env.get(env_var_for(path_class))
        if flag:
            chosen_paths[path_class] = _pure(os_name, flag)
            sources.append((path_class, "command line"))
        elif env_value:
            chosen_paths[path_class] = _pure(os_name, env_value)
            sources.append((path_class, env_var_for(path_class)))
    return PathSet(
        config=chosen_paths["config"],
        state=chosen_paths["state"],
        logs=chosen_paths["logs"],
        scope=resolved_scope,
        sources=tuple(sources),
    )
