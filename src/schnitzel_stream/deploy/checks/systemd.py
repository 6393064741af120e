"""Checks of a rendered systemd unit against the answers and DESIGN.md section 4."""

from __future__ import annotations

from typing import Protocol

from schnitzel_stream.deploy._invocation import check_invocation, collect, parse_invocation
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import UnitFile, parse_unit, split_command
from schnitzel_stream.errors import Problem

#: Hardening the template sets; a unit without them scores worse than 1.5 in
#: `systemd-analyze security`. Missing ones are warnings: the operator may have a reason.
_HARDENING = (
    ("NoNewPrivileges", "yes"),
    ("ProtectSystem", "strict"),
    ("PrivateTmp", "yes"),
    ("PrivateDevices", "yes"),
    ("ProtectKernelTunables", "yes"),
    ("ProtectKernelModules", "yes"),
    ("ProtectControlGroups", "yes"),
    ("RestrictNamespaces", "yes"),
    ("LockPersonality", "yes"),
    ("SystemCallArchitectures", "native"),
    ("CapabilityBoundingSet", ""),
)


def check_unit(
    text: str, file: str, answers: Answers, layout: Layout
) -> tuple[list[Problem], dict[str, str]]:
    """Problems of the unit, and the environment it gives the service (without the env file)."""
    unit = parse_unit(text, file)
    problems = list(unit.problems)

    def at(key: str, section: str = "Service") -> int | None:
        entry = unit.last(section, key)
        return entry.line if entry else None

    def add(
        code: str, message: str, line: int | None, hint: str | None = None, warning: bool = False
    ) -> None:
        problems.append(
            Problem(
                code, message, file=file, line=line, hint=hint, severity="warning" if warning else "error"
            )
        )

    def expect(key: str, wanted: str, hint: str | None = None, section: str = "Service") -> None:
        entry = unit.last(section, key)
        if entry is None:
            add("deploy.unit", f"[{section}] has no {key}= (expected {key}={wanted})", None, hint)
        elif entry.value != wanted:
            add("deploy.unit", f"{key}={entry.value}, expected {key}={wanted}", entry.line, hint)

    expect("Type", "notify", "the runtime reports READY=1 and WATCHDOG=1 over sd_notify")
    expect("Restart", "on-failure")
    expect("RestartSec", str(answers.restart_delay_sec), "restart_delay_sec in the answers")
    expect("WatchdogSec", str(answers.watchdog_sec), "watchdog_sec in the answers")
    prevent = unit.last("Service", "RestartPreventExitStatus")
    if prevent is None or "78" not in prevent.value.split():
        add(
            "deploy.unit",
            "RestartPreventExitStatus= does not include 78",
            prevent.line if prevent else None,
            "exit 78 means the graph is invalid: restarting cannot fix it",
        )
    for key in ("StartLimitIntervalSec", "StartLimitBurst"):
        if unit.last("Unit", key) is None:
            misplaced = unit.last("Service", key)
            where = " (it is in [Service], where systemd ignores it)" if misplaced else ""
            add("deploy.unit", f"[Unit] has no {key}={where}", misplaced.line if misplaced else None)
    _check_identity(unit, answers, add)
    _check_env_file(unit, layout, add)
    _check_directories(unit, answers, layout, add)
    for key, wanted in _HARDENING:
        entry = unit.last("Service", key)
        if entry is None or entry.value != wanted:
            add(
                "deploy.hardening",
                f"{key}={wanted} is missing",
                entry.line if entry else None,
                "the template's hardening keeps `systemd-analyze security` at 1.5 or less",
                warning=True,
            )

    environ = unit.environment()
    start = unit.last("Service", "ExecStart")
    if start is None:
        add("deploy.unit", "[Service] has no ExecStart=", None)
    else:
        argv = split_command(start.value)
        if argv is None:
            add("deploy.command", "ExecStart= has unbalanced quotes", start.line)
        else:
            check_invocation(
                parse_invocation(argv),
                environ,
                answers,
                layout,
                collect(problems, file, start.line),
                env_file_option=False,
            )
    pre = [split_command(entry.value) or [] for entry in unit.all("Service", "ExecStartPre")]
    if not any("--validate-only" in argv or "validate" in argv for argv in pre):
        add(
            "deploy.unit",
            "no ExecStartPre= validates the graph",
            None,
            "ExecStartPre=<python> -m schnitzel_stream --graph <graph> --validate-only",
            warning=True,
        )
    return problems, environ


def _check_identity(unit: UnitFile, answers: Answers, add: _Add) -> None:
    user = unit.last("Service", "User")
    if answers.scope == "user":
        if user is not None:
            add(
                "deploy.unit", "a user unit cannot set User=", user.line, "remove User=; it runs as its owner"
            )
        return
    if user is None or user.value != answers.service_user:
        add(
            "deploy.user",
            f"User={user.value if user else ''} differs from service_user {answers.service_user!r}",
            user.line if user else None,
            "the service must run as the unprivileged account of the answers",
        )


def _check_env_file(unit: UnitFile, layout: Layout, add: _Add) -> None:
    entry = unit.last("Service", "EnvironmentFile")
    if entry is None:
        add(
            "deploy.env-path", "[Service] has no EnvironmentFile=", None, f"EnvironmentFile={layout.env_path}"
        )
        return
    value = entry.value
    if value.startswith("-"):
        add(
            "deploy.env-path",
            "EnvironmentFile= starts with '-': the service would start without its secrets when it is missing",
            entry.line,
            warning=True,
        )
        value = value[1:]
    if value != layout.env_path:
        add(
            "deploy.env-path",
            f"EnvironmentFile={value}, but the answers put the env file at {layout.env_path}",
            entry.line,
        )


def _check_directories(unit: UnitFile, answers: Answers, layout: Layout, add: _Add) -> None:
    name = answers.deployment_name
    if answers.scope == "system":
        for key, cls in (
            ("ConfigurationDirectory", "config"),
            ("StateDirectory", "state"),
            ("LogsDirectory", "logs"),
        ):
            entry = unit.last("Service", key)
            wanted = f"schnitzel-stream/{name}"
            if entry is None or entry.value.split()[:1] != [wanted]:
                add(
                    "deploy.paths",
                    f"{key}= should be {wanted} so that systemd creates ${{{cls}}} ({layout.dirs()[cls]})",
                    entry.line if entry else None,
                )
        return
    key = "ReadWritePaths"
    granted = " ".join(entry.value for entry in unit.all("Service", key)).split()
    for cls in ("state", "logs"):
        path = layout.dirs()[cls]
        if path not in {item.lstrip("-") for item in granted}:
            add(
                "deploy.paths",
                f"${{{cls}}} ({path}) is not in {key}=, so ProtectSystem=strict leaves it read-only",
                None,
                f"{key}={path}",
            )


class _Add(Protocol):
    """The ``add`` helper of :func:`check_unit`."""

    def __call__(
        self, code: str, message: str, line: int | None, hint: str | None = None, warning: bool = False
    ) -> None: ...
