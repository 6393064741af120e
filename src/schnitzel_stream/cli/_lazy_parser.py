"""Subcommands whose parsers are built only when they are chosen.

Nearly all of what ``validate`` costs is the interpreter starting and importing (issue #12).
Building every subcommand's parser on each start cost more than parsing: eleven modules
imported and a few hundred ``add_argument`` calls (even an empty ``ArgumentParser`` costs a
quarter of a millisecond, mostly gettext looking for catalogues), when one command runs.
``--help`` lists each command by its name and help line alone, so those are all the
top-level parser holds; the chosen command's parser is made and filled in when argparse
looks it up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsersAction = argparse._SubParsersAction

Build = Callable[[argparse.ArgumentParser], None]
Visit = Callable[[argparse.ArgumentParser], None]


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
