"""Which wheels fit a device: its OS, CPU and Python, as wheel tags and marker values.

A bundle is made on one machine for another (a laptop bundles for a Raspberry Pi), so
nothing here looks at the running interpreter. A target is named by a short label
(``linux-aarch64``) or by a wheel platform tag (``manylinux_2_17_aarch64``); it expands to
every platform tag a device of that kind accepts, best first, the order pip and uv use to
prefer one wheel over another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms

from schnitzel_stream.errors import Problem, UsageError
from schnitzel_stream.paths import OsName

#: glibc 2.28 (Debian 10, Ubuntu 20.04, RHEL 8, Raspberry Pi OS buster and later) and
#: macOS 14: old enough for the devices in the field, new enough for opencv's wheels.
DEFAULT_GLIBC = (2, 28)
DEFAULT_MACOS = (14, 0)
MIN_PYTHON = (3, 11)

#: Short labels: the OS and the CPU as operators name them.
_LABELS: dict[str, tuple[OsName, str]] = {
    "linux-x86_64": ("linux", "x86_64"),
    "linux-amd64": ("linux", "x86_64"),
    "linux-aarch64": ("linux", "aarch64"),
    "linux-arm64": ("linux", "aarch64"),
    "macos-arm64": ("macos", "arm64"),
    "macos-aarch64": ("macos", "arm64"),
    "macos-x86_64": ("macos", "x86_64"),
    "windows-amd64": ("windows", "amd64"),
    "windows-x86_64": ("windows", "amd64"),
    "windows-arm64": ("windows", "arm64"),
}
#: The target a root gets when no --platform is given: the common CPU of each OS.
DEFAULT_LABEL: dict[OsName, str] = {
    "linux": "linux-x86_64",
    "macos": "macos-arm64",
    "windows": "windows-amd64",
}
#: platform_machine as each OS reports it (PEP 508 markers compare against this).
_MACHINE: dict[tuple[OsName, str], str] = {
    ("linux", "x86_64"): "x86_64",
    ("linux", "aarch64"): "aarch64",
    ("macos", "arm64"): "arm64",
    ("macos", "x86_64"): "x86_64",
    ("windows", "amd64"): "AMD64",
    ("windows", "arm64"): "ARM64",
}
_MARKER_OS: dict[OsName, tuple[str, str, str]] = {
    # sys_platform, platform_system, os_name
    "linux": ("linux", "Linux", "posix"),
    "macos": ("darwin", "Darwin", "posix"),
    "windows": ("win32", "Windows", "nt"),
}
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_(x86_64|aarch64)")
_LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_LEGACY = re.compile(r"(manylinux2014|manylinux2010|manylinux1)_(x86_64|aarch64)")
_MUSLLINUX = re.compile(r"musllinux_(\d+)_(\d+)_(x86_64|aarch64)")
_MACOSX = re.compile(r"macosx_(\d+)_(\d+)_(arm64|x86_64)")
_WINDOWS = re.compile(r"win_(amd64|arm64)")
_PYTHON = re.compile(r"3\.(\d{1,2})")


@dataclass(frozen=True, slots=True)
class Target:
    """One kind of device: ``label`` for people, ``platforms`` (best first) for wheel tags."""

    label: str
    os_name: OsName
    machine: str
    platforms: tuple[str, ...]

    def marker_environment(self, python: str) -> dict[str, str]:
        """PEP 508 marker values of this device running CPython ``python`` (``3.11``)."""
        sys_platform, system, os_name = _MARKER_OS[self.os_name]
        full = f"{python}.0"
        return {
            "implementation_name": "cpython",
            "implementation_version": full,
            "os_name": os_name,
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": system,
            "platform_version": "",
            "python_full_version": full,
            "python_version": python,
            "sys_platform": sys_platform,
        }

    def tags(self, python: str) -> list[Tag]:
        """Every wheel tag CPython ``python`` on this device installs, most preferred first."""
        major, minor = (int(part) for part in python.split("."))
        version = (major, minor)
        platforms = list(self.platforms)
        found = list(cpython_tags(version, abis=[f"cp{major}{minor}"], platforms=platforms))
        found += [tag for tag in compatible_tags(version, f"cp{major}{minor}", platforms) if tag not in found]
        return found


def parse_python(value: str) -> str:
    """``3.11`` for a ``--python`` value; a usage error for anything else or too old."""
    match = _PYTHON.fullmatch(value.strip())
    if match is None or (3, int(match.group(1))) < MIN_PYTHON:
        raise UsageError(
            Problem(
                "bundle.python",
                f"--python {value!r}: give a CPython version as X.Y, 3.11 or later",
            )
        )
    return f"3.{int(match.group(1))}"


def default_target(os_name: OsName) -> Target:
    return parse_target(DEFAULT_LABEL[os_name], os_name)


def parse_target(spec: str, root_os: OsName) -> Target:
    """A ``--platform`` value as a target; it must be a device of the root's OS."""
    text = spec.strip()
    target = _from_label(text.lower()) or _from_platform_tag(text)
    if target is None:
        labels = ", ".join(sorted(_LABELS))
        raise UsageError(
            Problem(
                "bundle.platform",
                f"--platform {spec!r} is neither a target ({labels}) nor a wheel platform tag "
                "(manylinux_2_28_aarch64, musllinux_1_2_x86_64, macosx_14_0_arm64, win_amd64)",
            )
        )
    if target.os_name != root_os:
        raise UsageError(
            Problem(
                "bundle.platform",
                f"--platform {spec!r} is a {target.os_name} device, but the root was rendered for {root_os}",
                hint=f"for this root use for example --platform {DEFAULT_LABEL[root_os]}",
            )
        )
    return target


