"""Secrets where they must not be: the answers file, the graph, the service file.

A secret is anything the template asked with ``secret: true``, any value of a secret-looking
variable in the env file, and any password written into a URL. They belong in the env file
only: the answers file is committed with the root, the graph is shared between devices, and
service files are world-readable on most systems.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from schnitzel_stream import redact
from schnitzel_stream.deploy.layout import SECRET_QUESTIONS
from schnitzel_stream.errors import Problem
from schnitzel_stream.graph.report import FileReport

#: ``password: literal`` / ``token: literal`` in YAML (a ${...} value or *_from_env key is fine).
_LITERAL_SECRET_KEY = re.compile(
    r"^\s*-?\s*(?P<key>[A-Za-z_-]*(?:password|passwd|token|secret|api_key|apikey)[A-Za-z_-]*)\s*:\s*"
    r"(?P<value>[^\s#][^#]*?)\s*(?:#.*)?$",
    re.IGNORECASE,
)


def scan_text(text: str, file: str, secrets: Mapping[str, str], *, what: str) -> list[Problem]:
    """Every line of ``text`` that holds a known secret value or a URL password."""
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for value, name in secrets.items():
            if value in line:
                problems.append(
                    Problem(
                        "deploy.secret-leak",
                        f"{what} holds the value of {name} from the env file",
                        file=file,
                        line=number,
                        hint="secrets belong only in config/schnitzel-stream.env",
                    )
                )
                break
        else:
            if any(not p.startswith("${") for p in redact.url_passwords(line, with_scheme_only=True)):
                problems.append(
                    Problem(
                        "deploy.secret-leak",
                        f"{what} holds a URL with a password",
                        file=file,
                        line=number,
                        hint="take the credentials out of the URL and put them in the env file",
                    )
                )
    return problems


def scan_answers(
    text: str, data: Mapping[str, object], file: str, secrets: Mapping[str, str]
) -> list[Problem]:
    """Secret questions stored in the answers file, plus any known secret value in it."""
    problems = [
        Problem(
            "deploy.secret-in-answers",
            f"the answers file stores the secret {key!r}",
            path=key,
            file=file,
            line=_key_line(text, key),
            hint="delete the line; copier never writes secrets here, they live in config/schnitzel-stream.env",
        )
        for key in SECRET_QUESTIONS
        if key in data
    ]
    problems.extend(scan_text(text, file, secrets, what="the answers file"))
    return problems


def scan_graph(text: str, file: str, secrets: Mapping[str, str]) -> list[Problem]:
    """Known secret values, URL passwords and literal ``password:``/``token:`` values in a graph."""
    problems = scan_text(text, file, secrets, what="the graph")
    flagged = {problem.line for problem in problems}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LITERAL_SECRET_KEY.match(line)
        if not match or number in flagged or match.group("key").lower().endswith("_from_env"):
            continue
        if "${" in match.group("value"):
            continue
        problems.append(
            Problem(
                "deploy.secret-in-graph",
                f"{match.group('key')} has a literal value in the graph",
                file=file,
                line=number,
                hint=f"use {match.group('key')}_from_env (or ${{VAR}}) with a variable of the env file",
            )
        )
    return problems


def masked_report(report: FileReport, secrets: Mapping[str, str]) -> FileReport:
    """``report`` with every known secret value and URL password masked in its quoted source
    and its messages: a report names where a secret leaked, it never repeats the secret."""

    def mask(text: str) -> str:
        for value in sorted(secrets, key=len, reverse=True):
            text = text.replace(value, redact.MASK)
        return redact.mask_url(text)

    problems = tuple(
        problem._replace(message=mask(problem.message), hint=mask(problem.hint) if problem.hint else None)
        for problem in report.problems
    )
    source = mask(report.source) if report.source is not None else None
    return report._replace(problems=problems, source=source)


def _key_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None
