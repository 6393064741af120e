"""The Windows roots: Task Scheduler XML settings, and quoting of paths under C:\\Program Files."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from schnitzel_stream.deploy.service_files import split_windows_args
from tests.template._support import SECRETS, answers, render

NS = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
PROGRAM_FILES = r"C:\Program Files (x86)\Schnitzel Stream\edge-1"


def _render(template_dir: Path, tmp_path: Path, scope: str, **extra: object) -> Path:
    data = answers("windows", scope, "synthetic_to_mqtt", restart_delay_sec=90, **extra)
    if scope == "user":
        data["user_home"] = r"C:\Users\Edge Ops"
    return render(template_dir, tmp_path / "root", data)


def _text(root: ET.Element, path: str) -> str:
    found = root.find(path, NS)
    assert found is not None, path
    return (found.text or "").strip()


@pytest.mark.parametrize("scope", [pytest.param(s, id=s) for s in ("system", "user", "portable")])
def test_task_settings(template_dir: Path, tmp_path: Path, scope: str) -> None:
    root_dir = _render(template_dir, tmp_path, scope)
    raw = (root_dir / "schnitzel-stream-edge-1.xml").read_bytes()
    task = ET.fromstring(raw)
    assert task.tag == "{http://schemas.microsoft.com/windows/2004/02/mit/task}Task"

    assert _text(task, "t:Triggers/t:BootTrigger/t:Enabled") == "true"
    # Restart on failure with a count and an interval (90 s rounds up to Task Scheduler's minutes).
    assert _text(task, "t:Settings/t:RestartOnFailure/t:Interval") == "PT2M"
    assert int(_text(task, "t:Settings/t:RestartOnFailure/t:Count")) >= 1
    assert _text(task, "t:Settings/t:ExecutionTimeLimit") == "PT0S"
    assert _text(task, "t:Settings/t:DisallowStartIfOnBatteries") == "false"
    assert _text(task, "t:Settings/t:MultipleInstancesPolicy") == "IgnoreNew"
    # Run whether or not a user is logged on.
    logon = _text(task, "t:Principals/t:Principal/t:LogonType")
    if scope == "user":
        assert logon == "S4U"
    else:
        assert logon == "ServiceAccount"
        assert _text(task, "t:Principals/t:Principal/t:UserId") == "S-1-5-19"
    assert _text(task, "t:Principals/t:Principal/t:RunLevel") == "LeastPrivilege"
    assert all(secret not in raw.decode("utf-8") for secret in SECRETS.values())


def test_program_files_paths_are_quoted(template_dir: Path, tmp_path: Path) -> None:
    root_dir = _render(template_dir, tmp_path, "system", install_dir=PROGRAM_FILES)
    task = ET.fromstring((root_dir / "schnitzel-stream-edge-1.xml").read_bytes())
    command = _text(task, "t:Actions/t:Exec/t:Command")
    assert command == f'"{PROGRAM_FILES}\\venv\\Scripts\\python.exe"'
    args = split_windows_args(_text(task, "t:Actions/t:Exec/t:Arguments"))
    config = r"C:\ProgramData\SchnitzelStream\edge-1\config"
    assert args[:5] == ["-I", "-B", "-u", "-m", "schnitzel_stream"]  # isolated: see test_isolation
    pairs = dict(zip(args[5::2], args[6::2], strict=False))
    assert pairs["--env-file"] == config + r"\schnitzel-stream.env"
    assert pairs["--graph"] == config + r"\graph.yaml"
    assert pairs["--scope"] == "system"
    assert pairs["--logs-dir"] == r"C:\ProgramData\SchnitzelStream\edge-1\logs"

    # PowerShell: every path is a single-quoted literal (no expansion, spaces kept), and is
    # only used through -LiteralPath or as a whole argument.
    install = (root_dir / "install.ps1").read_text(encoding="utf-8")
    assert f"$InstallDir = '{PROGRAM_FILES}'" in install
    assert f"$Venv = '{PROGRAM_FILES}\\venv'" in install
    assert not re.search(r"(?<![A-Za-z])-Path \$(Venv|InstallDir|ConfigDir)\b", install)
    uninstall = (root_dir / "uninstall.ps1").read_text(encoding="utf-8")
    assert f"$InstallDir = '{PROGRAM_FILES}'" in uninstall
    assert "Unregister-ScheduledTask" in uninstall
    for script in (install, uninstall):
        # A double-quoted path would expand $ and break on a trailing backslash.
        assert f'"{PROGRAM_FILES}' not in script


def test_user_home_with_spaces(template_dir: Path, tmp_path: Path) -> None:
    root_dir = _render(template_dir, tmp_path, "user")
    task = ET.fromstring((root_dir / "schnitzel-stream-edge-1.xml").read_bytes())
    args = split_windows_args(_text(task, "t:Actions/t:Exec/t:Arguments"))
    assert r"C:\Users\Edge Ops\AppData\Local\SchnitzelStream\edge-1\state" in args
    assert _text(task, "t:Actions/t:Exec/t:WorkingDirectory") == (
        r"C:\Users\Edge Ops\AppData\Local\SchnitzelStream\edge-1\state"
    )
