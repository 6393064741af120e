"""Checks of a rendered Windows service definition (``<service>.winsvc.json``).

The definition is what ``service install`` registers with the SCM, so it is checked as an
allowlist too: every key and value as :mod:`schnitzel_stream.service.windows_spec` accepts
them (an unprivileged account, absolute paths without quotes, no control characters), the
name, interpreter, working directory, log and restart delay the answers call for, and the
command line the SCM will run: the service host started isolated with ``--scm``, read back
the way ``CommandLineToArgvW`` splits it, running the runtime with the graph and path classes
of the answers.
"""

from __future__ import annotations

import json

from schnitzel_stream.deploy._invocation import check_invocation, collect, parse_invocation
from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.deploy.service_files import split_windows_args
from schnitzel_stream.errors import Problem
from schnitzel_stream.service.windows_spec import ACCOUNTS, spec_from_mapping

#: The account the template writes: LOCAL SERVICE (unprivileged, no password to store).
_ACCOUNT = ACCOUNTS[0]


def check_winsvc(data: bytes, file: str, answers: Answers, layout: Layout) -> list[Problem]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [Problem("deploy.winsvc", f"not valid JSON: {exc}", file=file)]
    spec, problems = spec_from_mapping(document, file)
    if spec is None:
        return [Problem("deploy.winsvc", p.message, path=p.path, file=file) for p in problems]

    def add(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem("deploy.winsvc", message, path=key, file=file, hint=hint))

    expected = {
        "name": layout.service_name,
        "python": layout.python_path,
        "account": _ACCOUNT,
        "working_directory": layout.state_dir,
        "log": f"{layout.logs_dir}\\service-host.log",
    }
    for key, wanted in expected.items():
        if getattr(spec, key) != wanted:
            add(key, f"{key} is {getattr(spec, key)!r}, but the answers call for {wanted!r}", "copier update")
    if spec.restart_delay_sec != answers.restart_delay_sec:
        add(
            "restart_delay_sec",
            f"restart_delay_sec is {spec.restart_delay_sec}, the answers say {answers.restart_delay_sec}",
        )
    argv = spec.host_command()
    if split_windows_args(spec.image_path()) != argv:
        add("arguments", "the command line would not split back into the same arguments")
    check_invocation(
        parse_invocation(argv),
        {},
        answers,
        layout,
        collect(problems, file, None),
        env_file_option=True,
        host_flag="--scm",
    )
    return problems
