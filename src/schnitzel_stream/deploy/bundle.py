"""``schnitzel-stream bundle ROOT``: make a deployment root self-contained.

After a bundle, ``ROOT/wheels/`` holds every wheel the device installs, so the install
scripts run with no index at all (``--no-index --require-hashes``) and an air-gapped device
installs:

- the schnitzel-stream wheel of the commit the template came from (:mod:`._project_wheel`);
- every wheel of ``requirements.lock.txt`` for the root's OS and the chosen CPUs and Python
  (:mod:`._wheel_targets`), each picked and checked by the lock's own hashes
  (:mod:`._wheel_index`); environment markers are evaluated for the device, not for the
  machine that bundles (``pywin32; sys_platform == 'win32'`` belongs in a Windows bundle
  made on Linux);
- ``manifest.json``: the template commit, the targets, the Python, and name, version, size
  and sha256 of every file; and ``project.txt``: the project wheel as a hash-pinned
  requirement, which the install scripts add to the lock (:mod:`._bundle_manifest`).

The new ``wheels/`` is assembled beside the old one and swapped in at the end, so a failed
bundle leaves the previous one as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from schnitzel_stream import __version__
from schnitzel_stream.deploy import _project_wheel, _wheel_index
from schnitzel_stream.deploy._bundle_manifest import (
    MANIFEST_FILE,
    PROJECT_REQUIREMENT_FILE,
    WHEELS_DIR,
    BundledFile,
    Manifest,
    read_manifest,
    write_manifest,
)
from schnitzel_stream.deploy._wheel_targets import Target, default_target, parse_python, parse_target
from schnitzel_stream.deploy.layout import ANSWERS_FILE, LOCK_FILE
from schnitzel_stream.deploy.lock_export import LockedPackage, parse_lock_export
from schnitzel_stream.errors import BundleError, Problem
from schnitzel_stream.paths import OS_NAMES, OsName

__all__ = [
    "MANIFEST_FILE",
    "PROJECT_REQUIREMENT_FILE",
    "WHEELS_DIR",
    "BundleOptions",
    "BundleProgress",
    "BundleResult",
    "Manifest",
    "bundle",
    "default_cache_dir",
    "read_manifest",
]

_MAX_ANSWERS = 64 * 1024
_PARALLEL = 4


class BundleProgress(Protocol):
    """What the CLI shows while a bundle is made (called from worker threads too)."""

    def note(self, message: str) -> None: ...

    def begin(self, files: int, total_bytes: int | None) -> None: ...

    def advance(self, filename: str, done: int, size: int | None) -> None: ...

    def finished(self, filename: str, size: int, cached: bool) -> None: ...


@dataclass(frozen=True, slots=True)
class BundleOptions:
    """``platforms`` and ``python`` default to the root's OS and the running Python."""

    root: Path
    platforms: Sequence[str] = ()
    python: str | None = None
    wheel: Path | None = None
    source: Path | None = None
    index_url: str = _wheel_index.DEFAULT_INDEX
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class BundleResult:
    directory: Path
    manifest: Manifest
    how: str

    @property
    def total_bytes(self) -> int:
        return self.manifest.total_bytes()

    @property
    def file_count(self) -> int:
        return self.manifest.file_count()


