"""Checks of a rendered systemd unit against the answers and DESIGN.md section 4.

The check is an allowlist: every section and key must be one the template writes, the keys
whose value the template fixes (the sandbox, the restart contract) must have that value, and
every command is the runtime started isolated. A unit edited by hand or by an attacker
(``ExecStartPost=``, ``Environment=LD_PRELOAD=...``, ``ExecStart=+...``, ``User=root``,
``ProtectSystem=false``) is an error, not a warning: the unit runs as root's delegate.
"""

from __future__ import annotations

import re
from typing import Protocol

from schnitzel_stream.deploy._invocation import (
    SERVICE_ENVIRONMENT,
    check_invocation,
    collect,
    parse_invocation,
)
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import UnitFile, parse_unit, split_command
from schnitzel_stream.errors import Problem

#: [Service] keys whose value the template fixes: the sandbox (`systemd-analyze security`
#: scores the template's unit 1.5 or less) and the restart contract.
_CONTRACT = {"Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "KillMode": "mixed"}
_FIXED = {
    **_CONTRACT,
    "UMask": "0077",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "PrivateUsers": "yes",
    "PrivateMounts": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "RemoveIPC": "yes",
    "DevicePolicy": "closed",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
}
#: Fixed too, but written only in some scopes.
_FIXED_WHEN_PRESENT = {
    "KeyringMode": "private",
    "ConfigurationDirectoryMode": "0750",
    "StateDirectoryMode": "0750",
    "LogsDirectoryMode": "0750",
}
#: Every key the template writes, per section: a key outside this table is an error (keep it
#: in step with the unit template; the render matrix fails when the template writes a key
#: this table lacks).
_ALLOWED_KEYS = {
    "Unit": frozenset({"Description", "After", "Wants", "StartLimitIntervalSec", "StartLimitBurst"}),
    "Service": frozenset(_FIXED)
    | frozenset(_FIXED_WHEN_PRESENT)
    | frozenset(
        [
            "User",
            "Group",
            "Environment",
            "EnvironmentFile",
            "ConfigurationDirectory",
            "StateDirectory",
            "LogsDirectory",
            "WorkingDirectory",
            "ReadWritePaths",
            "ExecStart",
            "RestartSec",
            "RestartPreventExitStatus",
            "TimeoutStartSec",
            "TimeoutStopSec",
            "WatchdogSec",
            "ProtectHome",
            "SystemCallFilter",
        ]
    ),
    "Install": frozenset({"WantedBy"}),
}
_SYSTEM_CALL_FILTERS = frozenset({"@system-service", "~@privileged @resources"})
_NETWORK_TARGET = "network-online.target"
_SECONDS = re.compile(r"[0-9]+(s|min)?")
_HARDENING_HINT = "the template's hardening keeps `systemd-analyze security` at 1.5 or less"


def check_unit(
    text: str, file: str, answers: Answers, layout: Layout
) -> tuple[list[Problem], dict[str, str]]:
    """Problems of the unit, and the environment it gives the service (without the env file)."""
    unit = parse_unit(text, file)
    problems = list(unit.problems)

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
    _check_allowlist(unit, answers, add)
    _check_identity(unit, answers, add)
    _check_env_file(unit, layout, add)
    _check_directories(unit, answers, layout, add)
    _check_environment(unit, add)
    environ = unit.environment()
    _check_commands(unit, answers, layout, environ, problems, add)
    return problems, environ


def _check_allowlist(unit: UnitFile, answers: Answers, add: _Add) -> None:
    """Every key is one the template writes, and the fixed ones have the template's value."""
    for entry in unit.entries:
        allowed = _ALLOWED_KEYS.get(entry.section)
        if allowed is None:
            add("deploy.unit", f"[{entry.section}] is not a section the template writes", entry.line)
        elif entry.key not in allowed:
            add(
                "deploy.unit",
                f"{entry.key}= in [{entry.section}] is not a setting the template writes",
                entry.line,
                "render the root again (copier update): a hand-edited unit is not trusted",
            )
    for key, wanted in (*_FIXED.items(), *_FIXED_WHEN_PRESENT.items()):
        entries = unit.all("Service", key)
        code = "deploy.unit" if key in _CONTRACT else "deploy.hardening"
        if not entries and key in _FIXED:
            add(code, f"[Service] has no {key}= (the template writes {key}={wanted})", None)
        for entry in entries:
            if entry.value != wanted:
                add(
                    code,
                    f"{key}={entry.value}, but the template writes {key}={wanted}",
                    entry.line,
                    _HARDENING_HINT,
                )
    for entry in unit.all("Service", "SystemCallFilter"):
        if entry.value not in _SYSTEM_CALL_FILTERS:
            add(
                "deploy.hardening", f"SystemCallFilter={entry.value} is not the template's filter", entry.line
            )
    for entry in unit.all("Service", "ProtectHome"):
        if entry.value not in ("yes", "read-only"):
            add(
                "deploy.hardening",
                f"ProtectHome={entry.value}: the template writes yes or read-only",
                entry.line,
            )
    for entry in unit.all("Unit", "After") + unit.all("Unit", "Wants"):
        if entry.value != _NETWORK_TARGET:
            add(
                "deploy.unit",
                f"{entry.key}={entry.value}: the template only orders the service after {_NETWORK_TARGET}",
                entry.line,
                "Wants= starts the units it names",
            )
    wanted_by = "default.target" if answers.scope == "user" else "multi-user.target"
    for entry in unit.all("Install", "WantedBy"):
        if entry.value != wanted_by:
            add(
                "deploy.unit",
                f"WantedBy={entry.value}, but the template writes WantedBy={wanted_by}",
                entry.line,
            )
    for section, key in (
        ("Service", "TimeoutStartSec"),
        ("Service", "TimeoutStopSec"),
        ("Unit", "StartLimitIntervalSec"),
        ("Unit", "StartLimitBurst"),
    ):
        for entry in unit.all(section, key):
            if not _SECONDS.fullmatch(entry.value):
                add("deploy.unit", f"{key}={entry.value} is not a whole number (of seconds)", entry.line)


def _check_environment(unit: UnitFile, add: _Add) -> None:
    """``Environment=`` sets the runtime's own variables only (never LD_PRELOAD, PYTHONPATH ...)."""
    for entry in unit.all("Service", "Environment"):
        words = split_command(entry.value)
        if words is None:
            add("deploy.unit", "Environment= has unbalanced quotes", entry.line)
            continue
        for word in words:
            name = word.partition("=")[0]
            if name not in SERVICE_ENVIRONMENT:
                add(
                    "deploy.unit",
                    f"Environment= sets {name}, which the template never sets",
                    entry.line,
                    "the service's own settings go to the env file; the unit sets only "
                    + ", ".join(sorted(SERVICE_ENVIRONMENT)),
                )


def _check_commands(
    unit: UnitFile,
    answers: Answers,
    layout: Layout,
    environ: dict[str, str],
    problems: list[Problem],
    add: _Add,
) -> None:
    """ExecStart= runs the runtime, isolated (-I). There is no ExecStartPre=: the runtime validates
    the graph itself and exits 78, which RestartPreventExitStatus= governs only for ExecStart=."""
    starts = unit.all("Service", "ExecStart")
    if not starts:
        add("deploy.unit", "[Service] has no ExecStart=", None)
    elif len(starts) > 1:
        add("deploy.unit", "[Service] has more than one ExecStart=: the template writes one", starts[1].line)
    for entry in starts:
        if entry.value[:1] and entry.value[0] in "-@:+!|":
            add(
                "deploy.command",
                f"{entry.key}= starts with the prefix {entry.value[0]!r}, which the template never writes",
                entry.line,
                "'+' and '!' run the command with full privileges; '-' ignores its failure",
            )
        argv = split_command(entry.value)
        if argv is None:
            add("deploy.command", f"{entry.key}= has unbalanced quotes", entry.line)
            continue
        invocation = parse_invocation(argv)
        if invocation is not None and "--validate-only" in invocation.flags:
            add("deploy.command", "ExecStart= only validates the graph; it never runs it", entry.line)
        check_invocation(
            invocation,
            environ,
            answers,
            layout,
            collect(problems, file=unit.path, line=entry.line),
            env_file_option=False,
        )


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
