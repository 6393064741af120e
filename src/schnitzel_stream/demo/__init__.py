"""The embedded demo graph that ``schnitzel-stream run`` runs when no graph is given.

It is a byte-for-byte copy of ``ops/graphs/synthetic_camera.yaml`` shipped as package data,
so the first command of the README works from an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

DEMO_GRAPH_NAME = "synthetic_camera.yaml"


def demo_graph() -> Traversable:
    """The demo graph as a package resource (use ``importlib.resources.as_file`` for a path)."""
    return files(__name__) / DEMO_GRAPH_NAME
