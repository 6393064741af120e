"""The template's answer rules (``_partials/answers.yml``), applied to a root's answers.

The rules file is the one definition of what each answer may be: copier.yml's validators
apply it through ``_partials/answers.jinja`` when a root is rendered, and this module applies
it to ``.copier-answers.yml`` for ``validate --deployment``. The wheel carries the file as
``schnitzel_stream/deploy/answers.yml`` (pyproject's ``force-include``); a source checkout
reads it from the template itself. ``tests/template/test_answer_rules.py`` runs a table of
hostile and valid answers through copier and through :func:`check_answer` and requires the
two to agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["check_answer", "load_rules"]

_PACKAGED = "answers.yml"
_IN_CHECKOUT = Path(__file__).resolve().parents[3] / "templates" / "deployment" / "_partials" / "answers.yml"


@functools.cache
def load_rules() -> Mapping[str, Sequence[Mapping[str, Any]]]:
    """The rules of every answer, from the package or, in a source checkout, the template."""
    import yaml

    packaged = resources.files(__package__ or "schnitzel_stream.deploy").joinpath(_PACKAGED)
    text = packaged.read_text(encoding="utf-8") if packaged.is_file() else _IN_CHECKOUT.read_text("utf-8")
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):  # pragma: no cover - the file ships with the package
        raise TypeError("answers.yml is not a mapping")
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
    return None
