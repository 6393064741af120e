"""Hostile answers (tests/template/hostile_answers/*.yaml) cannot inject anything anywhere.

See hostile_answers/README.md for the three outcomes. Each rendered root is read back with
the real parser of every format it holds: ``systemd-analyze verify`` for the unit, plistlib
for the launchd plist, the service definition's own checks for Windows, ``sh -n`` for the shell scripts and a real
``sh`` for the env file.
"""

from __future__ import annotations

import filecmp
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from schnitzel_stream.deploy._answers import check_answer
from schnitzel_stream.deploy.layout import SECRET_QUESTIONS, answers_from_mapping
from schnitzel_stream.deploy.root import validate_deployment
from schnitzel_stream.deploy.service_files import parse_unit
from schnitzel_stream.service.windows_spec import load_spec
from tests.template._support import answers, render

CASES_DIR = Path(__file__).parent / "hostile_answers"
CASES = sorted(CASES_DIR.glob("*.yaml"))
SECRET_VARS = {
    "mqtt_password": "SCHNITZEL_MQTT_URL",
    "backend_token": "SCHNITZEL_BACKEND_AUTH",
}


def _case(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict) and loaded["expect"] in ("refused", "rendered", "inert"), path
    return loaded


def _base(case: dict[str, Any]) -> dict[str, Any]:
    return answers(
        case.get("os", "linux"), case.get("scope", "system"), case.get("profile", "synthetic_demo")
    )


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hostile_answer(template_dir: Path, tmp_path: Path, path: Path) -> None:
    case = _case(path)
    data = {**_base(case), **case["data"]}
    if case["expect"] == "refused":
        _refused(template_dir, tmp_path, case, data)
    elif case["expect"] == "inert":
        hostile = render(template_dir, tmp_path / "hostile", data)
        benign = render(template_dir, tmp_path / "benign", _base(case))
        hostile_files, benign_files = _files(hostile), _files(benign)
        assert hostile_files.keys() == benign_files.keys()
        for name, file in benign_files.items():
            assert filecmp.cmp(file, hostile_files[name], shallow=False), f"{name} changed"
    else:
        _rendered(template_dir, tmp_path, case, data)


def _refused(template_dir: Path, tmp_path: Path, case: dict[str, Any], data: dict[str, Any]) -> None:
    question = case["question"]
    dst = tmp_path / "root"
    # copier names the question, or (for a number that is no number) says why it cannot parse it.
    with pytest.raises(ValueError, match=case.get("copier_message", question)):
        render(template_dir, dst, data)
    assert not dst.exists() or not any(dst.iterdir()), "nothing may be written for a refused answer"
    if question in SECRET_QUESTIONS:
        # Secrets are never stored: the same rule refuses the value (and validate --deployment
        # refuses any secret stored in an answers file at all).
        assert check_answer(question, data[question], data["target_os"]) is not None
        return
    # The same answer in a root's answers file: validate --deployment refuses it too.
    stored = {**_benign_stored(tmp_path, template_dir, data), **case["data"]}
    _answers, problems = answers_from_mapping(stored, ".copier-answers.yml")
    assert question in {problem.path for problem in problems}, problems


