"""Checks of a rendered launchd property list against the answers and DESIGN.md section 4.

An allowlist, as for systemd units: every key and every environment variable is one the
template writes, and ``ProgramArguments`` is the service host started isolated (``-I``) with
``--exit-0-when-invalid`` (launchd's ``KeepAlive`` restarts every non-zero exit), running the
runtime. A plist edited by hand or by an attacker is an error.
"""

from __future__ import annotations

from typing import Any

from schnitzel_stream.deploy._invocation import (
    SERVICE_ENVIRONMENT,
    check_invocation,
    collect,
    parse_invocation,
)
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import parse_plist, plist_key_line
from schnitzel_stream.errors import Problem

#: Every top-level key the template writes.
_ALLOWED_KEYS = frozenset(
    {
        "Label", "ProgramArguments", "EnvironmentVariables", "UserName", "GroupName", "RunAtLoad",
        "KeepAlive", "ThrottleInterval", "ExitTimeOut", "ProcessType", "Umask", "WorkingDirectory",
        "StandardOutPath", "StandardErrorPath",
    }
)  # fmt: skip


def check_plist(
    data: bytes, file: str, answers: Answers, layout: Layout
) -> tuple[list[Problem], dict[str, str]]:
    """Problems of the plist, and the ``EnvironmentVariables`` it gives the service."""
    plist, problems = parse_plist(data, file)
    if plist is None:
        return problems, {}
    text = data.decode("utf-8", errors="replace")

    def add(code: str, message: str, key: str | None, hint: str | None = None) -> None:
        line = plist_key_line(text, key) if key else None
        problems.append(Problem(code, message, path=key or "", file=file, line=line, hint=hint))

    def expect(key: str, wanted: Any, hint: str | None = None) -> None:
        got = plist.get(key)
        if got != wanted:
            add("deploy.plist", f"{key} is {got!r}, expected {wanted!r}", key if key in plist else None, hint)

    for key in sorted(set(plist) - _ALLOWED_KEYS):
        add(
            "deploy.plist",
            f"{key} is not a key the template writes",
            key,
            "render the root again (copier update): a hand-edited plist is not trusted",
        )
    expect("Label", layout.service_name, "launchctl finds the job by this label")
    expect("ProcessType", "Standard")
    expect("Umask", 0o077, "63 (0077): files the service writes are its own")
    expect("RunAtLoad", True, "start at boot (or at login for an agent)")
    keep_alive = plist.get("KeepAlive")
    if keep_alive is not True and keep_alive != {"SuccessfulExit": False}:
        add(
            "deploy.plist",
            f"KeepAlive is {keep_alive!r}: launchd would not restart the service after a failure",
            "KeepAlive" if "KeepAlive" in plist else None,
            "KeepAlive = {SuccessfulExit: false} restarts after a crash but not after a graceful stop",
        )
    expect("ThrottleInterval", answers.restart_delay_sec, "restart_delay_sec in the answers")
    expect("WorkingDirectory", layout.state_dir)
    for key in ("StandardOutPath", "StandardErrorPath"):
        value = plist.get(key)
        if not isinstance(value, str) or not value.startswith(layout.logs_dir + "/"):
            add(
                "deploy.plist",
                f"{key} is {value!r}, not a file under ${{logs}} ({layout.logs_dir})",
                key if key in plist else None,
            )
    user = plist.get("UserName")
    if answers.scope == "user":
        if user is not None:
            add("deploy.user", "an agent runs as its owner: UserName must not be set", "UserName")
    elif user != answers.service_user:
        add(
            "deploy.user",
            f"UserName is {user!r}, not the service_user {answers.service_user!r}",
            "UserName" if "UserName" in plist else None,
            "a daemon without UserName runs as root",
        )
    if plist.get("GroupName") != (None if answers.scope == "user" else answers.service_user):
        add(
            "deploy.user",
            f"GroupName is {plist.get('GroupName')!r}, not the service_user's group",
            "GroupName",
        )

    raw_env = plist.get("EnvironmentVariables", {})
    environ: dict[str, str] = {}
    if isinstance(raw_env, dict) and all(isinstance(v, str) for v in raw_env.values()):
        environ = {str(k): v for k, v in raw_env.items()}
        for name in sorted(set(environ) - SERVICE_ENVIRONMENT):
            add(
                "deploy.plist",
                f"EnvironmentVariables sets {name}, which the template never sets",
                "EnvironmentVariables",
                "the service's own settings go to the env file",
            )
    else:
        add("deploy.plist", "EnvironmentVariables must map names to strings", "EnvironmentVariables")
    args = plist.get("ProgramArguments")
    if not isinstance(args, list) or not all(isinstance(item, str) for item in args):
        add(
            "deploy.plist", "ProgramArguments must be a list of strings", "ProgramArguments" if args else None
        )
    else:
        report = collect(problems, file, plist_key_line(text, "ProgramArguments"))
        check_invocation(
            parse_invocation(args),
            environ,
            answers,
            layout,
            report,
            env_file_option=True,
            host_flag="--exit-0-when-invalid",
        )
    return problems, environ
