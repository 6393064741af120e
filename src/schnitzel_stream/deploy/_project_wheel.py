"""The schnitzel-stream wheel of a bundle: built from, or matched to, the template's commit.

copier records the template commit a root was rendered from as ``_commit`` in
``.copier-answers.yml`` (``v1.2.0``, ``v1.2.0-3-g1a2b3c4`` or ``1a2b3c4``: ``git describe``).
The wheel in the bundle must be that code, so that the service files and the runtime they
start come from the same commit. Two ways get it:

- **built**: the commit is looked up in a git checkout (``--source``, the root's
  ``_src_path``, or the checkout this command runs from), exported with ``git archive`` into
  a scratch directory and built with ``uv build --wheel``. ``SOURCE_DATE_EPOCH`` is the
  commit's time, so the same commit gives the same wheel.
- **given** (``--wheel FILE``): accepted when ``_commit`` is exactly a release tag
  ``vX.Y.Z`` and the wheel's version is ``X.Y.Z``, or when every file of the package in the
  wheel is, byte for byte, the file of that commit's tree (and no file is missing).

Anything else is refused: a root rendered from uncommitted template changes records a
commit that exists only in copier's temporary clone, and no wheel can be shown to match it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from schnitzel_stream.errors import BundleError, Problem

PROJECT = "schnitzel-stream"
_PACKAGE_DIR = "src/schnitzel_stream/"
_COMMIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+/-]{0,199}")
_RELEASE_TAG = re.compile(r"v(\d+(?:\.\d+)*(?:(?:a|b|rc|\.post|\.dev)\d+)*)")
_REMOTE = re.compile(r"^(https?://|ssh://|git@|git://|gh:|gl:)")
_GIT_TIMEOUT = 300


@dataclass(frozen=True, slots=True)
class ProjectWheel:
    """The project wheel of a bundle and how it was tied to the template commit."""

    path: Path
    version: str
    commit: str
    how: str


def release_version(template_commit: str | None) -> str | None:
    """``1.2.0`` when the template commit is exactly the release tag ``v1.2.0``."""
    match = _RELEASE_TAG.fullmatch(template_commit or "")
    return match.group(1) if match else None


def project_wheel(
    template_commit: str | None,
    src_path: str | None,
    *,
    wheel: Path | None,
    source: Path | None,
    workdir: Path,
) -> ProjectWheel:
    """The wheel for ``template_commit``, built or checked as the module docstring says."""
    if not template_commit:
        raise BundleError(
            Problem(
                "bundle.commit",
                "the root records no template commit (_commit in .copier-answers.yml): it was rendered "
                "from a directory that is not a git repository, so no wheel can be matched to it",
                hint="render it from a git checkout or a release: copier copy --vcs-ref vX.Y.Z <repository> ROOT",
            )
        )
    if not _COMMIT.fullmatch(template_commit) or ".." in template_commit:
        raise BundleError(Problem("bundle.commit", f"_commit {template_commit!r} is not a git revision"))
    if wheel is not None:
        return _given_wheel(wheel, template_commit, src_path, source, workdir)
    checkout, sha = _find_commit(template_commit, src_path, source, workdir)
    built = _build(checkout, sha, workdir)
    return ProjectWheel(built, _version_of(built), sha, f"built from {checkout} at {sha[:12]}")


def _find_commit(
    template_commit: str, src_path: str | None, source: Path | None, workdir: Path
) -> tuple[Path, str]:
    """The first checkout that has the commit, and its full sha; a :class:`BundleError` if none."""
    tried: list[str] = []
    for checkout in _checkouts(src_path, source, workdir, tried):
        sha = _resolve(checkout, template_commit)
        if sha is not None:
            return checkout, sha
        tried.append(f"{checkout} (no commit {template_commit})")
    raise BundleError(_unmatched(template_commit, tried))


def _unmatched(template_commit: str, tried: list[str]) -> Problem:
    where = "; ".join(tried) if tried else "no git checkout found"
    return Problem(
        "bundle.commit",
        f"cannot find template commit {template_commit} to build schnitzel-stream from ({where})",
        hint=(
            "run bundle from a clone of the template repository, or pass --source CHECKOUT or "
            "--wheel FILE; a root rendered from uncommitted template changes cannot be bundled: "
            "commit them and render it again"
        ),
    )


def _checkouts(src_path: str | None, source: Path | None, workdir: Path, tried: list[str]) -> list[Path]:
    """Where the commit may be: --source, the root's _src_path, this command's own checkout."""
    found: list[Path] = []
    candidates: list[str] = [str(source)] if source is not None else []
    if src_path:
        candidates.append(src_path)
    own = Path(__file__).resolve().parents[3]
    candidates.append(str(own))
    for candidate in candidates:
        if _REMOTE.match(candidate):
            clone = _clone(candidate, workdir, tried)
            if clone is not None:
                found.append(clone)
            continue
        top = _toplevel(Path(candidate).expanduser())
        if top is None:
            if source is not None and candidate == str(source):
                tried.append(f"{candidate} (not a git checkout)")
            continue
        if top not in found:
            found.append(top)
    return found


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, timeout=_GIT_TIMEOUT, check=False, env=env
        )
    except FileNotFoundError:
        raise BundleError(
            Problem("bundle.git", "git is not installed: bundle needs it to find the template commit")
        ) from None
    except subprocess.TimeoutExpired:
        raise BundleError(Problem("bundle.git", f"git {args[0]} took over {_GIT_TIMEOUT} s")) from None


def _toplevel(path: Path) -> Path | None:
    if not path.is_dir():
        return None
    done = _git("rev-parse", "--show-toplevel", cwd=path)
    return Path(done.stdout.decode().strip()) if done.returncode == 0 else None


def _clone(url: str, workdir: Path, tried: list[str]) -> Path | None:
    expanded = re.sub(r"^gh:", "https://github.com/", re.sub(r"^gl:", "https://gitlab.com/", url))
    target = workdir / "template-clone"
    shutil.rmtree(target, ignore_errors=True)
    done = _git("clone", "--quiet", "--no-checkout", "--filter=blob:none", "--", expanded, str(target))
    if done.returncode != 0:
        tried.append(f"{url} (clone failed: {done.stderr.decode(errors='replace').strip()[:160]})")
        return None
    return target


def _resolve(checkout: Path, commit: str) -> str | None:
    """The full sha of ``commit`` (a tag, ``git describe`` output or a short sha) in ``checkout``."""
    done = _git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}", cwd=checkout)
    sha = done.stdout.decode().strip()
    return sha if done.returncode == 0 and re.fullmatch(r"[0-9a-f]{40,64}", sha) else None


def _build(checkout: Path, sha: str, workdir: Path) -> Path:
    tree = workdir / "source"
    dist = workdir / "dist"
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        done = subprocess.run(
            ["git", "archive", "--format=tar", sha], cwd=checkout, stdout=archive, stderr=subprocess.PIPE,
            timeout=_GIT_TIMEOUT, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise BundleError(
                Problem(
                    "bundle.git", f"git archive {sha[:12]} failed: {done.stderr.decode(errors='replace')}"
                )
            )
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            # The data filter refuses links out of the tree (3.11.4+; the archive is git's own).
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tree, filter="data")
            else:  # pragma: no cover - interpreters before 3.11.4
                tar.extractall(tree)
    epoch = _git("log", "-1", "--format=%ct", sha, cwd=checkout).stdout.decode().strip() or "315532800"
    uv = shutil.which("uv")
    if uv is None:
        raise BundleError(
            Problem(
                "bundle.build",
                "building the schnitzel-stream wheel needs uv on PATH",
                hint="python -m pip install uv, or pass --wheel FILE",
            )
        )
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "SOURCE_DATE_EPOCH": epoch}
    done = subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(dist), str(tree)],
        capture_output=True, timeout=_GIT_TIMEOUT, check=False, env=env,
    )  # fmt: skip
    wheels = sorted(dist.glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        detail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise BundleError(
            Problem("bundle.build", f"uv build failed for commit {sha[:12]}: {' / '.join(detail)}")
        )
    return wheels[0]


def _version_of(wheel: Path) -> str:
    try:
        name, version, _build_tag, _tags = parse_wheel_filename(wheel.name)
    except InvalidWheelFilename:
        raise BundleError(Problem("bundle.wheel", f"{wheel.name} is not a wheel file name")) from None
    if canonicalize_name(name) != PROJECT:
        raise BundleError(Problem("bundle.wheel", f"{wheel.name} is not a {PROJECT} wheel"))
    return str(version)


def _given_wheel(
    wheel: Path, template_commit: str, src_path: str | None, source: Path | None, workdir: Path
) -> ProjectWheel:
    if not wheel.is_file():
        raise BundleError(Problem("bundle.wheel", f"--wheel {wheel}: no such file"))
    version = _version_of(wheel)
    released = release_version(template_commit)
    if released is not None:
        if version != released:
            raise BundleError(
                Problem(
                    "bundle.wheel",
                    f"{wheel.name} is version {version}, but the root was rendered from release "
                    f"{template_commit}",
                    hint=f"use the {released} wheel of that release",
                )
            )
        return ProjectWheel(wheel, version, template_commit, f"given, release {template_commit}")
    checkout, sha = _find_commit(template_commit, src_path, source, workdir)
    differences = _differences(wheel, checkout, sha)
    if differences:
        raise BundleError(
            Problem(
                "bundle.wheel",
                f"{wheel.name} was not built from commit {sha[:12]}: "
                f"{', '.join(differences[:5])}" + (" ..." if len(differences) > 5 else ""),
                hint="build the wheel from that commit, or leave --wheel out to build it",
            )
        )
    return ProjectWheel(wheel, version, sha, f"given, identical to {sha[:12]} in {checkout}")


def _differences(wheel: Path, checkout: Path, sha: str) -> list[str]:
    """Package files that differ between the wheel and the commit's tree (git blob ids).

    The package is ``src/schnitzel_stream/`` plus whatever the commit's pyproject.toml maps
    into the wheel with hatch's ``force-include`` (a source path in the tree -> a wheel path).
    """
    expected = _tree_blobs(checkout, sha, _PACKAGE_DIR, "src/")
    for source, target in _force_include(checkout, sha).items():
        blobs = _tree_blobs(checkout, sha, source, "")
        if set(blobs) == {source}:  # one file
            expected[target] = blobs[source]
        else:
            for path, blob in blobs.items():
                expected[target.rstrip("/") + "/" + path.removeprefix(source.rstrip("/") + "/")] = blob
    found: dict[str, str] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith("schnitzel_stream/") and not member.endswith("/"):
                data = archive.read(member)
                found[member] = hashlib.sha1(
                    b"blob %d\0" % len(data) + data, usedforsecurity=False
                ).hexdigest()
    names = sorted(set(expected) | set(found))
    return [
        f"{name} {'missing' if name not in found else 'extra' if name not in expected else 'differs'}"
        for name in names
        if expected.get(name) != found.get(name)
    ]


def _tree_blobs(checkout: Path, sha: str, path: str, strip: str) -> dict[str, str]:
    listing = _git("ls-tree", "-r", "-z", sha, "--", path, cwd=checkout).stdout.decode()
    blobs: dict[str, str] = {}
    for record in filter(None, listing.split("\0")):
        meta, name = record.split("\t", 1)
        blobs[name.removeprefix(strip)] = meta.split()[2]
    return blobs


def _force_include(checkout: Path, sha: str) -> dict[str, str]:
    import tomllib

    shown = _git("show", f"{sha}:pyproject.toml", cwd=checkout)
    try:
        document = tomllib.loads(shown.stdout.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}
    table = document.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    mapping = table.get("force-include", {}) if isinstance(table, dict) else {}
    return {str(k): str(v) for k, v in mapping.items()} if isinstance(mapping, dict) else {}
