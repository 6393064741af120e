"""Node classes a node package names without importing them: reading a spec loads no node.

``validate`` reads each built-in node package's ``SPECS`` through the registry. The specs
(schema, packet kinds, ``check``) live in the package's light ``_spec`` module; the node
classes behind them pull in logging, sockets, sqlite3 or OpenCV's glue. So the package
imports its specs eagerly and names its classes through a module ``__getattr__`` (PEP 562):
``schnitzel_stream.nodes.http:HttpJsonSink``, a published import path, and
``from schnitzel_stream.nodes.http import HttpJsonSink`` import the implementation only when
something asks for the class.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose submodule ``homes[name]`` defines ``name``."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        # Bound on the package from now on, so later lookups do not come back here.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
