"""Checks of a rendered Task Scheduler definition against the answers and DESIGN.md section 4.

An allowlist, as for systemd units: every element is one the template writes, the task has
exactly one action (an ``Exec`` of the runtime, started isolated with ``-I``), and it runs
with least privilege. A task edited by hand or by an attacker is an error.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

from schnitzel_stream.deploy._invocation import check_invocation, collect, parse_invocation
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import TASK_NS, parse_task_xml, split_windows_args
from schnitzel_stream.errors import Problem

#: LOCAL SERVICE: the unprivileged built-in account the template runs the task as (SYSTEM,
#: S-1-5-18, would give the runtime the whole machine).
_LOCAL_SERVICE = "S-1-5-19"
#: Every element the template writes, as a path below <Task> (namespace left out).
_ALLOWED_ELEMENTS = frozenset(
    {
        "RegistrationInfo", "RegistrationInfo/Description", "RegistrationInfo/URI",
        "Triggers", "Triggers/BootTrigger", "Triggers/BootTrigger/Enabled", "Triggers/BootTrigger/Delay",
        "Principals", "Principals/Principal", "Principals/Principal/UserId",
        "Principals/Principal/LogonType", "Principals/Principal/RunLevel",
        "Settings", "Settings/MultipleInstancesPolicy", "Settings/DisallowStartIfOnBatteries",
        "Settings/StopIfGoingOnBatteries", "Settings/AllowHardTerminate", "Settings/StartWhenAvailable",
        "Settings/RunOnlyIfNetworkAvailable", "Settings/IdleSettings", "Settings/IdleSettings/StopOnIdleEnd",
        "Settings/IdleSettings/RestartOnIdle", "Settings/AllowStartOnDemand", "Settings/Enabled",
        "Settings/Hidden", "Settings/RunOnlyIfIdle", "Settings/WakeToRun", "Settings/ExecutionTimeLimit",
        "Settings/Priority", "Settings/RestartOnFailure", "Settings/RestartOnFailure/Interval",
        "Settings/RestartOnFailure/Count",
        "Actions", "Actions/Exec", "Actions/Exec/Command", "Actions/Exec/Arguments",
        "Actions/Exec/WorkingDirectory",
    }
)  # fmt: skip
_MINUTES = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?")


def _seconds(duration: str | None) -> int | None:
    """Seconds of a simple ISO-8601 duration (``PT1M``, ``PT1H30M``); ``None`` otherwise."""
    match = _MINUTES.fullmatch(duration or "")
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def check_task(data: bytes, file: str, answers: Answers, layout: Layout) -> list[Problem]:
    """Problems of the task definition (trigger, principal, restart, time limit, action)."""
    task = parse_task_xml(data, file)
    problems = list(task.problems)
    if task.root is None:
        return problems
    text = data.decode("utf-8", errors="replace")

    def add(code: str, message: str, element: str | None = None, hint: str | None = None) -> None:
        problems.append(
            Problem(code, message, path=element or "", file=file, line=_line(text, element), hint=hint)
        )

    _check_elements(task.root, add)
    if task.text("Principals/Principal/RunLevel") != "LeastPrivilege":
        add("deploy.task", "RunLevel is not LeastPrivilege: the task would run elevated", "RunLevel")
    boot = task.find("Triggers/BootTrigger")
    if boot is None or task.text("Triggers/BootTrigger/Enabled") == "false":
        add(
            "deploy.task",
            "the task has no enabled boot trigger",
            "BootTrigger",
            "add <BootTrigger> to <Triggers>",
        )
    logon = task.text("Principals/Principal/LogonType")
    user_id = task.text("Principals/Principal/UserId")
    if answers.scope == "user":
        if logon not in ("S4U", "Password"):
            add(
                "deploy.task",
                f"LogonType {logon!r} runs the task only while the user is logged on",
                "LogonType",
                "S4U runs it whether or not the user is logged on, without a stored password",
            )
    elif logon != "ServiceAccount" or user_id != _LOCAL_SERVICE:
        add(
            "deploy.task",
            f"the task runs as {user_id!r} with LogonType {logon!r}, not as a service account",
            "Principal",
            "UserId S-1-5-19 (LOCAL SERVICE) with LogonType ServiceAccount",
        )
    count = task.text("Settings/RestartOnFailure/Count")
    interval = _seconds(task.text("Settings/RestartOnFailure/Interval"))
    wanted_minutes = max(1, (answers.restart_delay_sec + 59) // 60)
    if count is None or not count.isdigit() or int(count) < 1:
        add("deploy.task", "RestartOnFailure has no Count of 1 or more", "RestartOnFailure")
    if interval != wanted_minutes * 60:
        add(
            "deploy.task",
            f"RestartOnFailure Interval is {task.text('Settings/RestartOnFailure/Interval')!r}, "
            f"expected PT{wanted_minutes}M (restart_delay_sec rounded up to whole minutes)",
            "RestartOnFailure",
        )
    if task.text("Settings/ExecutionTimeLimit") != "PT0S":
        add(
            "deploy.task",
            "ExecutionTimeLimit is not PT0S: Task Scheduler would stop the service after a while",
            "ExecutionTimeLimit",
        )
    command = task.text("Actions/Exec/Command")
    arguments = task.text("Actions/Exec/Arguments") or ""
    if command is None:
        add("deploy.task", "the task has no Exec action", "Actions")
        return problems
    if " " in command and not (command.startswith('"') and command.endswith('"')):
        add("deploy.quoting", f"the command {command!r} holds a space but is not quoted", "Command")
    argv = [command.strip('"'), *split_windows_args(arguments)]
    report = collect(problems, file, _line(text, "Arguments"))
    check_invocation(parse_invocation(argv), {}, answers, layout, report, env_file_option=True)
    workdir = task.text("Actions/Exec/WorkingDirectory")
    if workdir != layout.state_dir:
        add(
            "deploy.task",
            f"WorkingDirectory is {workdir!r}, expected {layout.state_dir!r}",
            "WorkingDirectory",
        )
    return problems


def _check_elements(root: ET.Element, add: Callable[..., None]) -> None:
    """Every element is one the template writes, and the task has exactly one action."""

    def walk(element: ET.Element, path: str) -> None:
        for child in element:
            name = child.tag.rpartition("}")[2]
            child_path = f"{path}/{name}" if path else name
            if child_path not in _ALLOWED_ELEMENTS or not child.tag.startswith(f"{{{TASK_NS}}}"):
                add(
                    "deploy.task",
                    f"<{child_path}> is not an element the template writes",
                    name,
                    "render the root again (copier update): a hand-edited task is not trusted",
                )
            else:
                walk(child, child_path)

    walk(root, "")
    actions = root.find(f"{{{TASK_NS}}}Actions")
    if actions is not None and len(actions) != 1:
        add(
            "deploy.task",
            f"the task has {len(actions)} actions; the template writes one (the runtime)",
            "Actions",
        )


def _line(text: str, element: str | None) -> int | None:
    if not element:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if f"<{element}>" in line or f"<{element} " in line:
            return number
    return None
