"""Run a snippet of Python in a fresh interpreter from the repository root.

What a command imports only shows in a process that imported nothing before it, so the
start-up and import guards (tests/unit/test_startup.py, test_validate_imports.py and
tests/e2e/test_validate_cli.py) run their probes through here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fresh_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c code args...`` in the test's interpreter, cwd at the repository root, text output."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
