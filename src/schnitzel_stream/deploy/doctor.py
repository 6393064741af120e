"""``schnitzel-stream doctor``: is this machine ready to run a deployment?

One :class:`Check` per line, each with a fix hint when it fails: the Python version, the
installed packages against the lock export, OpenCV's FFmpeg backend, the path classes and
free disk space, ``NOTIFY_SOCKET``, the deployment root itself and, with ``network=True``,
whether the camera, backend and broker of the deployment's graph answer on TCP.

Unlike ``validate --deployment``, which checks files and can run anywhere, doctor checks
the machine it runs on, with the interpreter it runs under: run it with the deployment's
own virtual environment.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from schnitzel_stream.deploy import lock_export
from schnitzel_stream.deploy._check import Check
from schnitzel_stream.deploy.layout import ANSWERS_FILE, LOCK_FILE, Layout, answers_from_mapping, layout_for
from schnitzel_stream.paths import PATH_CLASSES, PathSet, current_os

__all__ = ["Check", "DoctorOptions", "ok", "run_doctor"]

MIN_PYTHON = (3, 11)
DISK_FAIL_BYTES = 100 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DoctorOptions:
    """``deployment``: a root to check against; ``paths``: the path classes when there is none."""

    deployment: str | None = None
    network: bool = False
    timeout: float = 2.0
    paths: PathSet | None = None


def run_doctor(options: DoctorOptions) -> list[Check]:
    """Every check, in a fixed order; none raises."""
    layout = _layout(options.deployment)
    checks = [check_python(), check_packages(options.deployment), check_opencv()]
    dirs = _dirs(layout, options.paths)
    checks.extend(check_path(name, path) for name, path in dirs.items())
    if "state" in dirs:
        checks.append(check_disk(dirs["state"]))
    checks.append(check_notify_socket(os.environ.get("NOTIFY_SOCKET")))
    if options.deployment:
        checks.append(check_deployment(options.deployment))
    if options.network:
        from schnitzel_stream.deploy._doctor_network import check_network

        checks.extend(check_network(options.deployment, options.timeout))
    return checks


def ok(checks: list[Check]) -> bool:
    return not any(check.status == "fail" for check in checks)


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    text = ".".join(str(part) for part in version)
    if version[:2] >= MIN_PYTHON:
        return Check("python", "ok", f"Python {text} ({sys.executable})")
    return Check(
        "python", "fail", f"Python {text} is too old", "install Python 3.11 or later and rebuild the venv"
    )


def check_packages(deployment: str | None) -> Check:
    """The running interpreter's packages against the root's lock export (or our own requirements)."""
    installed = lock_export.installed_here()
    if deployment:
        lock = Path(deployment) / LOCK_FILE
        try:
            packages, problems = lock_export.parse_lock_export(lock.read_text(encoding="utf-8"), str(lock))
        except OSError as exc:
            return Check(
                "packages",
                "fail",
                f"cannot read {lock}: {exc.strerror}",
                f"restore {LOCK_FILE} in the root: copier update (or render the root again)",
            )
        if problems:
            return Check(
                "packages",
                "fail",
                f"{LOCK_FILE} is damaged: {problems[0].one_line()}",
                f"restore {LOCK_FILE} in the root: copier update (or render the root again)",
            )
        found = lock_export.drift(lock_export.applicable(packages), installed)
        if not found:
            return Check(
                "packages", "ok", f"{len(lock_export.applicable(packages))} packages match {LOCK_FILE}"
            )
        listed = ", ".join(f"{d.name} {d.installed or 'missing'} (lock {d.locked})" for d in found[:4])
        more = f" and {len(found) - 4} more" if len(found) > 4 else ""
        return Check(
            "packages",
            "fail",
            f"{len(found)} differ from the lock: {listed}{more}",
            "rebuild the environment with the deployment's install script (it installs from the lock)",
        )
    from importlib.metadata import PackageNotFoundError, requires

    try:
        wanted = requires("schnitzel-stream") or []
    except PackageNotFoundError:
        return Check(
            "packages",
            "warn",
            "schnitzel-stream is not installed in this interpreter (running from a source checkout?)",
            "run doctor with the deployment's own interpreter (<install_dir>/venv/bin/python -m "
            "schnitzel_stream doctor), or pass --deployment ROOT to compare with its lock",
        )
    from packaging.requirements import Requirement

    # A requirement whose marker does not hold here (pywin32 off Windows) is not wanted here.
    needed = [Requirement(item) for item in wanted]
    names = [
        lock_export.normalize(req.name)
        for req in needed
        if req.marker is None or req.marker.evaluate({"extra": ""})
    ]
    missing = [name for name in names if name not in installed]
    if missing:
        return Check(
            "packages",
            "fail",
            f"missing: {', '.join(missing)}",
            "install from the lock: pip install --require-hashes",
        )
    return Check(
        "packages", "ok", f"{len(names)} requirements installed (pass --deployment to compare with a lock)"
    )


def check_opencv() -> Check:
    """OpenCV imports and has its FFmpeg backend (RTSP cameras and video files need it)."""
    hint = (
        "install opencv-python-headless from the lock export; distribution builds of OpenCV may lack FFmpeg"
    )
    try:
        import cv2
    except ImportError as exc:
        return Check("opencv", "fail", f"cannot import cv2: {exc}", hint)
    registry = getattr(cv2, "videoio_registry", None)
    has_ffmpeg = bool(registry and registry.hasBackend(cv2.CAP_FFMPEG))
    if has_ffmpeg:
        return Check("opencv", "ok", f"OpenCV {cv2.__version__} with the FFMPEG video backend")
    return Check("opencv", "fail", f"OpenCV {cv2.__version__} has no FFMPEG backend", hint)


def check_path(name: str, path: Path) -> Check:
    """``path`` is a writable directory, or can be created."""
    label = f"{name} dir"
    if path.is_dir():
        if os.access(path, os.W_OK):
            return Check(label, "ok", f"{path} is writable")
        return Check(
            label,
            "fail",
            f"{path} is not writable by this account",
            "run the install script again (it sets the owner), or run doctor as the service's account",
        )
    if path.exists():
        return Check(
            label,
            "fail",
            f"{path} exists but is not a directory",
            f"move {path} aside, or point ${{{name}}} elsewhere (--{name}-dir)",
        )
    parent = _existing_parent(path)
    if os.access(parent, os.W_OK):
        return Check(label, "ok", f"{path} does not exist yet; it can be created in {parent}")
    return Check(
        label,
        "fail",
        f"{path} does not exist and {parent} is not writable",
        f"run the install script (it creates {path}), or create it writable for this account",
    )


def check_disk(path: Path) -> Check:
    """Free space where the state (queues, events) goes."""
    target = _existing_parent(path) if not path.exists() else path
    free = shutil.disk_usage(target).free
    text = f"{free / (1 << 30):.1f} GiB free at {target}"
    if free < DISK_FAIL_BYTES:
        return Check(
            "disk", "fail", text, "free disk space: the durable queue needs room while a backend is away"
        )
    if free < DISK_WARN_BYTES:
        return Check(
            "disk", "warn", text, "less than 1 GiB: bound the queue (max_rows/max_bytes) or free space"
        )
    return Check("disk", "ok", text)


def check_notify_socket(value: str | None) -> Check:
    """systemd's ``NOTIFY_SOCKET``: unset outside a Type=notify service, a socket inside."""
    if not value:
        return Check("notify socket", "ok", "NOTIFY_SOCKET is not set (normal outside a Type=notify service)")
    if value.startswith("@"):
        return Check("notify socket", "ok", f"abstract socket {value}")
    if Path(value).is_socket():
        return Check("notify socket", "ok", f"{value} is a socket")
    return Check(
        "notify socket",
        "fail",
        f"NOTIFY_SOCKET={value} is not a socket",
        "unset NOTIFY_SOCKET, or start the service through systemd",
    )


