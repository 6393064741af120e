"""``python -m schnitzel_stream``: the runtime contract entry point.

``python -m`` puts the current directory first on ``sys.path``, so a ``yaml.py`` next to
the operator (or in a service's writable working directory) would shadow the real module.
Service files start Python isolated (``-I``), which never adds it. For a ``python -m``
typed without ``-I``, the entry takes the directory off ``sys.path`` before it imports
anything: only this package itself was looked up there (its ``__init__`` imports nothing).
The ``schnitzel-stream`` console script never has the directory on ``sys.path``.
"""

import os
import sys


def _drop_working_directory() -> None:
    if sys.flags.safe_path or not sys.path:
        return  # -I / -P / PYTHONSAFEPATH: Python added no such entry
    first = sys.path[0]
    # os and os.path only: they are loaded before the working directory joins sys.path, while
    # pathlib would import re, fnmatch ... from it.
    try:
        here = os.getcwd()  # noqa: PTH109
    except OSError:  # the working directory was removed: nothing can be imported from it
        here = None
    if first == "" or (here is not None and os.path.abspath(first) == here):  # noqa: PTH100
        del sys.path[0]


_drop_working_directory()

# Imported after the sys.path fix, on purpose.
from schnitzel_stream.cli.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
