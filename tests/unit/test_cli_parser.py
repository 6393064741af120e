"""The command line's argparse pieces (cli/_parser.py).

It builds a subcommand's parser only when that command is chosen, and what it builds is the
whole command: its help, its usage errors and its defaults are those of the fully built parser
(``build_parser(every_command=True)``, which the docs tests walk). Its help formatter takes the
width argparse's own would, without loading shutil.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
from collections.abc import Iterator

import pytest

from schnitzel_stream.cli import _validate
from schnitzel_stream.cli.__main__ import _SUBCOMMANDS, build_parser, main
from schnitzel_stream.cli._parser import LazySubcommands, Parser, every_parser, help_width


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _lazy(parser: argparse.ArgumentParser) -> LazySubcommands:
    action = _subcommands(parser)
    assert isinstance(action, LazySubcommands)
    return action


def _paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _paths(child, (*path, name))


FULL = build_parser(every_command=True)
PATHS = list(_paths(FULL))


def _full_parser_at(path: tuple[str, ...]) -> argparse.ArgumentParser:
    parser = FULL
    for name in path:
        parser = _subcommands(parser).choices[name]
    return parser


def _run(argv: list[str]) -> tuple[int | str | None, str, str]:
    """``main(argv)`` in this process: the exit code argparse gave, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        main(argv)
    return stop.value.code, out.getvalue(), err.getvalue()


def test_every_command_of_the_table_is_built_in_the_table_s_order() -> None:
    assert len(PATHS) > len(_SUBCOMMANDS) + 1, "queue and service have actions of their own"
    assert list(_subcommands(FULL).choices) == list(_SUBCOMMANDS)
    for name in _SUBCOMMANDS:
        built = _full_parser_at((name,))
        assert built.prog == f"schnitzel-stream {name}"
        assert built.description, f"cli/_{name}.py gives no description"
        assert len(built._actions) > 1, f"cli/_{name}.py adds no arguments"


@pytest.mark.parametrize("path", [pytest.param(p, id=" ".join(p) or "top") for p in PATHS])
def test_help_of_a_command_built_when_chosen_is_the_fully_built_ones(path: tuple[str, ...]) -> None:
    code, out, err = _run([*path, "--help"])
    assert (code, err) == (0, "")
    assert out == _full_parser_at(path).format_help()
    assert out.startswith(f"usage: {' '.join(('schnitzel-stream', *path))} ")


def test_the_top_level_help_lists_every_command_with_its_help_line() -> None:
    code, out, _ = _run(["--help"])
    assert code == 0
    for name, help_line in _SUBCOMMANDS.items():
        assert f"    {name:<9}" in out and help_line[:40] in out


def test_only_the_chosen_command_is_built() -> None:
    parser = build_parser()
    commands = _lazy(parser)
    assert list(commands.choices) == list(_SUBCOMMANDS)
    assert "validate" in commands.choices and "nosuch" not in commands.choices
    assert commands._name_parser_map == {}
    args = parser.parse_args(["validate", "g.yaml", "--format", "json"])
    assert list(commands._name_parser_map) == ["validate"]
    assert (args.command, args.paths, args.format) == ("validate", ["g.yaml"], "json")
    assert args.handler is _validate.validate_command
    # The runtime contract (no command) builds none.
    other = build_parser()
    assert other.parse_args(["--graph", "g.yaml", "--validate-only"]).command is None
    assert _lazy(other)._name_parser_map == {}


def test_a_lookup_builds_a_command_once() -> None:
    commands = _lazy(build_parser())
    first = commands.choices["queue"]
    assert commands.choices["queue"] is first
    assert list(commands._name_parser_map) == ["queue"]
    with pytest.raises(KeyError):
        commands.choices["nosuch"]
    with pytest.raises(ValueError, match="conflicting subparser: queue"):
        commands.add_lazy("queue", help="again", build=lambda parser: None)


