"""The template's answer rules (``_partials/answers.json``), applied to a root's answers.

The rules file is the one definition of what each answer may be: copier.yml's validators
apply it through ``_partials/answers.jinja`` when a root is rendered, and this module applies
it to ``.copier-answers.yml`` for ``validate --deployment``, from the template the wheel
carries (or the checkout's own, :mod:`._template`). ``tests/template/test_answer_rules.py`` runs a table of
hostile and valid answers through copier and through :func:`check_answer` and requires the
two to agree.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from schnitzel_stream.deploy._template import SUBDIRECTORY, template_root

__all__ = ["check_answer", "load_rules"]


@functools.cache
def load_rules() -> Mapping[str, Sequence[Mapping[str, Any]]]:
    """The rules of every answer, from the template's ``_partials/answers.json``."""
    root = template_root()
    if root is None:  # pragma: no cover - the wheel always carries the template
        raise FileNotFoundError("the deployment template is not installed with schnitzel-stream")
    loaded = json.loads((root / SUBDIRECTORY / "_partials" / "answers.json").read_text("utf-8"))
    loaded.pop("_about", None)
    if not isinstance(loaded, dict):  # pragma: no cover - the file ships with the package
        raise TypeError("answers.json is not a mapping")
    return loaded


def check_answer(name: str, value: object, target_os: str) -> str | None:
    """The message of the first rule ``value`` fails, or ``None`` when it is valid.

    The same order and semantics as the ``check`` macro of ``_partials/answers.jinja``.
    """
    for rule in load_rules().get(name, ()):
        if "os" in rule and target_os not in rule["os"]:
            continue
        message = str(rule["message"])
        if "match" in rule:
            if not isinstance(value, str) or re.search(rule["match"], value) is None:
                return message
        elif "forbid" in rule:
            if not isinstance(value, str) or re.search(rule["forbid"], value) is not None:
                return message
        elif "not_in" in rule:
            if not isinstance(value, str) or value.lower() in rule["not_in"]:
                return message
        elif "range" in rule:
            low, high = rule["range"]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                return message
        elif "ranges" in rule and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not any(low <= value <= high for low, high in rule["ranges"])
        ):
            return message
    return None
