"""Corpora of broken files whose headers say what must be reported, and the CLI they run through.

A corpus file starts with lines such as::

    # Invalid: <what is wrong, in words>
    # expect: code=<problem code> path=<JSON path, or -> line=<line, or -> [file=<other file>]

:func:`expectations` reads them; :func:`reported` finds a matching line in a text report
(``FILE:LINE:COL: severity: PATH: message [code]``). ``file=`` names another file of the
corpus directory (a graph a test file names), for problems located there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Variables that would change what a corpus reports, removed from every child's environment.
SCRUB = ("SCHNITZEL_STREAM_PLUGIN_ALLOWLIST", "NO_COLOR", "FORCE_COLOR")


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m schnitzel_stream ARGS`` with pipes (so never a terminal)."""
    base = {key: value for key, value in os.environ.items() if key not in SCRUB}
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
        cwd=cwd,
        check=False,
    )


@dataclass(frozen=True)
class Expect:
    code: str
    path: str
    line: str
    file: Path


def expectations(path: Path) -> list[Expect]:
    found = []
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if line.startswith("# expect: "):
            fields = dict(item.split("=", 1) for item in line[len("# expect: ") :].split())
            file = path.parent / fields["file"] if "file" in fields else path
            found.append(Expect(fields["code"], fields["path"], fields["line"], file))
    return found


def reported(output: str, expect: Expect) -> bool:
    """True when a line of ``output`` reports ``expect`` (same file, line, JSON path, code)."""
    location = f"{expect.file}:{expect.line}:" if expect.line != "-" else f"{expect.file}: "
    for line in output.splitlines():
        if not line.startswith(location) or f"[{expect.code}]" not in line:
            continue
        if expect.path == "-" or f": {expect.path}: " in line:
            return True
    return False
