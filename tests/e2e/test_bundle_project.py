"""The project wheel of a bundle comes from the commit the root's template came from.

A clone of this repository is the template source; copier renders a root from it (so the
root records ``_commit`` and ``_src_path`` as for a user), and ``bundle`` builds the wheel
from that commit with ``uv build``, or checks a given wheel file by file against it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from copier import run_copy

from tests.support.clone import clone_repository
from tests.support.pkg_index import PackageIndex, serving

REPO_ROOT = Path(__file__).resolve().parents[2]
PURE = "pure-2.0-py3-none-any.whl"

#: One worker runs these: each builds a wheel with uv.
pytestmark = pytest.mark.xdist_group("bundle-project")


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.strip()


def _bundle(root: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "bundle", str(root), "--no-cache", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "UV_PYTHON_DOWNLOADS": "never"},
    )


def _render(clone: Path, dst: Path, index: PackageIndex) -> Path:
    run_copy(str(clone), dst, data={"target_os": "linux"}, defaults=True, quiet=True, vcs_ref="HEAD")
    # The root's own lock pins ~20 packages from PyPI; this test is about the project wheel.
    (dst / "requirements.lock.txt").write_text(index.lock_line("pure==2.0", PURE), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clone_repository(tmp_path_factory.mktemp("template") / "schnitzel-stream")


def test_the_wheel_is_built_from_the_template_commit_reproducibly(clone: Path, tmp_path: Path) -> None:
    with serving(tmp_path / "index") as index:
        index.publish(PURE)
        root = _render(clone, tmp_path / "root", index)
        answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
        head = _git("rev-parse", "HEAD", cwd=clone)
        assert head.startswith(str(answers["_commit"]))  # git describe's short sha
        # Run from outside any checkout: the root's _src_path leads to the clone.
        first = _bundle(root, "--index-url", index.url, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        manifest = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["commit"] == head
        assert f"built from {clone} at {head[:12]}" in first.stdout
        wheel = root / "wheels" / manifest["project"]["file"]
        assert hashlib.sha256(wheel.read_bytes()).hexdigest() == manifest["project"]["sha256"]
        with zipfile.ZipFile(wheel) as archive:
            assert "schnitzel_stream/deploy/bundle.py" in archive.namelist()
        # The same commit gives the same wheel (SOURCE_DATE_EPOCH is the commit's time).
        again = _bundle(root, "--index-url", index.url, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        manifest_again = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest_again["project"]["sha256"] == manifest["project"]["sha256"]

        # That wheel, given back with --wheel, matches the commit file by file ...
        given = tmp_path / wheel.name
        given.write_bytes(wheel.read_bytes())
        matched = _bundle(root, "--index-url", index.url, "--wheel", str(given), cwd=tmp_path)
        assert matched.returncode == 0, matched.stderr
        assert f"given, identical to {head[:12]}" in matched.stdout
        # ... and a wheel with one file more does not.
        with zipfile.ZipFile(given, "a") as archive:
            archive.writestr("schnitzel_stream/backdoor.py", "import os\n")
        refused = _bundle(root, "--index-url", index.url, "--wheel", str(given), cwd=tmp_path)
        assert refused.returncode == 1
        assert "was not built from commit" in refused.stderr
        assert "schnitzel_stream/backdoor.py extra" in refused.stderr


def test_a_root_rendered_from_uncommitted_template_changes_is_refused(clone: Path, tmp_path: Path) -> None:
    dirty = clone_repository(tmp_path / "dirty", clone)
    readme = dirty / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nlocal change\n", encoding="utf-8")
    with serving(tmp_path / "index") as index:
        index.publish(PURE)
        root = _render(dirty, tmp_path / "root", index)
        done = _bundle(root, "--index-url", index.url, cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot find template commit" in done.stderr
    assert "uncommitted template changes" in done.stderr
    assert not (root / "wheels").exists()


def test_a_root_pinned_to_a_release_tag_gets_that_release(clone: Path, tmp_path: Path) -> None:
    """Fleets pin ``copier copy --vcs-ref vX.Y.Z``: the root records the tag, the bundle's wheel
    is built from the tagged commit (not a later HEAD), and validate prints both versions."""
    pinned = clone_repository(tmp_path / "pinned", clone)
    text = (pinned / "pyproject.toml").read_text(encoding="utf-8")
    version = text.split('\nversion = "', 1)[1].split('"', 1)[0]
    tag = f"v{version}"  # what the release workflow tags: the version in pyproject.toml
    _git("tag", tag, cwd=pinned)
    tagged = _git("rev-parse", "HEAD", cwd=pinned)
    readme = pinned / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nafter the release\n", encoding="utf-8")
    _git("commit", "--quiet", "-am", "after the release", cwd=pinned)
    with serving(tmp_path / "index") as index:
        index.publish(PURE)
        root = tmp_path / "root"
        run_copy(str(pinned), root, data={"target_os": "linux"}, defaults=True, quiet=True, vcs_ref=tag)
        (root / "requirements.lock.txt").write_text(index.lock_line("pure==2.0", PURE), encoding="utf-8")
        answers = yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))
        assert answers["_commit"] == tag
        done = _bundle(root, "--index-url", index.url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "wheels" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["commit"] == tagged != _git("rev-parse", "HEAD", cwd=pinned)
    assert manifest["project"]["version"] == version
    check = subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "validate", "--deployment", str(root), "--no-path-checks"],
        capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    first = check.stdout.splitlines()[0]
    assert first.startswith(f"template {tag}; bundle schnitzel-stream {version} ("), check.stdout
    assert "deploy.bundle" not in check.stdout, check.stdout  # no stale or mismatched bundle
