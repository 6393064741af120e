"""Where a deployment lives on its device, computed from the template's answers.

The template computes the same values in ``copier.yml`` (the ``when: false`` entries) to
render the service files; ``validate --deployment`` computes them here to check that the
rendered files still agree with the answers. The template tests render every OS x scope x
profile and validate the result, so the two cannot drift apart unnoticed.

Paths are strings in the target OS's own syntax (a Windows root can be checked on Linux).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from schnitzel_stream.errors import Problem
from schnitzel_stream.paths import OS_NAMES, SCOPES, OsName, Scope

Profile = Literal["synthetic_demo", "rtsp_to_http_durable", "synthetic_to_http_durable", "synthetic_to_mqtt"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
ANSWERS_FILE = ".copier-answers.yml"
ENV_FILE = "config/schnitzel-stream.env"
GRAPH_FILE = "config/graph.yaml"
LOCK_FILE = "requirements.lock.txt"
#: The secret questions of the template: never stored in the answers file.
SECRET_QUESTIONS = ("camera_password", "backend_token", "mqtt_password")

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_USER_PATTERN = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_POSIX_PATH = re.compile(r"(/[A-Za-z0-9._@+~ -]+)+")
_WINDOWS_PATH = re.compile(r"[A-Za-z]:(\\[A-Za-z0-9._@+~() -]+)+")
_T = TypeVar("_T", bound=str)
_DOT_SEGMENT = re.compile(r"(^|[\\/])\.\.?([\\/]|$)")


@dataclass(frozen=True, slots=True)
class Answers:
    """The answers a root was rendered with (``.copier-answers.yml``)."""

    deployment_name: str
    target_os: OsName
    scope: Scope
    install_dir: str
    graph_profile: Profile
    service_user: str | None = None
    user_home: str | None = None
    restart_delay_sec: int = 5
    watchdog_sec: int = 30
    log_max_mb: int = 10
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Layout:
    """Every location the service files name, in the target OS's path syntax."""

    config_dir: str
    state_dir: str
    logs_dir: str
    install_dir: str
    venv_dir: str
    python_path: str
    graph_path: str
    env_path: str
    service_name: str
    service_file: str
    install_scripts: tuple[str, str]

    def dirs(self) -> dict[str, str]:
        return {"config": self.config_dir, "state": self.state_dir, "logs": self.logs_dir}


def layout_for(answers: Answers) -> Layout:
    """The layout the template renders for ``answers`` (mirrors copier.yml's computed values)."""
    os_name, scope, name = answers.target_os, answers.scope, answers.deployment_name
    sep = "\\" if os_name == "windows" else "/"
    install = answers.install_dir
    home = answers.user_home or ""
    if scope == "portable":
        config, state, logs = (f"{install}{sep}{leaf}" for leaf in ("config", "state", "logs"))
    elif os_name == "windows":
        base = f"{home}\\AppData\\Local" if scope == "user" else "C:\\ProgramData"
        config, state, logs = (
            f"{base}\\SchnitzelStream\\{name}\\{leaf}" for leaf in ("config", "state", "logs")
        )
    elif os_name == "macos":
        if scope == "user":
            support = f"{home}/Library/Application Support/schnitzel-stream/{name}"
            config, state, logs = (
                f"{support}/config",
                f"{support}/state",
                f"{home}/Library/Logs/schnitzel-stream/{name}",
            )
        else:
            config = f"/usr/local/etc/schnitzel-stream/{name}"
            state = f"/usr/local/var/lib/schnitzel-stream/{name}"
            logs = f"/usr/local/var/log/schnitzel-stream/{name}"
    elif scope == "user":
        config = f"{home}/.config/schnitzel-stream/{name}"
        state = f"{home}/.local/state/schnitzel-stream/{name}"
        logs = f"{state}/logs"
    else:
        config, state, logs = (f"{root}/schnitzel-stream/{name}" for root in ("/etc", "/var/lib", "/var/log"))
    python = f"{install}{sep}venv{sep}" + ("Scripts\\python.exe" if os_name == "windows" else "bin/python")
    service_name = f"dev.schnitzel-stream.{name}" if os_name == "macos" else f"schnitzel-stream-{name}"
    suffix = {"linux": ".service", "macos": ".plist", "windows": ".xml"}[os_name]
    scripts = ("install.ps1", "uninstall.ps1") if os_name == "windows" else ("install.sh", "uninstall.sh")
    return Layout(
        config_dir=config,
        state_dir=state,
        logs_dir=logs,
        install_dir=install,
        venv_dir=f"{install}{sep}venv",
        python_path=python,
        graph_path=f"{config}{sep}graph.yaml",
        env_path=f"{config}{sep}schnitzel-stream.env",
        service_name=service_name,
        service_file=service_name + suffix,
        install_scripts=scripts,
    )


