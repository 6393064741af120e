"""One path table: what copier renders is what ``layout_for`` (paths.py's table) computes.

The template cannot import Python without ``--trust``, so ``_partials/layout.jinja`` computes
the layout in Jinja. Every OS x scope (and answers with unusual but valid paths) is rendered
with copier; every location the rendered files name (the install and uninstall scripts'
assignments, the service file's command, environment and directories) must equal
:func:`layout_for` of the stored answers. Any drift between the two fails here.
"""

from __future__ import annotations

import plistlib
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from schnitzel_stream.deploy.layout import Layout, answers_from_mapping, layout_for
from schnitzel_stream.deploy.service_files import parse_unit, split_command
from schnitzel_stream.service.windows_spec import load_spec
from tests.template._support import OSES, SCOPES, answers, render

EXTRA = {
    ("linux", "user"): {"user_home": "/home/edge.ops", "install_dir": "/home/edge.ops/apps/e1"},
    ("macos", "user"): {"user_home": "/Users/edge ops", "install_dir": "/Users/edge ops/Apps/e 1"},
    ("macos", "portable"): {"install_dir": "/Volumes/Data 1/edge"},
    ("windows", "user"): {"user_home": r"C:\Users\RUNNER~1", "install_dir": r"D:\Apps (x86)\e1"},
    ("windows", "system"): {"install_dir": r"C:\Program Files (x86)\Edge+1"},
}
CASES = [
    pytest.param(os_name, scope, extra, id=f"{os_name}-{scope}{'-unusual' if extra else ''}")
    for os_name in OSES
    for scope in SCOPES
    for extra in ({}, EXTRA.get((os_name, scope)))
    if extra is not None
]


def _sh_assignments(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Z_]+)=(.+)", line)
        if match and "$" not in match.group(2).replace("'$", ""):
            words = shlex.split(match.group(2))
            if len(words) == 1:
                found[match.group(1)] = words[0]
    return found


def _ps_assignments(text: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2).replace("''", "'")
        for m in re.finditer(r"^\$([A-Za-z]+) = '((?:[^']|'')*)'$", text, re.MULTILINE)
    }


@pytest.mark.parametrize(("os_name", "scope", "extra"), CASES)
def test_rendered_layout_is_layout_for(
    template_dir: Path, tmp_path: Path, os_name: str, scope: str, extra: dict[str, Any]
) -> None:
    root = render(template_dir, tmp_path / "root", answers(os_name, scope, "synthetic_demo", **extra))
    stored = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    parsed, problems = answers_from_mapping(stored, ".copier-answers.yml")
    assert parsed is not None, problems
    layout = layout_for(parsed)
    for key, value in extra.items():
        assert stored[key] == value
    rendered = _from_scripts(root, os_name) | _from_service_file(root, os_name, layout)
    wanted = {
        "venv": layout.venv_dir,
        "config": layout.config_dir,
        "state": layout.state_dir,
        "logs": layout.logs_dir,
        "install": layout.install_dir,
        "python": layout.python_path,
        "graph": layout.graph_path,
        "env": layout.env_path,
        "service": layout.service_file,
    }
    assert {key: rendered.get(key) for key in wanted} == wanted


def _from_scripts(root: Path, os_name: str) -> dict[str, str]:
    if os_name == "windows":
        install = _ps_assignments((root / "install.ps1").read_text(encoding="utf-8"))
        uninstall = _ps_assignments((root / "uninstall.ps1").read_text(encoding="utf-8"))
        keys = ("InstallDir", "ConfigDir", "StateDir", "LogsDir")
        assert {k: uninstall[k] for k in keys} == {k: install[k] for k in keys}
        return {
            # The scripts switch the junction <InstallDir>\venv between versions.
            "venv": install["InstallDir"] + "\\venv",
            "config": install["ConfigDir"],
            "state": install["StateDir"],
            "logs": install["LogsDir"],
            "install": uninstall["InstallDir"],
        }
    install = _sh_assignments((root / "install.sh").read_text(encoding="utf-8"))
    uninstall = _sh_assignments((root / "uninstall.sh").read_text(encoding="utf-8"))
    for key in ("INSTALL_DIR", "CONFIG_DIR", "STATE_DIR", "LOGS_DIR"):
        assert install[key] == uninstall[key], key
    return {
        # The scripts switch the link <INSTALL_DIR>/venv between versions.
        "venv": install["INSTALL_DIR"] + "/venv",
        "config": install["CONFIG_DIR"],
        "state": install["STATE_DIR"],
        "logs": install["LOGS_DIR"],
        "install": uninstall["INSTALL_DIR"],
        "service": install.get("UNIT") or install["PLIST"],
    }


def _from_service_file(root: Path, os_name: str, layout: Layout) -> dict[str, str]:
    if os_name == "linux":
        path = root / layout.service_file
        unit = parse_unit(path.read_text(encoding="utf-8"), str(path))
        start = unit.last("Service", "ExecStart")
        env_file = unit.last("Service", "EnvironmentFile")
        assert start is not None and env_file is not None
        argv = split_command(start.value) or []
        return {"python": argv[0], "graph": argv[argv.index("--graph") + 1], "env": env_file.value}
    if os_name == "macos":
        path = root / layout.service_file
        args = plistlib.loads(path.read_bytes())["ProgramArguments"]
        return {
            "python": args[0],
            "graph": args[args.index("--graph") + 1],
            "env": args[args.index("--env-file") + 1],
            "service": path.name,
        }
    path = root / layout.service_file
    spec = load_spec(path)
    args = list(spec.arguments)
    return {
        "python": spec.python,
        "graph": args[args.index("--graph") + 1],
        "env": args[args.index("--env-file") + 1],
        "service": path.name,
    }