def _benign_stored(tmp_path: Path, template_dir: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The answers file copier writes for the same root without the hostile answers."""
    benign = {key: data[key] for key in ("target_os", "scope", "graph_profile")}
    root = render(template_dir, tmp_path / "benign", benign)
    stored = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers_from_mapping(stored, ".copier-answers.yml")[1] == []
    return dict(stored)


def _rendered(template_dir: Path, tmp_path: Path, case: dict[str, Any], data: dict[str, Any]) -> None:
    root = render(template_dir, tmp_path / "root", data)
    benign = render(template_dir, tmp_path / "benign", _base(case))
    (root / "config" / "schnitzel-stream.env").chmod(0o600)
    report = validate_deployment(root)
    assert report.valid, [p for f in report.files for p in f.problems if p.severity == "error"]
    os_name = data["target_os"]
    for name, file in _files(root).items():
        text = file.read_text(encoding="utf-8")
        if name.endswith(".plist"):
            plist = plistlib.loads(file.read_bytes())
            assert plist["ProgramArguments"][1] == "-I"
        elif name.endswith(".winsvc.json"):
            load_spec(file)  # the service install reads it: every value as it checks them
        elif name.endswith(".service"):
            _verify_unit(file, tmp_path)
        elif name.endswith(".sh"):
            subprocess.run(["sh", "-n", str(file)], check=True, timeout=30)
            _same_commands(text, (benign / name).read_text(encoding="utf-8"), _sh_assignment)
        elif name.endswith(".ps1"):
            _same_commands(text, (benign / name).read_text(encoding="utf-8"), _ps_assignment)
    _env_round_trip(root, case["data"], os_name)


def _verify_unit(unit: Path, tmp_path: Path) -> None:
    """systemd's own parser: `systemd-analyze verify` (the interpreter must exist to verify).

    Runners of other OSes have no systemd: there the unit is read by our own parser, and Linux
    CI runs systemd's."""
    text = unit.read_text(encoding="utf-8")
    if sys.platform != "linux":
        parsed = parse_unit(text, str(unit))
        assert parsed.problems == () and parsed.last("Service", "ExecStart") is not None
        return
    python = re.search(r"^ExecStart=(\S+)", text, re.MULTILINE)
    assert python is not None
    probe = tmp_path / "verify" / unit.name
    probe.parent.mkdir(exist_ok=True)
    probe.write_text(text.replace(python.group(1), sys.executable), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(probe)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def _sh_assignment(line: str) -> bool:
    """``NAME=<one shell word>``: a quoted value cannot turn into a second command."""
    name, sep, _value = line.partition("=")
    if not sep or not re.fullmatch(r"[A-Z_]+", name):
        return False
    words = shlex.split(line, comments=True)
    return len(words) == 1


def _ps_assignment(line: str) -> bool:
    """``$Name = '<literal>'`` or ``$Name = Join-Path $Here '<literal>'``: a single-quoted
    literal, which PowerShell ends only at an undoubled quote."""
    quotes = "'\u2018\u2019\u201a\u201b"
    literal = rf"[{quotes}](?:[^{quotes}]|[{quotes}]{{2}})*[{quotes}]"
    return re.fullmatch(rf"\$[A-Za-z]+ = (?:Join-Path \$Here )?{literal}", line) is not None


def _same_commands(hostile: str, benign: str, assignment: Any) -> None:
    """The script's command list is the benign render's: only quoted assignments differ."""
    hostile_lines, benign_lines = hostile.splitlines(), benign.splitlines()
    assert len(hostile_lines) == len(benign_lines)
    in_block_comment = False  # PowerShell's <# ... #> help block
    for got, wanted in zip(hostile_lines, benign_lines, strict=True):
        if wanted.startswith("<#"):
            in_block_comment = True
        if got != wanted and not in_block_comment and not got.lstrip().startswith("#"):
            assert assignment(got.strip()), f"not a quoted assignment: {got!r}"
        if wanted.startswith("#>"):
            in_block_comment = False


def _env_round_trip(root: Path, data: dict[str, Any], os_name: str) -> None:
    """A real POSIX sh reads every secret back byte for byte (systemd and --env-file read the
    same single-quoted format)."""
    env_file = root / "config" / "schnitzel-stream.env"
    for question, variable in SECRET_VARS.items():
        if question not in data:
            continue
        result = subprocess.run(
            ["sh", "-c", f'set -a; . "$1"; printf %s "${variable}"', "sh", str(env_file)],
            capture_output=True,
            timeout=30,
            check=True,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
        value = result.stdout.decode("utf-8")
        if question == "mqtt_password":  # in the broker URL's user-info, percent-encoded
            assert unquote(urlsplit(value).password or "") == data[question]
        else:
            assert value == f"Bearer {data[question]}"
    assert shutil.which("sh")
