"""The README's deploy example: the names agree (root directory, deployment_name, unit) and
every schnitzel-stream command in it exists. The sequence itself (clone, copier copy, bundle,
offline install, events) runs in tests/e2e/test_deployment_lanes.py, and the install under a
real systemd in ops/ci/lifecycle.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from schnitzel_stream.cli.__main__ import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _deploy_commands() -> list[list[str]]:
    start = README.index("## Deploying")
    block = re.search(r"```console\n(.*?)```", README[start:], re.DOTALL)
    assert block is not None
    return [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]


def test_the_root_the_deployment_and_the_unit_have_one_name() -> None:
    commands = _deploy_commands()
    copier = next(c for c in commands if "copier" in c)
    name = next(arg.split("=", 1)[1] for arg in copier if arg.startswith("deployment_name="))
    assert copier[-1] == f"../{name}"
    assert all(
        f"../{name}" in " ".join(c)
        for c in commands
        if "schnitzel-stream" in c or "install.sh" in " ".join(c)
    )
    assert ["systemctl", "status", f"schnitzel-stream-{name}"] in commands


def test_every_schnitzel_stream_command_of_the_example_exists() -> None:
    parser = build_parser()
    for command in _deploy_commands():
        if command[:3] == ["uv", "run", "schnitzel-stream"]:
            args = parser.parse_args(command[3:])
            assert args.handler is not None
