"""Where a deployment lives on its device, computed from the template's answers.

The directories come from the path table of :mod:`schnitzel_stream.paths` (one deployment's
own directories below the application's, ``instance=deployment_name``). The template cannot
import Python without ``--trust``, so ``_partials/layout.jinja`` computes the same values in
Jinja; ``tests/template/test_layout_parity.py`` renders every OS x scope with copier and
compares what the rendered files name with :func:`layout_for`, so any drift fails.

The answers themselves are checked by the template's one set of answer rules
(:mod:`._answers`), the same rules copier's validators apply.

Paths are strings in the target OS's own syntax (a Windows root can be checked on Linux).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from schnitzel_stream.deploy._answers import check_answer
from schnitzel_stream.errors import Problem
from schnitzel_stream.paths import OS_NAMES, SCOPES, OsName, Scope, scope_paths

Profile = Literal["synthetic_demo", "rtsp_to_http_durable", "synthetic_to_http_durable", "synthetic_to_mqtt"]
PROFILES: tuple[Profile, ...] = get_args(Profile)
ANSWERS_FILE = ".copier-answers.yml"
ENV_FILE = "config/schnitzel-stream.env"
GRAPH_FILE = "config/graph.yaml"
LOCK_FILE = "requirements.lock.txt"
#: The secret questions of the template: never stored in the answers file.
SECRET_QUESTIONS = ("camera_password", "backend_token", "mqtt_password")
#: Answers that only some profiles ask (copier.yml's ``when:``), checked when present.
_PROFILE_ANSWERS = ("camera_url", "camera_username", "backend_url", "mqtt_url", "mqtt_username")
_T = TypeVar("_T", bound=str)


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
    #: 0: no metrics endpoint; else the service runs with --metrics-addr LISTEN:PORT.
    metrics_port: int = 0
    metrics_listen: str = "127.0.0.1"
    raw: Mapping[str, Any] | None = None

    @property
    def metrics_addr(self) -> str | None:
        """The ``--metrics-addr`` value the template writes, or None when metrics are off."""
        return f"{self.metrics_listen}:{self.metrics_port}" if self.metrics_port else None


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
    """The layout the template renders for ``answers`` (``_partials/layout.jinja``)."""
    os_name, name, install = answers.target_os, answers.deployment_name, answers.install_dir
    sep = "\\" if os_name == "windows" else "/"
    dirs = {
        cls: str(path)
        for cls, path in scope_paths(
            os_name, answers.scope, environ={}, home=answers.user_home or "/", root=install, instance=name
        ).items()
    }
    venv = f"{install}{sep}venv"
    python = f"{venv}{sep}" + ("Scripts\\python.exe" if os_name == "windows" else "bin/python")
    service_name = f"dev.schnitzel-stream.{name}" if os_name == "macos" else f"schnitzel-stream-{name}"
    suffix = {"linux": ".service", "macos": ".plist", "windows": ".winsvc.json"}[os_name]
    scripts = ("install.ps1", "uninstall.ps1") if os_name == "windows" else ("install.sh", "uninstall.sh")
    return Layout(
        config_dir=dirs["config"],
        state_dir=dirs["state"],
        logs_dir=dirs["logs"],
        install_dir=install,
        venv_dir=venv,
        python_path=python,
        graph_path=f"{dirs['config']}{sep}graph.yaml",
        env_path=f"{dirs['config']}{sep}schnitzel-stream.env",
        service_name=service_name,
        service_file=service_name + suffix,
        install_scripts=scripts,
    )


def answers_from_mapping(data: Mapping[str, Any], file: str) -> tuple[Answers | None, list[Problem]]:
    """Check the stored answers with the template's own rules; ``None`` when they give no layout."""
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem(code="deploy.answers", message=f"{key}: {message}", path=key, file=file))

    os_name = _choice(data.get("target_os"), OS_NAMES)
    if os_name is None:
        bad("target_os", f"{data.get('target_os')!r} is not one of {', '.join(OS_NAMES)}")
    scope = _choice(data.get("scope"), SCOPES)
    if scope is None:
        bad("scope", f"{data.get('scope')!r} is not one of {', '.join(SCOPES)}")
    profile = _choice(data.get("graph_profile"), PROFILES)
    if profile is None:
        bad("graph_profile", f"{data.get('graph_profile')!r} is not one of {', '.join(PROFILES)}")
    target = os_name or "linux"
    # Which answers the template asked, as copier.yml's `when:` says; the others must be absent
    # or valid (copier validates an answer given with --data even when it does not ask it).
    asked = [
        "deployment_name",
        "install_dir",
        "restart_delay_sec",
        "watchdog_sec",
        "log_max_mb",
        "metrics_port",
    ]
    if target != "windows" and scope != "user":
        asked.append("service_user")
    if scope == "user":
        asked.append("user_home")
    if data.get("metrics_port"):
        asked.append("metrics_listen")
    defaults = {
        "restart_delay_sec": 5,
        "watchdog_sec": 30,
        "log_max_mb": 10,
        "metrics_port": 0,
        "metrics_listen": "127.0.0.1",
    }
    for key in asked:
        message = check_answer(key, data.get(key, defaults.get(key)), target)
        if message is not None:
            bad(key, message)
    for key in _PROFILE_ANSWERS:
        if key in data and (message := check_answer(key, data[key], target)) is not None:
            bad(key, message)
    if problems or os_name is None or scope is None or profile is None:
        return None, problems
    user = data.get("service_user") if "service_user" in asked else None
    home = data.get("user_home") if scope == "user" else None
    return (
        Answers(
            deployment_name=str(data["deployment_name"]),
            target_os=os_name,
            scope=scope,
            install_dir=str(data["install_dir"]),
            graph_profile=profile,
            service_user=user,
            user_home=home,
            restart_delay_sec=int(data.get("restart_delay_sec", 5)),
            watchdog_sec=int(data.get("watchdog_sec", 30)),
            log_max_mb=int(data.get("log_max_mb", 10)),
            metrics_port=int(data.get("metrics_port", 0)),
            metrics_listen=str(data.get("metrics_listen", "127.0.0.1")),
            raw=data,
        ),
        [],
    )


def _choice(value: object, choices: tuple[_T, ...]) -> _T | None:
    """``value`` as one of ``choices`` (a Literal type), or ``None``."""
    for choice in choices:
        if value == choice:
            return choice
    return None