def _from_label(label: str) -> Target | None:
    found = _LABELS.get(label)
    if found is None:
        return None
    os_name, cpu = found
    canonical = f"{os_name}-{cpu}"
    if os_name == "linux":
        platforms = _manylinux_platforms(DEFAULT_GLIBC, cpu)
    elif os_name == "macos":
        platforms = tuple(mac_platforms(DEFAULT_MACOS, cpu))
    else:
        platforms = (f"win_{cpu}",)
    return Target(canonical, os_name, _MACHINE[(os_name, cpu)], platforms)


def _from_platform_tag(tag: str) -> Target | None:
    if match := _MANYLINUX.fullmatch(tag):
        glibc, cpu = (int(match.group(1)), int(match.group(2))), match.group(3)
        return Target(tag, "linux", _MACHINE[("linux", cpu)], _manylinux_platforms(glibc, cpu))
    if match := _LEGACY.fullmatch(tag):
        glibc, cpu = _LEGACY_MANYLINUX[match.group(1)], match.group(2)
        return Target(tag, "linux", _MACHINE[("linux", cpu)], _manylinux_platforms(glibc, cpu))
    if match := _MUSLLINUX.fullmatch(tag):
        major, minor, cpu = int(match.group(1)), int(match.group(2)), match.group(3)
        platforms = tuple(f"musllinux_{major}_{m}_{cpu}" for m in range(minor, 0, -1))
        return Target(tag, "linux", _MACHINE[("linux", cpu)], platforms)
    if match := _MACOSX.fullmatch(tag):
        version, cpu = (int(match.group(1)), int(match.group(2))), match.group(3)
        return Target(tag, "macos", _MACHINE[("macos", cpu)], tuple(mac_platforms(version, cpu)))
    if match := _WINDOWS.fullmatch(tag):
        cpu = match.group(1)
        return Target(tag, "windows", _MACHINE[("windows", cpu)], (tag,))
    return None


def _manylinux_platforms(glibc: tuple[int, int], cpu: str) -> tuple[str, ...]:
    """``manylinux_2_28_x86_64`` down to the oldest glibc, with the legacy aliases in their place."""
    major, newest = glibc
    # aarch64 wheels start at manylinux2014 (glibc 2.17); x86_64 goes back to manylinux1.
    oldest = 5 if cpu == "x86_64" else 17
    platforms: list[str] = []
    for minor in range(newest, oldest - 1, -1):
        platforms.append(f"manylinux_{major}_{minor}_{cpu}")
        for legacy, (_, legacy_minor) in _LEGACY_MANYLINUX.items():
            if legacy_minor == minor and (cpu == "x86_64" or legacy == "manylinux2014"):
                platforms.append(f"{legacy}_{cpu}")
    return tuple(platforms)
