"""The exit codes DESIGN.md fixes, defined once; ``cli/__main__.py`` maps errors to them."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # EX_CONFIG: service files stop restart loops on this code

__all__ = ["EXIT_CONFIG", "EXIT_OK", "EXIT_PROBLEMS", "EXIT_USAGE"]
