"""The graph of a deployment root, checked as the service will run it.

Everything ``validate`` checks, resolved against the env file plus the service's own
environment and path classes; and what only a deployment can get wrong: a ``*_from_env``
variable the env file does not set, a ``${VAR:-default}`` whose default the service would
silently use, a missing schema modeline, a secret written into the graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from schnitzel_stream.deploy import _secrets
from schnitzel_stream.deploy.layout import ENV_FILE, GRAPH_FILE, Answers, Layout
from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import FileReport
from schnitzel_stream.paths import PathSet, resolve_paths

__all__ = ["graph_report"]

MODELINE = "# yaml-language-server: $schema="
#: ``${NAME:-default}`` / ``${NAME-default}``: a reference that falls back to a default.
_WITH_DEFAULT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?-")


def _service_paths(answers: Answers | None, layout: Layout | None, base: Path) -> PathSet:
    if answers is None or layout is None:
        return resolve_paths(environ={}, scope="portable", root=str(base))
    return resolve_paths(
        os_name=answers.target_os,
        environ={},
        scope=answers.scope,
        root=answers.install_dir,
        overrides={"config": layout.config_dir, "state": layout.state_dir, "logs": layout.logs_dir},
        home=answers.user_home or "/",
    )


def graph_report(
    base: Path,
    answers: Answers | None,
    layout: Layout | None,
    env_values: Mapping[str, str],
    service_env: Mapping[str, str],
    secrets: Mapping[str, str],
) -> FileReport:
    from schnitzel_stream.graph.validate import ALLOWLIST_ENV, ValidateOptions, validate_path
    from schnitzel_stream.nodes.registry import parse_allowlist

    environ = {**service_env, **env_values}
    options = ValidateOptions(
        environ=environ,
        paths=_service_paths(answers, layout, base),
        allowlist=parse_allowlist(environ.get(ALLOWLIST_ENV)),
    )
    graph_file = str(base / GRAPH_FILE)
    _graph, report = validate_path(graph_file, options)
    problems = [_deployment_hint(problem) for problem in report.problems]
    text = report.source
    if text is not None:
        if not text.startswith(MODELINE):
            problems.append(
                Problem(
                    "deploy.modeline",
                    "the graph does not start with a '# yaml-language-server: $schema=' line",
                    file=graph_file,
                    line=1,
                    severity="warning",
                    hint="editors use it for completion and hover docs",
                )
            )
        problems.extend(_from_env_problems(text, graph_file, environ))
        problems.extend(_defaults_in_use(text, graph_file, environ))
        problems.extend(_secrets.scan_graph(text, graph_file, secrets))
    return FileReport.from_problems(graph_file, problems, source=text)


def _deployment_hint(problem: Problem) -> Problem:
    if problem.code != "interp.missing-env":
        return problem
    name = problem.message.split("'")[1] if problem.message.count("'") >= 2 else "NAME"
    return replace(
        problem,
        message=f"the graph uses ${{{name}}}, but the env file does not define it",
        hint=f"add {name}=... to {ENV_FILE}, or give a default: ${{{name}:-default}}",
    )


def _from_env_problems(text: str, file: str, environ: Mapping[str, str]) -> list[Problem]:
    """Every ``*_from_env`` variable the graph names must be set in the env file."""
    from schnitzel_stream.errors import GraphError
    from schnitzel_stream.graph.findings import format_path
    from schnitzel_stream.graph.load import parse_text

    try:
        document = parse_text(text, file)
    except GraphError:
        return []  # validate already reported why the graph does not parse
    problems: list[Problem] = []
    nodes = document.data.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        config = node.get("config") if isinstance(node, dict) else None
        if not isinstance(config, dict):
            continue
        for key, value in config.items():
            if not isinstance(key, str) or not key.endswith("_from_env"):
                continue
            refs = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, name in refs:
                if not isinstance(name, str):
                    continue
                path: tuple[str | int, ...] = ("nodes", index, "config", key) + ((str(sub),) if sub else ())
                position = document.position(path)
                line, column = position if position else (None, None)
                missing = name not in environ
                if not missing and environ[name]:
                    continue
                problems.append(
                    Problem(
                        "deploy.env-missing" if missing else "deploy.env-empty",
                        f"{key} names {name}, but the env file "
                        + ("does not define it" if missing else "sets it empty"),
                        path=format_path(path),
                        file=file,
                        line=line,
                        column=column,
                        severity="error" if missing else "warning",
                        hint=f"set {name}=... in {ENV_FILE}",
                    )
                )
    return problems


def _defaults_in_use(text: str, file: str, environ: Mapping[str, str]) -> list[Problem]:
    """A ``${VAR:-default}`` the env file does not set: the service runs with the default
    (a reference graph's local test backend, say), which is rarely what a device wants."""
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for match in _WITH_DEFAULT.finditer(line):
            name = match.group(1)
            if name not in environ:
                problems.append(
                    Problem(
                        "deploy.env-default",
                        f"the graph uses the default of ${{{name}}}: the env file does not set it",
                        file=file,
                        line=number,
                        column=match.start() + 1,
                        severity="warning",
                        hint=f"set {name}=... in {ENV_FILE} (or write the value into the graph)",
                    )
                )
    return problems