def test_an_unknown_command_is_argparse_s_usage_error_naming_every_command() -> None:
    code, out, err = _run(["nosuch"])
    assert (code, out) == (2, "")
    choices = ", ".join(repr(name) for name in _SUBCOMMANDS)
    assert f"argument COMMAND: invalid choice: 'nosuch' (choose from {choices})" in err


@pytest.mark.parametrize(
    ("argv", "usage", "message"),
    [
        # The top-level parser collects the options no parser knew.
        pytest.param(
            ["validate", "--nosuch", "g.yaml"], "", "unrecognized arguments: --nosuch", id="unknown-option"
        ),
        pytest.param(
            ["queue", "peek", "--limit", "x", "q.db"],
            " queue peek",
            "argument --limit: not a whole number: 'x'",
            id="bad-value",
        ),
        pytest.param(["service"], " service", "the following arguments are required: ACTION", id="no-action"),
    ],
)
def test_usage_errors_of_a_command_built_when_chosen_exit_2(
    argv: list[str], usage: str, message: str
) -> None:
    code, _, err = _run(argv)
    assert code == 2
    assert err.startswith(f"usage: schnitzel-stream{usage} [-h]")
    assert err.endswith(f"schnitzel-stream{usage}: error: {message}\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["queue", "stats"], "schnitzel-stream queue stats: the following arguments are required: PATH"
        ),
        pytest.param(
            ["service", "run", "--stop-timeout", "x"],
            "schnitzel-stream service run: argument --stop-timeout: invalid float value: 'x'",
        ),
        pytest.param(["nosuch"], "schnitzel-stream: argument COMMAND: invalid choice: 'nosuch'"),
    ],
)
def test_json_usage_errors_reach_the_parsers_built_later(argv: list[str], message: str) -> None:
    """``--log-format json`` makes argparse's errors JSON lines, in parsers built while parsing too."""
    code, _, err = _run(["--log-format", "json", *argv])
    assert code == 2
    line = json.loads(err)
    assert line["code"] == "usage" and line["level"] == "error"
    assert line["message"].startswith(message)


def test_every_parser_visits_each_parser_once_when_it_is_complete() -> None:
    parser = build_parser()
    seen: list[str] = []
    every_parser(parser, lambda visited: seen.append(visited.prog))
    assert seen == ["schnitzel-stream"]
    _lazy(parser).built("queue")
    assert seen[1:] == [
        "schnitzel-stream queue",
        "schnitzel-stream queue stats",
        "schnitzel-stream queue peek",
        "schnitzel-stream queue purge",
        "schnitzel-stream queue requeue-dead",
    ]
    _lazy(parser).built("queue")
    assert len(seen) == 6


def _no_terminal(fd: int = 1) -> os.terminal_size:
    raise OSError("not a terminal")


@pytest.mark.parametrize("columns", [None, "120", "33", "0", "-5", "wide", ""])
@pytest.mark.parametrize(
    "terminal",
    [
        pytest.param(_no_terminal, id="no-terminal"),
        pytest.param(lambda fd=1: os.terminal_size((133, 40)), id="terminal-133"),
        pytest.param(lambda fd=1: os.terminal_size((0, 0)), id="terminal-says-0"),
    ],
)
def test_the_help_width_is_argparse_s_own(
    monkeypatch: pytest.MonkeyPatch, columns: str | None, terminal: object
) -> None:
    """argparse's formatter takes ``shutil.get_terminal_size().columns - 2``; so does ours."""
    monkeypatch.delenv("LINES", raising=False)
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setattr(os, "get_terminal_size", terminal)
    assert help_width() == shutil.get_terminal_size().columns - 2


def test_every_parser_of_the_command_line_formats_help_without_shutil() -> None:
    def check(parser: argparse.ArgumentParser) -> None:
        assert isinstance(parser, Parser), parser.prog
        assert type(parser._get_formatter()).__module__ == Parser.__module__, parser.prog

    every_parser(build_parser(every_command=True), check)
