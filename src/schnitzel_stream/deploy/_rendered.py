"""What the template renders for a root's answers, to compare the root's files with.

A service file or an install script edited by hand or by an attacker (a command added to
``install.sh``, which runs under sudo) is something the template would never have written.
The only sound way to tell is to render the template again for the root's own answers and
compare, byte for byte. The wheel carries the template (``schnitzel_stream/_template``,
pyproject's ``force-include``); a source checkout uses the template itself. It is rendered
the way copier renders it: a sandboxed Jinja environment, the template root as the loader's
root, ``keep_trailing_newline``, and the filters the templates use, with copier's
semantics (``tests/template/test_rendered_parity.py`` renders every OS x scope x profile
with copier and with this module and requires the same bytes).

Compared: the service file, the install and uninstall scripts and the lock export (errors)
and RUNBOOK.md (a warning: it is documentation). Not compared: ``config/`` (the operator
edits the graph and the env file) and the answers file.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schnitzel_stream.deploy._template import SUBDIRECTORY, template_root
from schnitzel_stream.errors import Problem

__all__ = ["compare_with_template", "render_file"]

_SUFFIX = ".jinja"
_WARN_ONLY = frozenset({"RUNBOOK.md"})


@functools.cache
def _environment(root: Path) -> Any:
    from jinja2 import FileSystemLoader
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(loader=FileSystemLoader(str(root)), keep_trailing_newline=True)
    env.filters.update(
        quote=lambda value: shlex.quote(str(value)),
        regex_search=_regex_search,
        regex_replace=lambda value, pattern, replacement: re.sub(pattern, replacement, str(value)),
        # The RUNBOOK parses the graph it renders, to draw it (jinja2-ansible-filters: safe_load).
        from_yaml=_from_yaml,
    )
    return env


def _from_yaml(value: str) -> Any:
    import yaml

    return yaml.safe_load(str(value))


def _regex_search(value: str, pattern: str) -> str | None:
    """copier's (jinja2-ansible-filters') regex_search: the match, or ``None``."""
    match = re.search(pattern, value)
    return match.group() if match else None


def render_file(name: str, answers: Mapping[str, Any]) -> str | None:
    """The text the template renders as ``name`` (a path in the root) for ``answers``.

    ``None`` when the template renders no such file (or is not at hand).
    """
    root = template_root()
    if root is None:
        return None
    env = _environment(root)
    context = {**answers, "_copier_conf": {"answers_file": ".copier-answers.yml"}}
    base = root / SUBDIRECTORY
    for source in sorted(base.rglob(f"*{_SUFFIX}")):
        relative = source.relative_to(base)
        if relative.parts[0].startswith("_"):
            continue  # _partials: included by other files, never rendered on their own
        rendered_parts = [env.from_string(part).render(context) for part in relative.parts]
        if any(not part for part in rendered_parts):
            continue
        if "/".join(rendered_parts).removesuffix(_SUFFIX) == name:
            template = env.get_template(f"{SUBDIRECTORY}/{relative.as_posix()}")
            return str(template.render(context))
    plain = base / name
    return plain.read_text(encoding="utf-8") if plain.is_file() else None


def compare_with_template(
    base: Path, names: tuple[str, ...], answers: Mapping[str, Any], version: str
) -> list[Problem]:
    """A problem for each of ``names`` in the root ``base`` that differs from the template's."""
    if template_root() is None:
        return [
            Problem(
                "deploy.template",
                "the template is not at hand, so the service file and scripts were not compared with it",
                file=str(base),
                severity="warning",
            )
        ]
    commit = answers.get("_commit")
    # A root rendered from another template version legitimately differs: a warning then. The
    # same release, or a commit after it (git describe: v1.2.0-5-gabc1234), must match.
    same_version = commit is None or str(commit) == f"v{version}" or str(commit).startswith(f"v{version}-")
    problems: list[Problem] = []
    for name in names:
        path = base / name
        try:
            # CRLF from a Windows checkout is no change; a lone CR is (PowerShell ends a line there).
            found = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            continue  # a missing or unreadable file has its own report
        wanted = render_file(name, answers)
        if wanted is None or found == wanted:
            continue
        line, got_line, wanted_line = _first_difference(found, wanted)
        warning = name in _WARN_ONLY or not same_version
        why = (
            f" (the root was rendered from template {commit}; this is schnitzel-stream {version})"
            if not same_version
            else ""
        )
        problems.append(
            Problem(
                "deploy.not-rendered",
                f"{name} is not what the template renders for these answers{why}: "
                f"line {line} is {got_line!r}, the template writes {wanted_line!r}",
                file=str(path),
                line=line,
                severity="warning" if warning else "error",
                hint="render it again (copier update, or copier copy with the same answers); "
                "a hand-edited service file or install script is not trusted",
            )
        )
    return problems


def _first_difference(found: str, wanted: str) -> tuple[int, str, str]:
    got_lines, wanted_lines = found.splitlines(), wanted.splitlines()
    for number, (got, want) in enumerate(zip(got_lines, wanted_lines, strict=False), start=1):
        if got != want:
            return number, got[:120], want[:120]
    number = min(len(got_lines), len(wanted_lines)) + 1
    got_line = got_lines[number - 1] if number <= len(got_lines) else "<end of file>"
    wanted_line = wanted_lines[number - 1] if number <= len(wanted_lines) else "<end of file>"
    return number, got_line[:120], wanted_line[:120]
