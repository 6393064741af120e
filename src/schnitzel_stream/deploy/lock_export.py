"""The template's ``requirements.lock.txt``: a hash-pinned, runtime-only export of ``uv.lock``.

Install scripts build a deployment's virtual environment from it with ``--require-hashes``.
This module knows how the export is made (:data:`EXPORT_COMMAND`, run by ``nox -s
lock_export``), reads it back, and compares it with what a virtual environment (or the running
interpreter) has installed, so that ``validate --deployment`` and ``doctor`` can tell an
environment that drifted from the lock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from schnitzel_stream.errors import Problem

#: The one command that makes the export; the staleness test runs it and compares.
EXPORT_COMMAND: tuple[str, ...] = (
    "uv",
    "export",
    "--frozen",
    "--no-dev",
    "--no-emit-project",
    "--format",
    "requirements-txt",
)
TEMPLATE_LOCK = Path("templates") / "deployment" / "requirements.lock.txt"

_REQUIREMENT = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)\s*(?:;(?P<marker>.*))?"
)
_HASH = re.compile(r"--hash=(?P<hash>sha256:[0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One pinned requirement: normalized name, version, optional marker, hashes, line."""

    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Drift:
    """A package whose installed version differs from the lock (``installed`` None: missing)."""

    name: str
    locked: str
    installed: str | None


def normalize(name: str) -> str:
    """PEP 503 name normalization (``Typing_Extensions`` -> ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock_export(text: str, file: str) -> tuple[list[LockedPackage], list[Problem]]:
    """The pinned packages of an export; every line that is not ``name==version`` with hashes is a problem."""
    packages: list[LockedPackage] = []
    problems: list[Problem] = []
    for line_number, logical in _logical_lines(text):
        hashes = tuple(found.group("hash") for found in _HASH.finditer(logical))
        match = _REQUIREMENT.fullmatch(_HASH.sub("", logical).strip())
        if not match:
            problems.append(
                Problem(
                    "lock.syntax", f"not a pinned requirement: {logical[:60]!r}", file=file, line=line_number
                )
            )
            continue
        if not hashes:
            problems.append(
                Problem(
                    "lock.unhashed",
                    f"{match.group('name')} has no --hash: install scripts use --require-hashes",
                    file=file,
                    line=line_number,
                    hint="regenerate it: nox -s lock_export",
                )
            )
        marker = (match.group("marker") or "").strip() or None
        packages.append(
            LockedPackage(normalize(match.group("name")), match.group("version"), marker, hashes, line_number)
        )
    if not packages and not problems:
        problems.append(Problem("lock.empty", "the lock export pins no package", file=file))
    return packages, problems


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Requirement lines with their ``\\`` continuations joined and comments dropped."""
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        joined = " ".join(part for part in buffer if part)
        buffer = []
        if joined:
            yield start, joined
    joined = " ".join(part for part in buffer if part)
    if joined:
        yield start, joined


def applicable(
    packages: Iterable[LockedPackage], python_version: str | None = None
) -> dict[str, LockedPackage]:
    """The packages whose marker holds on this machine (for ``python_version``); unreadable markers count."""
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    overrides: dict[str, str] = {}
    if python_version:
        overrides = {
            "python_version": ".".join(python_version.split(".")[:2]),
            "python_full_version": python_version,
        }
    chosen: dict[str, LockedPackage] = {}
    for package in packages:
        try:
            applies = package.marker is None or Marker(package.marker).evaluate(overrides)
        except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
            applies = True
        if applies:
            chosen[package.name] = package
    return chosen


def drift(locked: Mapping[str, LockedPackage], installed: Mapping[str, str]) -> list[Drift]:
    """Locked packages that are missing or at another version (extra installed packages are fine)."""
    found: list[Drift] = []
    for name, package in sorted(locked.items()):
        version = installed.get(name)
        if version != package.version:
            found.append(Drift(name, package.version, version))
    return found


def venv_site_packages(venv: Path) -> tuple[Path | None, str | None]:
    """The site-packages directory of a virtual environment and its Python version (from pyvenv.cfg)."""
    version: str | None = None
    config = venv / "pyvenv.cfg"
    try:
        for line in config.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in ("version_info", "version"):
                version = value.strip()
                break
    except OSError:
        return None, None
    windows = venv / "Lib" / "site-packages"
    if windows.is_dir():
        return windows, version
    found = sorted((venv / "lib").glob("python3*/site-packages"))
    return (found[0] if found else None), version


def installed_in(site_packages: Path) -> dict[str, str]:
    """Normalized name to version of every distribution in a site-packages directory."""
    installed: dict[str, str] = {}
    for info in site_packages.glob("*.dist-info"):
        name, sep, version = info.name[: -len(".dist-info")].rpartition("-")
        if sep:
            installed[normalize(name)] = version
    return installed


def installed_here() -> dict[str, str]:
    """Normalized name to version of every distribution the running interpreter sees."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalize(name), dist.version)
    return found
