"""argparse as the command line uses it, made cheap to start.

Nearly all of what ``validate`` costs is the interpreter starting and importing (issue #12),
and argparse had a share of it:

- Building every subcommand's parser on each start cost more than parsing: eleven modules
  imported and a few hundred ``add_argument`` calls (even an empty ``ArgumentParser`` costs a
  quarter of a millisecond, mostly gettext looking for catalogues), when one command runs.
  ``--help`` lists each command by its name and help line alone, so those are all the
  top-level parser holds (:class:`LazySubcommands`); the chosen command's parser is made and
  filled in when argparse looks it up.
- argparse makes a help formatter for every ``add_argument`` (to check the metavar), and its
  formatter asks ``shutil`` for the terminal's width: loading shutil, with the zlib, bz2 and
  lzma modules it imports, cost every start about 3 ms. :class:`Parser` finds the same width
  with ``os`` alone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsersAction = argparse._SubParsersAction

Build = Callable[[argparse.ArgumentParser], None]
Visit = Callable[[argparse.ArgumentParser], None]


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose help formatter does not load ``shutil``; the parsers of its
    subcommands are ``Parser`` too (``add_subparsers`` makes them of the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


class _HelpFormatter(argparse.HelpFormatter):
    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, help_width() if width is None else width)


def help_width() -> int:
    """The width argparse's formatter would take: ``shutil.get_terminal_size().columns - 2``.

    That is ``$COLUMNS`` when it is a positive number, else the width of the terminal on
    standard output, else 80.
    """
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
            columns = 0
    return (columns or 80) - 2


class LazySubcommands(_SubParsersAction):
    """A subparsers action (``add_subparsers(action=LazySubcommands)``) whose commands are
    added with :meth:`add_lazy`: a name, a help line, and the function that gives the
    command's parser its description, arguments and defaults when it is first looked up."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._builds: dict[str, Build] = {}
        self._visitors: list[Visit] = []
        # argparse checks a command's name against ``choices`` and walkers read it: it names
        # every command, and looking one up builds it. argparse's own map holds the built ones.
        # (typeshed calls it a dict; argparse only asks ``in``, iterates and looks up.)
        self.choices = _Commands(self)  # type: ignore[assignment]

    def add_lazy(self, name: str, *, help: str, build: Build) -> None:
        if name in self._builds:
            raise ValueError(f"conflicting subparser: {name}")
        # What add_parser(name, help=...) adds for --help, without making the parser yet.
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        self._builds[name] = build

    def built(self, name: str) -> argparse.ArgumentParser:
        """The parser of the command ``name``, built on first use (KeyError for no such command)."""
        parser = self._name_parser_map.get(name)
        if parser is None:
            build = self._builds[name]
            parser = self.add_parser(name)
            build(parser)
            for visit in self._visitors:
                every_parser(parser, visit)
        return parser

    def build_all(self) -> None:
        for name in self._builds:
            self.built(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        # argparse has checked the name (values[0]) against choices; its __call__ reads the
        # built parser from its own map.
        if isinstance(values, list) and values and values[0] in self._builds:
            self.built(values[0])
        super().__call__(parser, namespace, values, option_string)


class _Commands(Mapping[str, argparse.ArgumentParser]):
    """Every command of a :class:`LazySubcommands`, in the order added; a lookup builds it."""

    def __init__(self, action: LazySubcommands) -> None:
        self._action = action

    def __getitem__(self, name: str) -> argparse.ArgumentParser:
        return self._action.built(name)

    def __contains__(self, name: object) -> bool:
        return name in self._action._builds

    def __iter__(self) -> Iterator[str]:
        return iter(self._action._builds)

    def __len__(self) -> int:
        return len(self._action._builds)


def every_parser(parser: argparse.ArgumentParser, visit: Visit) -> None:
    """Call ``visit`` once on ``parser`` and on every sub-parser below it, each when it is
    complete: one that a :class:`LazySubcommands` has not built yet is visited when it is built."""
    visit(parser)
    for action in parser._actions:
        if isinstance(action, LazySubcommands):
            action._visitors.append(visit)
        if isinstance(action, argparse._SubParsersAction):
            # argparse's own map: the parsers built so far (an alias maps to its parser again).
            for child in dict.fromkeys(action._name_parser_map.values()):
                every_parser(child, visit)
