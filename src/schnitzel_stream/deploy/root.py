"""``validate --deployment ROOT``: check a whole deployment root in one pass.

A deployment root is what ``copier copy`` rendered for one device: ``.copier-answers.yml``,
``config/graph.yaml``, ``config/schnitzel-stream.env``, the service file for its OS, the
install scripts and ``requirements.lock.txt``. :func:`validate_deployment` checks

- the graph, with everything ``validate`` checks, resolved against the env file and the
  service's own environment and path classes;
- that every ``${VAR}`` and ``*_from_env`` variable the graph uses is defined in the env file;
- that the service file exists, parses, and runs the command, graph, env file and path
  classes the answers call for (:mod:`.checks.systemd`, :mod:`.checks.launchd`,
  :mod:`.checks.winsvc`);
- that the path classes exist or can be created and are usable by the service account
  (on the target OS only);
- that the lock export is hash-pinned and matches the virtual environment, when present;
- that no secret sits in the graph, the answers file or the service file, and that the env
  file is not readable by others.

The result is the same :class:`~schnitzel_stream.graph.report.Report` that ``validate``
renders, with one entry per file checked.
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schnitzel_stream import redact
from schnitzel_stream.deploy import _secrets
from schnitzel_stream.deploy._graph_checks import graph_report
from schnitzel_stream.deploy._invocation import SERVICE_ENVIRONMENT
from schnitzel_stream.deploy.envfile import EnvFile, read_env_file
from schnitzel_stream.deploy.layout import (
    ANSWERS_FILE,
    ENV_FILE,
    LOCK_FILE,
    Answers,
    Layout,
    answers_from_mapping,
    layout_for,
)
from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import FileReport, Report
from schnitzel_stream.paths import current_os

MAX_ANSWERS_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class DeploymentOptions:
    """What to check besides the files.

    ``check_paths`` looks at the path classes on this machine (only when it runs the target
    OS); ``venv`` names the virtual environment to compare with the lock export (default:
    ``<install_dir>/venv`` when it exists here).
    """

    check_paths: bool = True
    venv: str | None = None


def validate_deployment(root: str | Path, options: DeploymentOptions | None = None) -> Report:
    """Check the deployment root ``root``; never raises for anything the root contains."""
    options = options or DeploymentOptions()
    base = Path(root)
    if not base.is_dir():
        return _single(str(base), "deploy.root", "no such directory", "pass the directory copier rendered")
    answers_path = base / ANSWERS_FILE
    if not answers_path.is_file():
        return _single(
            str(answers_path),
            "deploy.root",
            f"not a deployment root: {ANSWERS_FILE} is missing",
            "render a root with: copier copy <template> ROOT (see docs/ops/deployment.md)",
        )
    answers_text, answers_data, problems = _read_answers(answers_path)
    answers: Answers | None = None
    if answers_data is not None:
        answers, found = answers_from_mapping(answers_data, str(answers_path))
        problems.extend(found)
    layout = layout_for(answers) if answers else None

    env_file = read_env_file(base / ENV_FILE)
    env_values = env_file.as_dict()
    secrets = redact.env_secrets(env_values)
    if answers_data is not None:
        problems.extend(_secrets.scan_answers(answers_text, answers_data, str(answers_path), secrets))
    reports = [FileReport.from_problems(str(answers_path), problems, source=answers_text)]

    service_report, service_env = _check_service(base, answers, layout, secrets)
    reports.append(_env_report(env_file, answers))
    reports.append(graph_report(base, answers, layout, env_values, service_env, secrets))
    if service_report is not None:
        reports.append(service_report)
    reports.append(_root_report(base, answers, answers_data, layout, options))
    reports.append(_lock_report(base, answers, layout, options))
    reports.append(_bundle_report(base, answers_data))
    # The text report quotes the offending line: a leaked secret must not be repeated there.
    return Report(files=tuple(_secrets.masked_report(report, secrets) for report in reports))


def _single(path: str, code: str, message: str, hint: str) -> Report:
    problem = Problem(code=code, message=message, file=path, hint=hint)
    return Report(files=(FileReport.from_problems(path, [problem]),))


def _read_answers(path: Path) -> tuple[str, dict[str, Any] | None, list[Problem]]:
    import yaml

    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "", None, [Problem("deploy.answers", f"cannot read it: {exc.strerror}", file=file)]
    if len(data) > MAX_ANSWERS_BYTES:
        return "", None, [Problem("deploy.answers", "the answers file is over 64 KiB", file=file)]
    text = data.decode("utf-8", errors="replace")
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return text, None, [Problem("deploy.answers", f"not valid YAML: {exc}", file=file, line=line)]
    if not isinstance(loaded, dict):
        return text, None, [Problem("deploy.answers", "the answers file is not a mapping", file=file)]
    return text, loaded, []


#: Variables an env file must not set: they change how the interpreter or the dynamic loader
#: start (code from a path of the writer's choosing) or move the service's path classes
#: away from what its service file sets. systemd's EnvironmentFile= puts every line into the
#: service's environment, after the unit's own Environment=.
_FORBIDDEN_ENV = re.compile(r"(LD_|DYLD_|PYTHON).*|GCONV_PATH|OPENSSL_CONF|OPENSSL_ENGINES")
#: Variables that change where and how the service connects, and whom it trusts: allowed,
#: but named, since a device rarely needs them.
_NOTABLE_ENV = re.compile(
    r"(?i)(https?_proxy|all_proxy|ssl_cert_file|ssl_cert_dir|requests_ca_bundle|curl_ca_bundle)"
)


def _env_report(env_file: EnvFile, answers: Answers | None) -> FileReport:
    problems = list(env_file.problems)
    for entry in env_file.entries:
        if _FORBIDDEN_ENV.fullmatch(entry.name) or entry.name in SERVICE_ENVIRONMENT:
            problems.append(
                Problem(
                    "deploy.env-forbidden",
                    f"{entry.name} changes how the service's interpreter or loader starts, or its "
                    "path classes: an env file must not set it",
                    file=env_file.path,
                    line=entry.line,
                    hint="the service file sets the scope and paths; remove the line",
                )
            )
        elif _NOTABLE_ENV.fullmatch(entry.name):
            problems.append(
                Problem(
                    "deploy.env-network",
                    f"{entry.name} changes where the service connects or which certificates it trusts",
                    file=env_file.path,
                    line=entry.line,
                    severity="warning",
                    hint="keep it only if this device needs it",
                )
            )
    path = Path(env_file.path)
    if sys.platform != "win32" and env_file.entries and path.is_file():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            installer = (
                "install.ps1 gives the installed copy an ACL for the service account only"
                if answers is not None and answers.target_os == "windows"
                else "install.sh installs it with mode 0600"
            )
            problems.append(
                Problem(
                    "deploy.env-mode",
                    f"the env file holds secrets but its mode is {mode:04o}: group and others can read it",
                    file=env_file.path,
                    severity="warning",
                    hint=f"chmod 600 {env_file.path}; {installer}",
                )
            )
    return FileReport.from_problems(env_file.path, problems)


def _check_service(
    base: Path, answers: Answers | None, layout: Layout | None, secrets: Mapping[str, str]
) -> tuple[FileReport | None, dict[str, str]]:
    if answers is None or layout is None:
        return None, {}
    path = base / layout.service_file
    file = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problem = Problem(
            "deploy.service-missing",
            f"the {answers.target_os} service file {layout.service_file} is missing",
            file=file,
            hint="render the root again with copier update",
        )
        return FileReport.from_problems(file, [problem]), {}
    except OSError as exc:
        return FileReport.from_problems(
            file, [Problem("deploy.service", f"cannot read it: {exc.strerror}", file=file)]
        ), {}
    text = data.decode("utf-8", errors="replace")
    environ: dict[str, str] = {}
    if answers.target_os == "linux":
        from schnitzel_stream.deploy.checks.systemd import check_unit

        problems, environ = check_unit(text, file, answers, layout)
    elif answers.target_os == "macos":
        from schnitzel_stream.deploy.checks.launchd import check_plist

        problems, environ = check_plist(data, file, answers, layout)
    else:
        from schnitzel_stream.deploy.checks.winsvc import check_winsvc

        problems = check_winsvc(data, file, answers, layout)
    problems.extend(_secrets.scan_text(text, file, secrets, what="the service file"))
    return FileReport.from_problems(file, problems, source=text), environ


def _root_report(
    base: Path,
    answers: Answers | None,
    answers_data: Mapping[str, Any] | None,
    layout: Layout | None,
    options: DeploymentOptions,
) -> FileReport:
    """Install scripts, the files the template renders, the path classes on this machine, and
    the installed env file's mode."""
    from schnitzel_stream import __version__
    from schnitzel_stream.deploy._rendered import compare_with_template

    file = str(base)
    problems: list[Problem] = []
    if answers is None or layout is None or answers_data is None:
        return FileReport.from_problems(file, problems)
    rendered = (layout.service_file, *layout.install_scripts, LOCK_FILE, "RUNBOOK.md")
    problems.extend(compare_with_template(base, rendered, answers_data, __version__))
    for script in layout.install_scripts:
        if not (base / script).is_file():
            problems.append(
                Problem(
                    "deploy.script-missing",
                    f"{script} is missing",
                    file=str(base / script),
                    hint="copier update",
                )
            )
    if options.check_paths:
        from schnitzel_stream.deploy._path_checks import check_paths

        problems.extend(check_paths(answers, layout, file))
    installed_env = Path(layout.env_path)
    if current_os() == answers.target_os and sys.platform != "win32" and installed_env.is_file():
        mode = stat.S_IMODE(installed_env.stat().st_mode)
        if mode & 0o077:
            problems.append(
                Problem(
                    "deploy.env-mode",
                    f"the installed env file {installed_env} has mode {mode:04o}: others can read its secrets",
                    file=str(installed_env),
                    hint=f"chmod 600 {installed_env}",
                )
            )
    return FileReport.from_problems(file, problems)


