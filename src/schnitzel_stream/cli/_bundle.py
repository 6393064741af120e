"""``schnitzel-stream bundle ROOT``: put every wheel a device needs into ``ROOT/wheels``."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TextIO

if TYPE_CHECKING:
    from schnitzel_stream.deploy.bundle import BundleResult


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Put into ROOT/wheels the schnitzel-stream wheel of the commit the root's template came "
        "from (.copier-answers.yml _commit) and every wheel of ROOT/requirements.lock.txt for the "
        "root's target OS, each checked against the lock's hashes, plus manifest.json with every "
        "file's sha256. The install scripts then install with no index at all (--no-index "
        "--require-hashes), so an air-gapped device installs. The project wheel is built with uv "
        "from a git checkout that has the commit (--source, the root's _src_path, or the checkout "
        "this command runs from), or given with --wheel and checked against the commit. Exit code "
        "0 when the bundle is complete, 1 when it cannot be made (the previous bundle stays), 2 "
        "for usage errors."
    )
    parser.add_argument("root", metavar="ROOT", help="the deployment root copier rendered")
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="TAG",
        help=(
            "a device to bundle for, repeatable: linux-x86_64, linux-aarch64 (Raspberry Pi OS 64-bit), "
            "macos-arm64, macos-x86_64, windows-amd64, or a wheel platform tag such as "
            "manylinux_2_17_aarch64 (default: the common CPU of the root's OS)"
        ),
    )
    parser.add_argument(
        "--python", metavar="X.Y", help="the device's CPython version (default: this interpreter's)"
    )
    parser.add_argument(
        "--wheel", type=Path, metavar="FILE", help="use this schnitzel-stream wheel instead of building it"
    )
    parser.add_argument(
        "--source", type=Path, metavar="DIR", help="the git checkout to build schnitzel-stream from"
    )
    parser.add_argument(
        "--index-url",
        metavar="URL",
        default=None,
        help="the package index to download from (default: https://pypi.org/simple/)",
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="keep downloaded wheels here (default: the user cache)"
    )
    cache.add_argument("--no-cache", action="store_true", help="download every wheel again")
    parser.set_defaults(handler=bundle_command)


def bundle_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.deploy.bundle import BundleOptions, bundle, default_cache_dir

    options = BundleOptions(
        root=Path(args.root),
        platforms=tuple(args.platform),
        python=args.python,
        wheel=args.wheel,
        source=args.source,
        index_url=args.index_url or "https://pypi.org/simple/",
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
    )
    if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
        with _RichProgress() as progress:
            result = bundle(options, progress)
    else:
        result = bundle(options, _PlainProgress(sys.stderr))
    _summary(result, sys.stdout)
    return 0


def _summary(result: BundleResult, stream: TextIO) -> None:
    manifest = result.manifest
    stream.write(
        f"bundle: {result.file_count} files, {_megabytes(result.total_bytes)} in {result.directory} "
        f"({', '.join(manifest.targets)}, CPython {manifest.python}; "
        f"schnitzel-stream {manifest.project.version}, {result.how})\n"
    )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


class _PlainProgress:
    """One line per finished file: for CI logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._files = 0
        self._done = 0

    def note(self, message: str) -> None:
        with self._lock:
            self._stream.write(f"bundle: {message}\n")
            self._stream.flush()

    def begin(self, files: int, total_bytes: int | None) -> None:
        self._files = files
        size = f", {_megabytes(total_bytes)}" if total_bytes else ""
        self.note(f"{files} files to collect{size}")

    def advance(self, filename: str, done: int, size: int | None) -> None:
        return None

    def finished(self, filename: str, size: int, cached: bool) -> None:
        with self._lock:
            self._done += 1
            origin = " (cache)" if cached else ""
            self._stream.write(f"  [{self._done}/{self._files}] {filename} {_megabytes(size)}{origin}\n")
            self._stream.flush()


class _RichProgress:
    """A bar for the whole bundle and one per download, on a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            console=Console(stderr=True),
        )
        self._overall: Any = None
        self._files = 0
        self._done = 0
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def note(self, message: str) -> None:
        self._progress.console.print(f"bundle: {message}", highlight=False)

    def begin(self, files: int, total_bytes: int | None) -> None:
        self._files = files
        self._done = 0
        self._overall = self._progress.add_task("wheels", total=files, detail=f"0/{files} files")

    def advance(self, filename: str, done: int, size: int | None) -> None:
        with self._lock:
            task = self._tasks.get(filename)
            if task is None:
                task = self._progress.add_task(f"  {filename[:48]}", total=size, detail="")
                self._tasks[filename] = task
        total = f"/{_megabytes(size)}" if size else ""
        self._progress.update(task, completed=done, detail=f"{done / 1_000_000:.1f}{total}")

    def finished(self, filename: str, size: int, cached: bool) -> None:
        with self._lock:
            task = self._tasks.pop(filename, None)
            self._done += 1
            done = self._done
        if task is not None:
            self._progress.remove_task(task)
        if self._overall is not None:
            self._progress.update(self._overall, completed=done, detail=f"{done}/{self._files} files")
