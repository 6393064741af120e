"""``schnitzel-stream bundle`` against a real package index on loopback.

Each test writes a deployment root's answers and lock by hand (the bundle reads only
``_commit``, ``_src_path``, ``target_os`` and ``requirements.lock.txt``), publishes small wheel
files into a local Simple-API index, and runs the CLI as a subprocess. What a device then
installs from the bundle is proven by the lifecycle driver and ``tests/e2e/test_bundle_install.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pkg_index import PackageIndex, serving

PROJECT_WHEEL = "schnitzel_stream-0.1.0-py3-none-any.whl"
X86 = "fast-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
X86_NEW = "fast-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"
ARM = "fast-1.0-cp311-cp311-manylinux_2_28_aarch64.whl"
MAC = "fast-1.0-cp311-cp311-macosx_11_0_arm64.whl"
WIN = "fast-1.0-cp311-cp311-win_amd64.whl"
MUSL = "fast-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"
PURE = "pure-2.0-py3-none-any.whl"


def _bundle(root: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "bundle", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _root(tmp_path: Path, lock: str, target_os: str = "linux", commit: str = "v0.1.0") -> Path:
    root = tmp_path / "root"
    root.mkdir(parents=True, exist_ok=True)
    (root / ".copier-answers.yml").write_text(
        f"_commit: {commit}\n_src_path: {tmp_path / 'nowhere'}\ndeployment_name: edge-1\n"
        f"target_os: {target_os}\nscope: system\n",
        encoding="utf-8",
    )
    (root / "requirements.lock.txt").write_text(lock, encoding="utf-8")
    return root


@pytest.fixture
def index(tmp_path: Path) -> Iterator[PackageIndex]:
    with serving(tmp_path / "index") as served:
        for name in (X86, X86_NEW, ARM, MAC, WIN, MUSL, PURE):
            served.publish(name)
        yield served


@pytest.fixture
def project_wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / PROJECT_WHEEL
    wheel.write_bytes(b"the project wheel of release v0.1.0")
    return wheel


def _lock(index: PackageIndex) -> str:
    return index.lock_line("fast==1.0", X86, X86_NEW, ARM, MAC, WIN, MUSL) + index.lock_line(
        "pure==2.0", PURE
    )


def _aarch64_bundle(root: Path, index: PackageIndex, wheel: Path) -> subprocess.CompletedProcess[str]:
    return _bundle(
        root, "--platform", "linux-aarch64", "--index-url", index.url, "--no-cache", "--wheel", str(wheel)
    )


def _files(root: Path) -> set[str]:
    return {p.name for p in (root / "wheels").iterdir()} - {"manifest.json", "project.txt"}


@pytest.mark.parametrize(
    ("target_os", "platforms", "expected"),
    [
        pytest.param("linux", [], {X86_NEW}, id="linux-default-newest-manylinux"),
        pytest.param("linux", ["linux-aarch64"], {ARM}, id="raspberry-pi-class-aarch64"),
        pytest.param("linux", ["manylinux_2_17_x86_64"], {X86}, id="old-glibc-tag"),
        pytest.param("linux", ["musllinux_1_2_x86_64"], {MUSL}, id="musl"),
        pytest.param("linux", ["linux-x86_64", "linux-aarch64"], {X86_NEW, ARM}, id="two-devices"),
        pytest.param("macos", [], {MAC}, id="macos-arm64"),
        pytest.param("windows", [], {WIN}, id="windows-amd64"),
    ],
)
def test_bundle_picks_the_most_preferred_locked_wheel_for_each_device(
    tmp_path: Path,
    index: PackageIndex,
    project_wheel: Path,
    target_os: str,
    platforms: list[str],
    expected: set[str],
) -> None:
    root = _root(tmp_path, _lock(index), target_os)
    options = [arg for platform in platforms for arg in ("--platform", platform)]
    done = _bundle(
        root,
        *options,
        "--python",
        "3.11",
        "--index-url",
        index.url,
        "--no-cache",
        "--wheel",
        str(project_wheel),
    )
    assert done.returncode == 0, done.stderr
    assert _files(root) == expected | {PURE, PROJECT_WHEEL}


def test_markers_are_evaluated_for_the_device_not_for_this_machine(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    for name in ("winonly-1.0-py3-none-any.whl", "old-1.0-py3-none-any.whl", "new-2.0-py3-none-any.whl"):
        index.publish(name)
    lock = (
        index.lock_line("pure==2.0", PURE)
        + index.lock_line("winonly==1.0", "winonly-1.0-py3-none-any.whl", marker="sys_platform == 'win32'")
        + index.lock_line("old==1.0", "old-1.0-py3-none-any.whl", marker="python_full_version < '3.12'")
        + index.lock_line("new==2.0", "new-2.0-py3-none-any.whl", marker="python_full_version >= '3.12'")
    )
    bundled: dict[tuple[str, str], set[str]] = {}
    for target_os in ("windows", "linux"):
        for python in ("3.11", "3.13"):
            root = _root(tmp_path / f"{target_os}-{python}", lock, target_os)
            done = _bundle(
                root,
                "--python",
                python,
                "--index-url",
                index.url,
                "--no-cache",
                "--wheel",
                str(project_wheel),
            )
            assert done.returncode == 0, done.stderr
            bundled[(target_os, python)] = {name.split("-")[0] for name in _files(root)}
    assert bundled[("windows", "3.11")] == {"pure", "winonly", "old", "schnitzel_stream"}
    assert bundled[("windows", "3.13")] == {"pure", "winonly", "new", "schnitzel_stream"}
    assert bundled[("linux", "3.11")] == {"pure", "old", "schnitzel_stream"}
    assert bundled[("linux", "3.13")] == {"pure", "new", "schnitzel_stream"}


def test_the_manifest_records_every_file_with_its_hash_and_the_project_requirement(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    root = _root(tmp_path, _lock(index))
    done = _bundle(
        root, "--index-url", index.url, "--no-cache", "--wheel", str(project_wheel), "--python", "3.11"
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["template_commit"] == "v0.1.0"
    assert manifest["python"] == "3.11" and manifest["targets"] == ["linux-x86_64"]
    for entry in [manifest["project"], *manifest["files"]]:
        data = (root / "wheels" / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
    project_sha = hashlib.sha256(project_wheel.read_bytes()).hexdigest()
    assert manifest["project"]["sha256"] == project_sha
    requirement = (root / "wheels" / "project.txt").read_text(encoding="utf-8")
    assert f"schnitzel-stream==0.1.0 --hash=sha256:{project_sha}" in requirement


def test_progress_is_plain_lines_off_a_terminal_and_ends_with_size_and_count(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    root = _root(tmp_path, _lock(index))
    done = _bundle(
        root, "--index-url", index.url, "--no-cache", "--wheel", str(project_wheel), "--python", "3.11"
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stderr
    assert "[3/3] " in done.stderr and PURE in done.stderr
    assert done.stdout.startswith("bundle: 3 files, ")
    assert " MB in " in done.stdout and str(root / "wheels") in done.stdout


def test_a_second_bundle_comes_from_the_cache_after_hashing_it_again(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    root = _root(tmp_path, _lock(index))
    cache = tmp_path / "cache"
    args = (
        "--index-url",
        index.url,
        "--cache-dir",
        str(cache),
        "--wheel",
        str(project_wheel),
        "--python",
        "3.11",
    )
    assert _bundle(root, *args).returncode == 0
    index.requests.clear()
    again = _bundle(root, *args)
    assert again.returncode == 0, again.stderr
    assert "(cache)" in again.stderr
    assert not [path for path in index.requests if path.startswith("/files/")]
    # A cache file that no longer matches its hash is not used: it is downloaded again.
    cached = next(cache.rglob(PURE))
    cached.write_bytes(b"rotten")
    index.requests.clear()
    assert _bundle(root, *args).returncode == 0
    assert f"/files/{PURE}" in index.requests
    assert (root / "wheels" / PURE).read_bytes() == (index.directory / PURE).read_bytes()


def test_a_download_that_does_not_match_the_lock_fails_and_the_previous_bundle_stays(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    root = _root(tmp_path, _lock(index))
    args = ("--index-url", index.url, "--no-cache", "--wheel", str(project_wheel), "--python", "3.11")
    assert _bundle(root, *args).returncode == 0
    before = {p.name: p.read_bytes() for p in (root / "wheels").iterdir()}
    index.tamper(PURE)
    done = _bundle(root, *args)
    assert done.returncode == 1
    assert f"{PURE}: the downloaded file has sha256" in done.stderr
    assert "Traceback" not in done.stderr
    assert {p.name: p.read_bytes() for p in (root / "wheels").iterdir()} == before
    assert not (root / ".wheels.partial").exists()


def test_an_index_that_fails_now_and_then_is_asked_again(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    root = _root(tmp_path, _lock(index))
    index.unavailable = 2  # two 503 answers, then the index works again
    done = _bundle(
        root, "--index-url", index.url, "--no-cache", "--wheel", str(project_wheel), "--python", "3.11"
    )
    assert done.returncode == 0, done.stderr
    assert index.requests.count("/simple/fast/") >= 2 or index.requests.count("/simple/pure/") >= 2


def test_a_package_the_index_does_not_know_fails_at_once_with_the_url(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    lock = _lock(index) + "missing==1.0 --hash=sha256:" + "0" * 64 + "\n"
    root = _root(tmp_path, lock)
    done = _bundle(root, "--index-url", index.url, "--no-cache", "--wheel", str(project_wheel))
    assert done.returncode == 1
    assert f"cannot read the index page {index.url}missing/: 404" in done.stderr
    assert index.requests.count("/simple/missing/") == 1


def test_a_file_the_lock_does_not_hash_is_never_chosen(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    # The index lists a newer-tagged file the lock does not know: the locked one is taken.
    lock = index.lock_line("fast==1.0", X86) + index.lock_line("pure==2.0", PURE)
    root = _root(tmp_path, lock)
    done = _bundle(
        root, "--index-url", index.url, "--no-cache", "--wheel", str(project_wheel), "--python", "3.11"
    )
    assert done.returncode == 0, done.stderr
    assert _files(root) == {X86, PURE, PROJECT_WHEEL}


def test_a_package_with_no_wheel_for_the_device_is_named(
    tmp_path: Path, index: PackageIndex, project_wheel: Path
) -> None:
    lock = index.lock_line("fast==1.0", X86, X86_NEW) + index.lock_line("pure==2.0", PURE)
    root = _root(tmp_path, lock)
    done = _aarch64_bundle(root, index, project_wheel)
    assert done.returncode == 1
    assert "fast==1.0: none of its 2 locked wheels fits linux-aarch64" in done.stderr
    assert not (root / "wheels").exists()


@pytest.mark.parametrize(
    ("target_os", "args", "message"),
    [
        pytest.param("linux", ["--platform", "win_amd64"], "is a windows device", id="other-os"),
        pytest.param("linux", ["--platform", "sparc64"], "is neither a target", id="unknown"),
        pytest.param("linux", ["--python", "2.7"], "3.11 or later", id="old-python"),
        pytest.param("linux", ["--python", "three"], "give a CPython version", id="not-a-version"),
    ],
)
def test_bad_options_are_usage_errors(
    tmp_path: Path, index: PackageIndex, project_wheel: Path, target_os: str, args: list[str], message: str
) -> None:
    root = _root(tmp_path, _lock(index), target_os)
    done = _bundle(root, *args, "--index-url", index.url, "--wheel", str(project_wheel))
    assert done.returncode == 2
    assert message in done.stderr


def test_an_html_only_index_works_too(tmp_path: Path, project_wheel: Path) -> None:
    with serving(tmp_path / "html-index", style="html") as index:
        index.publish(PURE)
        index.publish(ARM)
        lock = index.lock_line("pure==2.0", PURE) + index.lock_line("fast==1.0", ARM)
        root = _root(tmp_path, lock)
        done = _aarch64_bundle(root, index, project_wheel)
    assert done.returncode == 0, done.stderr
    assert _files(root) == {PURE, ARM, PROJECT_WHEEL}


@pytest.mark.parametrize(
    ("commit", "wheel_name", "message"),
    [
        pytest.param(
            "v0.1.0", "schnitzel_stream-0.2.0-py3-none-any.whl", "is version 0.2.0", id="other-release"
        ),
        pytest.param(
            "v0.1.0", "requests-0.1.0-py3-none-any.whl", "is not a schnitzel-stream wheel", id="other-name"
        ),
        pytest.param("", PROJECT_WHEEL, "records no template commit", id="no-commit"),
        pytest.param("--upload-pack=touch", PROJECT_WHEEL, "is not a git revision", id="option-injection"),
        pytest.param("0123abc", PROJECT_WHEEL, "cannot find template commit 0123abc", id="unknown-commit"),
    ],
)
def test_a_project_wheel_that_cannot_be_matched_to_the_commit_is_refused(
    tmp_path: Path, index: PackageIndex, commit: str, wheel_name: str, message: str
) -> None:
    wheel = tmp_path / wheel_name
    wheel.write_bytes(b"some wheel")
    root = _root(tmp_path, _lock(index), commit=commit)
    # Run outside any checkout, so that only the root's _src_path (which does not exist) is tried.
    done = _bundle(root, "--index-url", index.url, "--no-cache", "--wheel", str(wheel), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (root / "wheels").exists()


def test_a_directory_that_is_not_a_root_is_refused(tmp_path: Path) -> None:
    done = _bundle(tmp_path)
    assert done.returncode == 1
    assert "not a deployment root: .copier-answers.yml is missing" in done.stderr