def bundle(options: BundleOptions, progress: BundleProgress) -> BundleResult:
    """Fill ``ROOT/wheels`` as the module docstring says; raises :class:`BundleError`."""
    root = options.root
    answers = _answers(root)
    root_os = answers.get("target_os")
    if root_os not in OS_NAMES:
        raise BundleError(
            Problem(
                "bundle.root",
                f"target_os {root_os!r} is not one of {', '.join(OS_NAMES)}",
                file=str(root / ANSWERS_FILE),
            )
        )
    os_name: OsName = root_os
    targets = _targets(options.platforms, os_name)
    python = parse_python(options.python) if options.python else _running_python()
    packages = _lock(root)
    progress.note(f"bundling for {', '.join(t.label for t in targets)}, CPython {python}")

    with tempfile.TemporaryDirectory(prefix="schnitzel-bundle-") as scratch:
        template_commit = answers.get("_commit")
        progress.note(f"schnitzel-stream wheel for template commit {template_commit}")
        project = _project_wheel.project_wheel(
            str(template_commit) if template_commit else None,
            str(answers["_src_path"]) if answers.get("_src_path") else None,
            wheel=options.wheel,
            source=options.source,
            workdir=Path(scratch),
        )
        progress.note(f"schnitzel-stream {project.version}: {project.how}")
        chosen, sizes = _choose_all(packages, targets, python, options.index_url)
        staging = root / ".wheels.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            files = _fetch_all(chosen, sizes, staging, options.cache_dir, progress)
            project_file = _add_project(project.path, staging, progress)
            manifest = Manifest(
                template_commit=str(template_commit),
                commit=project.commit,
                python=python,
                targets=tuple(t.label for t in targets),
                project=project_file,
                files=tuple(sorted(files, key=lambda f: f.file)),
                created_by=f"schnitzel-stream {__version__}",
            )
            write_manifest(staging, manifest)
            directory = _swap_in(root, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return BundleResult(directory, manifest, project.how)


def _answers(root: Path) -> dict[str, Any]:
    import yaml

    path = root / ANSWERS_FILE
    if not root.is_dir():
        raise BundleError(Problem("bundle.root", "no such directory", file=str(root)))
    try:
        data = path.read_bytes()
    except OSError:
        raise BundleError(
            Problem(
                "bundle.root",
                f"not a deployment root: {ANSWERS_FILE} is missing",
                file=str(path),
                hint="render one with: copier copy <template> ROOT",
            )
        ) from None
    try:
        loaded = yaml.safe_load(data[:_MAX_ANSWERS].decode("utf-8", errors="replace"))
    except yaml.YAMLError:
        loaded = None
    if not isinstance(loaded, dict) or len(data) > _MAX_ANSWERS:
        raise BundleError(Problem("bundle.root", "the answers file is not a YAML mapping", file=str(path)))
    return loaded


def _targets(platforms: Sequence[str], os_name: OsName) -> list[Target]:
    chosen: list[Target] = []
    for spec in platforms or ():
        target = parse_target(spec, os_name)
        if target.label not in {t.label for t in chosen}:
            chosen.append(target)
    return chosen or [default_target(os_name)]


def _running_python() -> str:
    import sys

    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _lock(root: Path) -> list[LockedPackage]:
    path = root / LOCK_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise BundleError(
            Problem(
                "bundle.lock",
                f"{LOCK_FILE} is missing or unreadable",
                file=str(path),
                hint="copier update restores it",
            )
        ) from None
    packages, problems = parse_lock_export(text, str(path))
    if problems:
        raise BundleError(problems)
    return packages


def _choose_all(
    packages: list[LockedPackage], targets: list[Target], python: str, index_url: str
) -> tuple[list[_wheel_index.Chosen], dict[str, int | None]]:
    """One wheel per package and target whose markers hold there; shared files once."""
    from packaging.markers import InvalidMarker, Marker

    chosen: dict[str, _wheel_index.Chosen] = {}
    pages: dict[str, list[_wheel_index.IndexFile]] = {}
    index = _wheel_index.Index()
    # The index page of a package is fetched once, whatever the number of targets.
    for target in targets:
        environment = target.marker_environment(python)
        tags = target.tags(python)
        for package in packages:
            try:
                wanted = package.marker is None or Marker(package.marker).evaluate(environment)
            except InvalidMarker:
                raise BundleError(
                    Problem(
                        "bundle.lock",
                        f"{package.name}: invalid marker {package.marker!r}",
                        line=package.line,
                    )
                ) from None
            if not wanted:
                continue
            if package.name not in pages:
                pages[package.name] = _wheel_index.fetch_index_page(index, index_url, package.name)
            pick = _wheel_index.choose(
                package, pages[package.name], tags, f"{target.label}, CPython {python}"
            )
            chosen.setdefault(pick.filename, pick)
    sizes = {name: _size(pages, pick) for name, pick in chosen.items()}
    return list(chosen.values()), sizes


def _size(pages: dict[str, list[_wheel_index.IndexFile]], pick: _wheel_index.Chosen) -> int | None:
    for file in pages.get(pick.package.name, []):
        if file.filename == pick.filename:
            return file.size
    return None


def _fetch_all(
    chosen: list[_wheel_index.Chosen],
    sizes: dict[str, int | None],
    staging: Path,
    cache: Path | None,
    progress: BundleProgress,
) -> list[BundledFile]:
    known = [size for size in sizes.values()]
    progress.begin(len(chosen) + 1, sum(s for s in known if s) if all(known) else None)

    index = _wheel_index.Index()

    def one(pick: _wheel_index.Chosen) -> BundledFile:
        dest = staging / pick.filename
        size = sizes.get(pick.filename)
        cached = _wheel_index.fetch(
            index, pick, cache, dest, lambda done: progress.advance(pick.filename, done, size)
        )
        actual = dest.stat().st_size
        progress.finished(pick.filename, actual, cached)
        return BundledFile(pick.filename, pick.package.name, pick.package.version, pick.sha256, actual)

    with ThreadPoolExecutor(max_workers=_PARALLEL) as pool:
        futures = [pool.submit(one, pick) for pick in chosen]
        return [future.result() for future in futures]


def _add_project(wheel: Path, staging: Path, progress: BundleProgress) -> BundledFile:
    from packaging.utils import parse_wheel_filename

    dest = staging / wheel.name
    shutil.copyfile(wheel, dest)
    size = dest.stat().st_size
    progress.finished(dest.name, size, False)
    _name, version, _build, _tags = parse_wheel_filename(wheel.name)
    return BundledFile(dest.name, _project_wheel.PROJECT, str(version), _wheel_index.sha256_file(dest), size)


def _swap_in(root: Path, staging: Path) -> Path:
    wheels = root / WHEELS_DIR
    old = root / ".wheels.old"
    shutil.rmtree(old, ignore_errors=True)
    if wheels.exists():
        wheels.replace(old)
    staging.replace(wheels)
    shutil.rmtree(old, ignore_errors=True)
    return wheels


def default_cache_dir() -> Path:
    """The user's cache directory for downloaded wheels (never inside a repository)."""
    import sys

    home = Path.home()
    if sys.platform == "win32":
        base = (
            Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "SchnitzelStream" / "Cache"
        )
    elif sys.platform == "darwin":
        base = home / "Library" / "Caches" / "schnitzel-stream"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "schnitzel-stream"
    return base / "wheels"
