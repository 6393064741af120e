"""The Windows service definition a deployment root carries: ``<service>.winsvc.json``.

One file says what the SCM registers: the service name, the account, the interpreter, the
runtime's arguments, the working directory, the host's log, the restart delay and the stop
timeout. ``install.ps1`` hands it to ``service install``, which registers exactly
this; ``validate --deployment`` checks the same file. Reading it never touches the registry,
so it is checked on any OS.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

from schnitzel_stream.errors import DeploymentError, Problem

SUFFIX = ".winsvc.json"
#: The accounts a service may run as: unprivileged built-ins (no password is stored).
ACCOUNTS = ("NT AUTHORITY\\LocalService", "NT AUTHORITY\\NetworkService")
START_TYPES = ("auto", "delayed-auto", "demand")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_MAX_BYTES = 64 * 1024
#: What the SCM accepts for one text value (display names are at most 256 characters).
_MAX_TEXT = 256


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    display_name: str
    description: str
    account: str
    python: str
    arguments: tuple[str, ...]
    working_directory: str
    log: str
    restart_delay_sec: int
    stop_timeout_sec: int
    start: str

    def host_command(self) -> list[str]:
        """What the SCM starts: the isolated interpreter hosting the service."""
        return [
            self.python,
            "-I",
            "-m",
            "schnitzel_stream",
            "service",
            "run",
            "--scm",
            "--name",
            self.name,
            "--host-log",
            self.log,
            "--cwd",
            self.working_directory,
            "--stop-timeout",
            str(self.stop_timeout_sec),
            "--",
            *self.arguments,
        ]

    def image_path(self) -> str:
        """The command line as the SCM stores it (``ImagePath``), quoted for CommandLineToArgvW."""
        return subprocess.list2cmdline(self.host_command())


def load_spec(path: Path) -> ServiceSpec:
    """Read and check a service definition; :class:`DeploymentError` lists every problem."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeploymentError(Problem("winsvc.read", f"cannot read it: {exc.strerror}", file=file)) from None
    if len(data) > _MAX_BYTES:
        raise DeploymentError(Problem("winsvc.read", "the service definition is over 64 KiB", file=file))
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeploymentError(Problem("winsvc.json", f"not valid JSON: {exc}", file=file)) from None
    spec, problems = spec_from_mapping(document, file)
    if spec is None:
        raise DeploymentError(problems)
    return spec


def spec_from_mapping(document: Any, file: str) -> tuple[ServiceSpec | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(key: str, message: str) -> None:
        problems.append(Problem("winsvc.value", message, path=key, file=file))

    if not isinstance(document, dict):
        return None, [Problem("winsvc.json", "the service definition is not a JSON object", file=file)]
    expected = set(ServiceSpec.__dataclass_fields__)
    for key in sorted(set(document) - expected):
        bad(key, f"unknown key {key!r}")
    for key in sorted(expected - set(document)):
        bad(key, f"{key} is missing")
    if problems:
        return None, problems
    name = document["name"]
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        bad("name", f"{name!r} is not a service name (1-80 of letters, digits, '_', '.', '-')")
    for key in ("display_name", "description"):
        if not _text(document[key]):
            bad(key, f"use 1-{_MAX_TEXT} printable characters")
    if document["account"] not in ACCOUNTS:
        bad("account", f"{document['account']!r} is not one of {', '.join(ACCOUNTS)}")
    for key in ("python", "working_directory", "log"):
        if not _absolute(document[key]):
            bad(key, f"{document[key]!r} is not an absolute Windows path")
    arguments = document["arguments"]
    if not isinstance(arguments, list) or not all(_argument(item) for item in arguments) or not arguments:
        bad(
            "arguments",
            "the runtime's arguments must be a non-empty list of strings without control characters",
        )
    for key, low, high in (("restart_delay_sec", 1, 3600), ("stop_timeout_sec", 1, 600)):
        value = document[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bad(key, f"{value!r} is not a whole number from {low} to {high}")
    if document["start"] not in START_TYPES:
        bad("start", f"{document['start']!r} is not one of {', '.join(START_TYPES)}")
    if problems:
        return None, problems
    return ServiceSpec(
        name=name,
        display_name=document["display_name"],
        description=document["description"],
        account=document["account"],
        python=document["python"],
        arguments=tuple(arguments),
        working_directory=document["working_directory"],
        log=document["log"],
        restart_delay_sec=document["restart_delay_sec"],
        stop_timeout_sec=document["stop_timeout_sec"],
        start=document["start"],
    ), []


def _text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_TEXT and value.isprintable()


def _argument(value: object) -> bool:
    return isinstance(value, str) and not re.search(r"[\x00-\x1f\x7f]", value)


def _absolute(value: object) -> bool:
    if not isinstance(value, str) or not _argument(value) or '"' in value:
        return False
    path = PureWindowsPath(value)
    return path.is_absolute() and ".." not in path.parts
