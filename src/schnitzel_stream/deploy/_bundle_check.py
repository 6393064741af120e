"""What ``validate --deployment`` says about a root's versions: its template and its bundle.

The template version is the commit copier recorded (``_commit``: ``v1.2.0`` for a release);
the bundle's is in ``wheels/manifest.json`` (``schnitzel-stream bundle``). A root whose bundle
was made for another commit (``copier update`` after the bundle) gets a warning, as does a root
with no bundle at all (its install scripts then need ``SCHNITZEL_STREAM_PACKAGE``); a bundle
whose files are missing or cut short is an error. File hashes are not read here: the install
checks every one (``--require-hashes``), and hashing ~90 MB on every validate would cost.

The interpreter check (:func:`interpreter_problems`) reads the environment's ``pyvenv.cfg``:
a base interpreter under a directory the service cannot see (systemd's ``ProtectHome=`` and
``PrivateTmp=``; a home directory for a launchd daemon or a Windows service account) makes a
service that fails to start (systemd's ``203/EXEC``), however valid the rest of the root is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

from schnitzel_stream.deploy._project_wheel import release_version
from schnitzel_stream.deploy.bundle import MANIFEST_FILE, WHEELS_DIR, Manifest, read_manifest
from schnitzel_stream.deploy.layout import Answers
from schnitzel_stream.errors import Problem


@dataclass(frozen=True, slots=True)
class Versions:
    template_commit: str | None
    bundle: Manifest | None

    def line(self) -> str:
        """One line for people: ``template v1.2.0; bundle schnitzel-stream 1.2.0 for ...``."""
        commit = self.template_commit
        template = f"template {commit}" if commit else "template: no commit recorded"
        manifest = self.bundle
        if manifest is None:
            return f"{template}; no bundle ({WHEELS_DIR}/)"
        return (
            f"{template}; bundle schnitzel-stream {manifest.project.version} "
            f"({manifest.file_count()} files for {', '.join(manifest.targets)}, CPython {manifest.python})"
        )


def versions_line(root: Path) -> str:
    """The versions of the root at ``root`` as one line (reads its answers file)."""
    import yaml

    try:
        data = (root / ".copier-answers.yml").read_bytes()[:65536]
        answers = yaml.safe_load(data.decode("utf-8", errors="replace"))
    except (OSError, yaml.YAMLError):
        answers = None
    return versions_of(root, answers if isinstance(answers, dict) else None).line()


def versions_of(root: Path, answers: Mapping[str, Any] | None) -> Versions:
    commit = answers.get("_commit") if answers else None
    return Versions(str(commit) if commit else None, read_manifest(root))


def bundle_problems(root: Path, versions: Versions) -> list[Problem]:
    wheels = root / WHEELS_DIR
    file = str(wheels / MANIFEST_FILE)
    manifest = versions.bundle
    again = f"schnitzel-stream bundle {root}"
    if manifest is None:
        if wheels.exists():
            return [
                Problem(
                    "deploy.bundle",
                    f"{WHEELS_DIR}/{MANIFEST_FILE} is missing or unreadable",
                    file=file,
                    hint=again,
                )
            ]
        return [
            Problem(
                "deploy.bundle-missing",
                f"the root has no bundle ({WHEELS_DIR}/): its install script needs one, or SCHNITZEL_STREAM_PACKAGE",
                file=str(wheels),
                severity="warning",
                hint=f"{again} (on a machine with network access), then ship the root with {WHEELS_DIR}/",
            )
        ]
    problems: list[Problem] = []
    if versions.template_commit and manifest.template_commit != versions.template_commit:
        problems.append(
            Problem(
                "deploy.bundle-stale",
                f"the bundle was made for template commit {manifest.template_commit}, but the root is now "
                f"at {versions.template_commit}",
                file=file,
                severity="warning",
                hint=again,
            )
        )
    released = release_version(versions.template_commit)
    if released is not None and manifest.project.version != released:
        problems.append(
            Problem(
                "deploy.bundle-version",
                f"the bundle holds schnitzel-stream {manifest.project.version}, but the template is release "
                f"{versions.template_commit}",
                file=file,
                severity="warning",
                hint=again,
            )
        )
    for entry in (manifest.project, *manifest.files):
        path = wheels / entry.file
        size = path.stat().st_size if path.is_file() else None
        if size != entry.size:
            state = "is missing" if size is None else f"has {size} bytes, the manifest says {entry.size}"
            problems.append(
                Problem("deploy.bundle", f"{WHEELS_DIR}/{entry.file} {state}", file=file, hint=again)
            )
    return problems


def hidden_prefixes(answers: Answers) -> tuple[str, ...]:
    """Directories the service cannot see, per OS and scope (see the module docstring)."""
    if answers.target_os == "windows":
        return () if answers.scope == "user" else ("C:\\Users\\",)
    if answers.target_os == "macos":
        return (
            ("/tmp/", "/private/tmp/") if answers.scope == "user" else ("/Users/", "/tmp/", "/private/tmp/")
        )
    private_tmp = ("/tmp/", "/var/tmp/")
    home_install = answers.install_dir.startswith(("/home/", "/root/"))
    if answers.scope == "user" or home_install:
        return private_tmp  # ProtectHome=read-only: the homes are readable
    return ("/root/", "/home/", "/run/user/", *private_tmp)


def interpreter_problems(venv: Path, answers: Answers, file: str) -> list[Problem]:
    """The base interpreter of ``venv`` must be one the service can run."""
    try:
        config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return []
    home = next(
        (
            line.partition("=")[2].strip()
            for line in config.splitlines()
            if line.partition("=")[0].strip() == "home"
        ),
        None,
    )
    if not home:
        return []
    windows = answers.target_os == "windows"
    if windows:
        places = [str(PureWindowsPath(home)).lower() + "\\"]
    else:
        # The directory and the interpreter the environment links to, resolved (a symlink in
        # /usr/local/bin may lead into a home directory).
        places = [str(Path(home).resolve()) + "/"]
        link = venv / "bin" / "python"
        if link.is_symlink():
            places.append(str(link.resolve()))
    for prefix in hidden_prefixes(answers):
        wanted = prefix.lower() if windows else prefix
        if any(place.startswith(wanted) for place in places):
            hidden = prefix.rstrip("\\/")
            fix = (
                "C:\\Program Files\\Python311\\python.exe"
                if windows
                else "PYTHON=/usr/bin/python3 install.sh"
            )
            return [
                Problem(
                    "deploy.interpreter",
                    f"the environment {venv} is built on the interpreter in {home}, under {hidden}, "
                    "which the service cannot see: it would fail to start",
                    file=file,
                    hint=f"rebuild it on an interpreter outside home directories and /tmp, e.g. {fix}",
                )
            ]
    return []
