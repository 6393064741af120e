"""Checks of a rendered launchd property list against the answers and DESIGN.md section 4."""

from __future__ import annotations

from typing import Any

from schnitzel_stream.deploy._invocation import check_invocation, collect, parse_invocation
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import parse_plist, plist_key_line
from schnitzel_stream.errors import Problem


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

    expect("Label", layout.service_name, "launchctl finds the job by this label")
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

    raw_env = plist.get("EnvironmentVariables", {})
    environ: dict[str, str] = {}
    if isinstance(raw_env, dict) and all(isinstance(v, str) for v in raw_env.values()):
        environ = {str(k): v for k, v in raw_env.items()}
    else:
        add("deploy.plist", "EnvironmentVariables must map names to strings", "EnvironmentVariables")
    args = plist.get("ProgramArguments")
    if not isinstance(args, list) or not all(isinstance(item, str) for item in args):
        add(
            "deploy.plist", "ProgramArguments must be a list of strings", "ProgramArguments" if args else None
        )
    else:
        report = collect(problems, file, plist_key_line(text, "ProgramArguments"))
        check_invocation(parse_invocation(args), environ, answers, layout, report, env_file_option=True)
    return problems, environ
