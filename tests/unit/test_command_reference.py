"""The documentation moves with the CLI: every command and flag is in the command reference,
and the README's quick start names commands that exist."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from schnitzel_stream.cli.__main__ import build_parser

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "docs" / "ops" / "command_reference.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, child in _subparsers(parser).items():
        yield from _walk(child, (*path, name))


def _parser_at(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = build_parser(every_command=True)
    for name in path:
        parser = _subparsers(parser)[name]
    return parser


COMMANDS = list(_walk(build_parser(every_command=True)))


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option not in ("--help", "--version")
    ]


@pytest.mark.parametrize("path", [pytest.param(p, id=" ".join(p) or "top") for p in COMMANDS])
def test_every_flag_of_every_command_is_documented(path: tuple[str, ...]) -> None:
    missing = [option for option in _options(_parser_at(path)) if f"`{option}" not in REFERENCE]
    assert missing == [], (
        f"{' '.join(path) or 'top level'}: document {missing} in docs/ops/command_reference.md"
    )


@pytest.mark.parametrize("path", [pytest.param(p, id=" ".join(p)) for p in COMMANDS if p])
def test_every_command_has_a_section_or_a_usage_line(path: tuple[str, ...]) -> None:
    words = " ".join(path)
    assert re.search(rf"## `{re.escape(path[0])}", REFERENCE), f"no section for {path[0]!r}"
    assert f"schnitzel-stream {words}" in REFERENCE, f"no usage line for 'schnitzel-stream {words}'"


def test_the_exit_codes_are_documented() -> None:
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 78 |"):
        assert code in REFERENCE


def test_the_readme_quick_start_is_exactly_two_commands_that_exist() -> None:
    start = README.index("## Quick start")
    block = re.search(r"```console\n(.*?)```", README[start:], re.DOTALL)
    assert block is not None
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["uv run schnitzel-stream run", "uv run nox"]
    assert "run" in _subparsers(build_parser(every_command=True))
    assert "Python >= 3.11" in README and "python -m pip install uv" in README