def check_deployment(root: str) -> Check:
    from schnitzel_stream.deploy.root import validate_deployment

    report = validate_deployment(root)
    if report.valid and not report.warnings:
        return Check("deployment", "ok", f"{root}: {report.summary()}")
    found = [p for file in report.files for p in file.problems if report.valid or p.severity == "error"]
    listed = "; ".join(p.one_line() for p in found[:3]) + (
        f" (and {len(found) - 3} more)" if len(found) > 3 else ""
    )
    if report.valid:
        first = found[0].hint if found else None
        return Check(
            "deployment",
            "warn",
            f"{root}: {report.summary()}: {listed}",
            first or f"schnitzel-stream validate --deployment {root} explains each warning",
        )
    return Check(
        "deployment",
        "fail",
        f"{root}: {report.summary()}: {listed}",
        f"schnitzel-stream validate --deployment {root} lists every problem with its fix",
    )


def _layout(deployment: str | None) -> Layout | None:
    if not deployment:
        return None
    import yaml

    try:
        data = yaml.safe_load((Path(deployment) / ANSWERS_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    answers, _problems = answers_from_mapping(data if isinstance(data, dict) else {}, ANSWERS_FILE)
    if answers is None or answers.target_os != current_os():
        return None
    return layout_for(answers)


def _dirs(layout: Layout | None, paths: PathSet | None) -> dict[str, Path]:
    if layout is not None:
        return {name: Path(value) for name, value in layout.dirs().items()}
    if paths is None:
        return {}
    return {name: Path(str(paths.get(name))) for name in PATH_CLASSES}


def _existing_parent(path: Path) -> Path:
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent
