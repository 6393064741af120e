"""The fast path of schema validation: a generated validator's yes, before any jsonschema.

Importing ``jsonschema`` costs about 0.13 s, more than the rest of ``validate`` together, and
most graphs are valid. ``_fast_validators/`` holds plain-Python validators that
``ops/ci/gen_fast_validators.py`` generated from the very same schemas (a test fails when they
are stale, and a differential test checks that they agree with jsonschema). Only their yes is
trusted: a no, any exception, or a schema without a generated validator (third-party plugins)
sends the caller to jsonschema, which finds and words every problem exactly as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from schnitzel_stream.nodes.base import NodeSpec

_PACKAGE = f"{__package__}._fast_validators"
#: Validators loaded so far by schema name; ``None`` when the name has none.
_LOADED: dict[str, Callable[[Any], object] | None] = {}


def fast_accepts(name: str, instance: Any) -> bool:
    """True only when the generated validator of schema ``name`` accepts ``instance``."""
    if name not in _LOADED:
        _LOADED[name] = _load(name)
    check = _LOADED[name]
    if check is None:
        return False
    try:
        check(instance)
    except Exception:  # noqa: BLE001  # a rejection or a failure alike: jsonschema decides
        return False
    return True


def config_schema_name(spec: NodeSpec) -> str | None:
    """The fast validator name for ``spec``'s config, or None unless it is the shipped spec itself.

    The generated validators were compiled from the built-in specs' schemas; a spec that only
    shares a built-in name (a test's, a plugin's) must not borrow them.
    """
    from schnitzel_stream.nodes.registry import builtin_specs

    return f"config.{spec.name}" if builtin_specs().get(spec.name) is spec else None


def _load(name: str) -> Callable[[Any], object] | None:
    try:
        index = importlib.import_module(_PACKAGE)
        module = index.MODULES.get(name)
        if module is None:
            return None
        check: Callable[[Any], object] = importlib.import_module(f"{_PACKAGE}.{module}").validate
    except Exception:  # noqa: BLE001  # a broken generated module must cost speed, never a verdict
        return None
    return check
