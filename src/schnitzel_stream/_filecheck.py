"""What is wrong with a path a node writes or reads, said in words an operator can act on.

A queue file, a JSONL file or a video file named by a graph can turn out to be a directory,
a FIFO, a device, or to sit under a directory the service cannot write. Left to SQLite or
``open()``, that surfaces as ``disk I/O error`` with no path, or as a read that blocks
forever on a FIFO. These checks run before anything touches the path:

- ``static=True`` (what ``validate`` can tell on any machine): the path exists but is not a
  regular file, or an existing ancestor is not a directory. Permissions are left out: they
  depend on the user that runs the graph, often not the one that validates it.
- ``static=False`` (at run start, as the user that runs the graph): also a file that cannot
  be read or written, a missing file that must exist, and a directory the file cannot be
  created in. These are configuration errors (exit 78).

It needs nothing from the package, so the state layer and the nodes both use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["input_file_problem", "output_file_problem"]


def _not_a_file(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None  # an ancestor is a file: reported by the ancestor walk
    except OSError:
        return None


def output_file_problem(
    path: str | os.PathLike[str], *, static: bool, side_files: bool = False
) -> str | None:
    """Why the file at ``path`` cannot be written (created if missing), or None.

    ``side_files``: the node also creates files next to it (SQLite's ``-wal`` and ``-shm``,
    rotated JSONL files), so with ``static=False`` its directory must be writable too.
    """
    file = Path(path)
    found = _stat(file)
    if found is not None:
        wrong = _not_a_file(found.st_mode)
        if wrong is not None:
            return wrong
        if not static and not os.access(file, os.R_OK | os.W_OK):
            return "exists but cannot be read and written by this user"
    ancestor = file.parent
    while _stat(ancestor) is None and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    ancestor_stat = _stat(ancestor)
    if ancestor_stat is not None and not stat.S_ISDIR(ancestor_stat.st_mode):
        return f"cannot be created: {ancestor} is not a directory"
    needs_directory = found is None or side_files
    if (
        not static
        and needs_directory
        and ancestor_stat is not None
        and not os.access(ancestor, os.W_OK | os.X_OK)
    ):
        if found is None:
            return f"does not exist and cannot be created: directory {ancestor} is not writable by this user"
        return f"needs files next to it, but directory {ancestor} is not writable by this user"
    return None


def input_file_problem(path: str | os.PathLike[str], *, static: bool) -> str | None:
    """Why the file at ``path`` cannot be read, or None (``static``: only the wrong kinds)."""
    file = Path(path)
    found = _stat(file)
    if found is None:
        return None if static else "does not exist"
    wrong = _not_a_file(found.st_mode)
    if wrong is not None:
        return wrong
    if not static and not os.access(file, os.R_OK):
        return "cannot be read by this user"
    return None
