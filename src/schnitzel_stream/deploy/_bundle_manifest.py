"""``wheels/manifest.json`` and ``wheels/project.txt``: what a bundle records about itself.

``bundle`` writes both into the staging directory before it is swapped in; ``validate
--deployment`` reads the manifest back (``_bundle_check``) to compare the bundle with the
root's template commit and with the files beside it. ``project.txt`` is the project wheel as
a hash-pinned requirement, which the install scripts add to the lock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WHEELS_DIR = "wheels"
MANIFEST_FILE = "manifest.json"
PROJECT_REQUIREMENT_FILE = "project.txt"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class BundledFile:
    file: str
    name: str
    version: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """``wheels/manifest.json``: what a bundle holds and where it came from."""

    template_commit: str
    commit: str
    python: str
    targets: tuple[str, ...]
    project: BundledFile
    files: tuple[BundledFile, ...]
    created_by: str

    def total_bytes(self) -> int:
        return self.project.size + sum(file.size for file in self.files)

    def file_count(self) -> int:
        return 1 + len(self.files)


def write_manifest(staging: Path, manifest: Manifest) -> None:
    def record(file: BundledFile) -> dict[str, Any]:
        return {
            "file": file.file,
            "name": file.name,
            "version": file.version,
            "sha256": file.sha256,
            "size": file.size,
        }

    document = {
        "format": MANIFEST_FORMAT,
        "created_by": manifest.created_by,
        "template_commit": manifest.template_commit,
        "commit": manifest.commit,
        "python": manifest.python,
        "targets": list(manifest.targets),
        "project": record(manifest.project),
        "files": [record(file) for file in manifest.files],
    }
    text = json.dumps(document, indent=2) + "\n"
    (staging / MANIFEST_FILE).write_text(text, encoding="utf-8", newline="\n")
    project = manifest.project
    (staging / PROJECT_REQUIREMENT_FILE).write_text(
        "# The schnitzel-stream wheel of this bundle, hash-pinned (written by schnitzel-stream bundle).\n"
        f"{project.name}=={project.version} --hash=sha256:{project.sha256}\n",
        encoding="utf-8",
        newline="\n",
    )


def read_manifest(root: Path) -> Manifest | None:
    """The manifest of ``ROOT/wheels``; None when the root has no bundle or it is unreadable."""
    path = root / WHEELS_DIR / MANIFEST_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        files = tuple(_file(entry) for entry in document["files"])
        return Manifest(
            template_commit=str(document["template_commit"]),
            commit=str(document["commit"]),
            python=str(document["python"]),
            targets=tuple(str(t) for t in document["targets"]),
            project=_file(document["project"]),
            files=files,
            created_by=str(document.get("created_by", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _file(entry: Any) -> BundledFile:
    return BundledFile(
        str(entry["file"]),
        str(entry["name"]),
        str(entry["version"]),
        str(entry["sha256"]),
        int(entry["size"]),
    )
