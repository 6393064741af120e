"""Can the service account use its path classes on this machine?

Only checked when validating on the target OS: a Windows root checked on Linux names paths
that do not exist here. A directory that exists must be usable by the account that runs the
service (write for state and logs, read for config); one that does not exist must be
creatable by whoever runs the install script (its nearest existing parent is writable, or we
are root; system and portable installs run as root or an administrator anyway). On Linux,
systemd creates the system scope's directories itself.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.errors import Problem
from schnitzel_stream.paths import PATH_CLASSES, current_os


@dataclass(frozen=True, slots=True)
class _Account:
    name: str
    uid: int
    gids: frozenset[int]


def check_paths(answers: Answers, layout: Layout, file: str) -> list[Problem]:
    """Problems with the config, state and logs directories of ``layout`` for the service account."""
    if current_os() != answers.target_os:
        return []
    if answers.target_os == "linux" and answers.scope == "system":
        return []  # ConfigurationDirectory=, StateDirectory= and LogsDirectory= create them at start
    problems: list[Problem] = []
    account, missing = _account(answers)
    if missing:
        problems.append(
            Problem(
                "deploy.account",
                f"the service account {missing!r} does not exist on this machine",
                file=file,
                severity="warning",
                hint="install.sh creates it",
            )
        )
    for cls in PATH_CLASSES:
        path = Path(layout.dirs()[cls])
        write = cls != "config"
        # System and portable installs run as root/administrator, which can create any directory.
        problem = _check_dir(path, cls, write, account, file, admin_creates=answers.scope != "user")
        if problem is not None:
            problems.append(problem)
    return problems


def _account(answers: Answers) -> tuple[_Account | None, str | None]:
    """The account the service runs as, when this machine knows it; else the missing name."""
    if sys.platform == "win32":
        return None, None
    import pwd

    name = answers.service_user
    try:
        if name is None:  # user scope: the owner of the home directory
            home = Path(answers.user_home or "")
            uid = home.stat().st_uid if home.is_dir() else os.getuid()
            entry = pwd.getpwuid(uid)
        else:
            entry = pwd.getpwnam(name)
    except (KeyError, OSError):
        return None, name
    gids = frozenset(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return _Account(entry.pw_name, entry.pw_uid, gids), None


def _check_dir(
    path: Path, cls: str, write: bool, account: _Account | None, file: str, *, admin_creates: bool
) -> Problem | None:
    label = f"${{{cls}}} ({path})"
    if path.exists():
        if not path.is_dir():
            return Problem("deploy.paths", f"{label} exists but is not a directory", file=file)
        if account is None:
            ok = os.access(path, os.W_OK if write else os.R_OK)
            who = "this account"
        else:
            ok = _allowed(account, path.stat(), write)
            who = f"the service account {account.name!r}"
        if ok:
            return None
        verb = "write to" if write else "read"
        return Problem(
            "deploy.paths",
            f"{who} cannot {verb} {label}",
            file=file,
            hint="run the install script again, or fix the owner and mode of the directory",
        )
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if admin_creates or _is_root() or os.access(parent, os.W_OK):
        return None
    return Problem(
        "deploy.paths",
        f"{label} does not exist and cannot be created: {parent} is not writable",
        file=file,
        hint="run the install script as an administrator, or create the directory for the service account",
    )


def _allowed(account: _Account, info: os.stat_result, write: bool) -> bool:
    if account.uid == 0:
        return True
    mode = info.st_mode
    if info.st_uid == account.uid:
        bits = (mode >> 6) & 7
    elif info.st_gid in account.gids:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    need = (stat.S_IWOTH | stat.S_IXOTH) if write else (stat.S_IROTH | stat.S_IXOTH)
    return bits & need == need


def _is_root() -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is not None and getuid() == 0