def answers_from_mapping(data: Mapping[str, Any], file: str) -> tuple[Answers | None, list[Problem]]:
    """Check the answers the layout depends on; ``None`` when they cannot give a layout."""
    problems: list[Problem] = []

    def bad(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(code="deploy.answers", message=message, path=key, file=file, hint=hint))

    name = data.get("deployment_name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        bad("deployment_name", f"{name!r} is not a deployment name (1-63 of a-z, 0-9 and '-')")
    os_name = _choice(data.get("target_os"), OS_NAMES)
    if os_name is None:
        bad("target_os", f"{data.get('target_os')!r} is not one of {', '.join(OS_NAMES)}")
    scope = _choice(data.get("scope"), SCOPES)
    if scope is None:
        bad("scope", f"{data.get('scope')!r} is not one of {', '.join(SCOPES)}")
    profile = _choice(data.get("graph_profile"), PROFILES)
    if profile is None:
        bad("graph_profile", f"{data.get('graph_profile')!r} is not one of {', '.join(PROFILES)}")
    ints: dict[str, int] = {}
    for key, low, high, default in (
        ("restart_delay_sec", 1, 3600, 5),
        ("watchdog_sec", 5, 3600, 30),
        ("log_max_mb", 1, 1024, 10),
    ):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bad(key, f"{value!r} is not a whole number from {low} to {high}")
        else:
            ints[key] = value
    if problems or os_name is None or scope is None or profile is None:
        return None, problems
    target, chosen_scope = os_name, scope
    user = data.get("service_user") if target != "windows" and chosen_scope != "user" else None
    if user is not None and (
        not isinstance(user, str) or not _USER_PATTERN.fullmatch(user) or user == "root"
    ):
        bad("service_user", f"{user!r} is not an unprivileged account name")
    home = data.get("user_home") if chosen_scope == "user" else None
    if chosen_scope == "user" and not _absolute(target, home):
        bad("user_home", f"{home!r} is not an absolute {target} path")
    install = data.get("install_dir")
    if not _absolute(target, install):
        bad("install_dir", f"{install!r} is not an absolute {target} path")
    if problems:
        return None, problems
    return (
        Answers(
            deployment_name=str(name),
            target_os=target,
            scope=chosen_scope,
            install_dir=str(install),
            graph_profile=profile,
            service_user=user,
            user_home=home,
            raw=data,
            **ints,
        ),
        [],
    )


def _choice(value: object, choices: tuple[_T, ...]) -> _T | None:
    """``value`` as one of ``choices`` (a Literal type), or ``None``."""
    for choice in choices:
        if value == choice:
            return choice
    return None


def _absolute(os_name: OsName, value: object) -> bool:
    """An absolute path in the characters the template accepts, with no '.' or '..' segment."""
    if not isinstance(value, str) or _DOT_SEGMENT.search(value):
        return False
    if os_name == "windows":
        return _WINDOWS_PATH.fullmatch(value) is not None
    if os_name == "linux" and " " in value:
        return False
    return _POSIX_PATH.fullmatch(value) is not None