def _bundle_report(base: Path, answers_data: dict[str, Any] | None) -> FileReport:
    """The bundle (wheels/) against the template commit: see :mod:`._bundle_check`."""
    from schnitzel_stream.deploy._bundle_check import bundle_problems, versions_of
    from schnitzel_stream.deploy.bundle import MANIFEST_FILE, WHEELS_DIR

    problems = bundle_problems(base, versions_of(base, answers_data))
    return FileReport.from_problems(str(base / WHEELS_DIR / MANIFEST_FILE), problems)


def _lock_report(
    base: Path, answers: Answers | None, layout: Layout | None, options: DeploymentOptions
) -> FileReport:
    from schnitzel_stream.deploy import lock_export

    path = base / LOCK_FILE
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        problem = Problem(
            "lock.missing",
            f"{LOCK_FILE} is missing: install scripts build the environment from it",
            file=file,
            hint="copier update restores it",
        )
        return FileReport.from_problems(file, [problem])
    packages, problems = lock_export.parse_lock_export(text, file)
    venv: Path | None = None
    if options.venv:
        venv = Path(options.venv)
    elif answers is not None and layout is not None and current_os() == answers.target_os:
        venv = Path(layout.venv_dir)  # the install directory names a path on the device itself
    if venv is not None and venv.is_dir():
        if answers is not None:
            from schnitzel_stream.deploy._bundle_check import interpreter_problems

            problems.extend(interpreter_problems(venv, answers, file))
        site, version = lock_export.venv_site_packages(venv)
        if site is None:
            problems.append(
                Problem(
                    "lock.venv",
                    f"{venv} is not a virtual environment (no pyvenv.cfg)",
                    file=file,
                    severity="warning",
                )
            )
        else:
            wanted = lock_export.applicable(packages, version)
            for found in lock_export.drift(wanted, lock_export.installed_in(site)):
                state = f"has {found.installed}" if found.installed else "does not have it"
                problems.append(
                    Problem(
                        "lock.drift",
                        f"the lock pins {found.name}=={found.locked}, but {venv} {state}",
                        file=file,
                        line=wanted[found.name].line,
                        hint="rebuild the environment with the install script",
                    )
                )
    return FileReport.from_problems(file, problems, source=text)
