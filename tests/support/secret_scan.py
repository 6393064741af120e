"""A pytest plugin: after the session, no file the tests wrote may hold a known test secret.

Every log file, run report, validate report, rendered deployment root, answers file, queue
file and captured output that the suite writes goes under pytest's base temporary directory
(``tmp_path``, ``tmp_path_factory``). Under xdist every worker's base directory sits inside
the controller's (``<basetemp>/popen-gw0``, ...), so the controller scans that one tree once
the workers are done; without xdist the single process scans its own.

A hit fails the session (exit status 1) and the terminal summary lists each file and secret.
Files that hold a secret on purpose are exempt (see :mod:`tests.support.secrets`): ``*.env``
files, and files declared with ``allow_secret_file``. Files over 5 MB are skipped (the suite
writes no such text; large files are test data such as oversize payloads), symlinks are not
followed, and files are read as bytes, so SQLite queue files and binary logs are searched too.

Registered by ``pytest_plugins`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.secrets import ALLOW_MARKER, ENV_SUFFIX, find_secrets

MAX_FILE_BYTES = 5 * 1000 * 1000


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the scan found: ``hits`` maps a file to the names of the secrets in it."""

    root: Path
    files: int
    seconds: float
    hits: dict[Path, list[str]]


_RESULT = pytest.StashKey[ScanResult]()


def scan_tree(root: Path) -> ScanResult:
    """Search every regular file below ``root`` for the known secrets (exemptions applied)."""
    started = time.monotonic()
    hits: dict[Path, list[str]] = {}
    files = 0
    for directory, _subdirs, names in os.walk(root):  # os.walk does not follow directory links
        here = Path(directory)
        allowed = _allowed_names(here)
        for name in names:
            path = here / name
            if name == ALLOW_MARKER or name.endswith(ENV_SUFFIX) or name in allowed:
                continue
            try:
                info = path.lstat()
                if not path.is_file() or path.is_symlink() or info.st_size > MAX_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue  # removed while we looked (a test's cleanup), or a socket
            files += 1
            found = find_secrets(data)
            if found:
                hits[path] = found
    return ScanResult(root, files, time.monotonic() - started, hits)


def _allowed_names(directory: Path) -> set[str]:
    marker = directory / ALLOW_MARKER
    try:
        return set(marker.read_text(encoding="utf-8").split())
    except OSError:
        return set()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller scans once every worker is done
    factory = getattr(config, "_tmp_path_factory", None)
    # Only a base directory this session created; asking for one now would make a new one.
    basetemp: Path | None = getattr(factory, "_basetemp", None)
    if basetemp is None or not basetemp.is_dir():
        return
    result = scan_tree(basetemp)
    config.stash[_RESULT] = result
    if result.hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    result = config.stash.get(_RESULT, None)
    if result is None:
        return
    if not result.hits:
        if terminalreporter.verbosity > 0:
            terminalreporter.write_line(
                f"secret scan: {result.files} files under {result.root} hold no known test secret "
                f"({result.seconds:.1f}s)"
            )
        return
    terminalreporter.section("secret scan", red=True)
    terminalreporter.write_line(
        f"FAILED: {len(result.hits)} file(s) written by the tests hold a known test secret "
        "(tests/support/secrets.py); secrets belong only in *.env files:",
        red=True,
    )
    for path, names in sorted(result.hits.items()):
        terminalreporter.write_line(f"  {path}: {', '.join(names)}", red=True)
