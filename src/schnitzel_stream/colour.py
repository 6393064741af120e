"""The one decision whether text written to a stream gets colour, for every part that colours output.

The order is CPython's own (``_colorize.can_colorize`` in 3.13):

1. ``NO_COLOR`` set to anything but an empty string: never colour (no-color.org);
2. ``FORCE_COLOR`` set to anything but an empty string: colour, even into a pipe (force-color.org);
3. ``TERM=dumb``: no colour;
4. otherwise colour exactly when the stream is a terminal.

It sits at the package root because both the validate report (``graph``) and the log lines
(``runtime``) use it, and it needs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO


def use_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when text written to ``stream`` should carry colour (see the module docstring)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    if env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except ValueError:  # a closed stream
        return False


__all__ = ["use_colour"]
