"""The graph of a deployment root, checked as the service will run it.

Everything ``validate`` checks, resolved against the env file plus the service's own
environment and path classes; and what only a deployment can get wrong: a ``*_from_env``
variable the env file does not set, a ``${VAR:-default}`` whose default the service would
silently use, a missing schema modeline, a secret written into the graph.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
        require_env=True,  # the env file is the whole environment: a *_from_env name it lacks is an error
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
        problems.extend(_defaults_in_use(text, graph_file, environ))
        problems.extend(_secrets.scan_graph(text, graph_file, secrets))
    return FileReport.from_problems(graph_file, problems, source=text)


_FROM_ENV_CODES = {"env.unset": "deploy.env-missing", "env.empty": "deploy.env-empty"}


def _deployment_hint(problem: Problem) -> Problem:
    if problem.code in _FROM_ENV_CODES:  # the graph layer's *_from_env check, in this root's words
        name = problem.message.split("'")[1] if problem.message.count("'") >= 2 else "NAME"
        key = problem.message.split(" ", 1)[0]
        missing = problem.code == "env.unset"
        return problem._replace(
            code=_FROM_ENV_CODES[problem.code],
            message=f"{key} names {name}, but the env file "
            + ("does not define it" if missing else "sets it empty"),
            hint=f"set {name}=... in {ENV_FILE}",
        )
    if problem.code != "interp.missing-env":
        return problem
    name = problem.message.split("'")[1] if problem.message.count("'") >= 2 else "NAME"
    return problem._replace(
        message=f"the graph uses ${{{name}}}, but the env file does not define it",
        hint=f"add {name}=... to {ENV_FILE}, or give a default: ${{{name}:-default}}",
    )


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
