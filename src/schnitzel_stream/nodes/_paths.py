"""The file paths of built-in nodes, checked before the nodes use them (see ``_filecheck``).

:func:`output_check`/:func:`input_check` build a spec's ``check``: what ``validate`` can tell
about a path on any machine. :func:`require_output`/:func:`require_input` run at node start,
as the user that runs the graph, and raise :class:`ConfigError` (exit 78) naming the node,
the path and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from schnitzel_stream._filecheck import input_file_problem, output_file_problem
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.nodes.base import ConfigCheck, ConfigFinding

__all__ = ["input_check", "output_check", "require_input", "require_output"]


def _check(code: str, problem_of: Callable[[str], str | None], key: str) -> ConfigCheck:
    def check(config: Mapping[str, Any]) -> list[ConfigFinding]:
        value = config.get(key)
        if not isinstance(value, str) or not value:
            return []
        problem = problem_of(value)
        return [ConfigFinding(key, code, f"{value} {problem}")] if problem else []

    return check


def output_check(code: str, *, side_files: bool = False, key: str = "path") -> ConfigCheck:
    return _check(code, lambda path: output_file_problem(path, static=True, side_files=side_files), key)


def input_check(code: str, *, key: str = "path") -> ConfigCheck:
    return _check(code, lambda path: input_file_problem(path, static=True), key)


def _raise(node_id: str, plugin: str, code: str, key: str, path: str, problem: str) -> None:
    raise ConfigError(
        Problem(
            code=code,
            message=f"node {node_id!r} ({plugin}): {key} {path} {problem}",
            path=f"nodes.{node_id}.config.{key}",
        )
    )


def require_output(
    node_id: str, plugin: str, code: str, path: str, *, side_files: bool, key: str = "path"
) -> None:
    problem = output_file_problem(path, static=False, side_files=side_files)
    if problem:
        _raise(node_id, plugin, code, key, path, problem)


def require_input(node_id: str, plugin: str, code: str, path: str, *, key: str = "path") -> None:
    problem = input_file_problem(path, static=False)
    if problem:
        _raise(node_id, plugin, code, key, path, problem)
