"""The GitHub workflows, checked here because no GitHub runner runs in this repository's CI.

zizmor and check-jsonschema run for real as subprocesses; the rest reads the YAML and asserts
the rules that make the matrix worth copying: three OSes, pinned actions, least privilege, and
only nox sessions that exist.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GITHUB = REPO_ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
THREE_OSES = {"ubuntu-latest", "windows-latest", "macos-latest"}

_SHA_PIN = re.compile(r"^\s*-?\s*uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>\s+#.*)?$")
_VERSION_COMMENT = re.compile(r"#\s*v\d+\.\d+\.\d+\s*$")


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


@cache
def _workflow(name: str) -> dict[str, Any]:
    return _load(GITHUB / "workflows" / name)


def _jobs(name: str) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = _workflow(name)["jobs"]
    return jobs


def _steps() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOWS:
        for job_id, job in _jobs(path.name).items():
            for step in job.get("steps", []):
                yield path.name, job_id, step


def _matrix_oses(job: dict[str, Any]) -> set[str]:
    matrix = job["strategy"]["matrix"]
    oses = set(matrix.get("os", []))
    oses.update(entry["os"] for entry in matrix.get("include", []))
    return oses


def _tool(name: str) -> str:
    """A console script installed next to the interpreter running the tests."""
    suffix = ".exe" if sys.platform == "win32" else ""
    return str(Path(sysconfig.get_path("scripts")) / f"{name}{suffix}")


def _nox_sessions_called(script: str) -> list[str]:
    """Every session named after ``nox -s`` / ``--session(s)`` in a ``run:`` script."""
    names: list[str] = []
    for line in script.replace("\\\n", " ").splitlines():
        tokens = shlex.split(line, comments=True)
        if not any(Path(token).name == "nox" for token in tokens):
            continue
        collecting = False
        for token in tokens:
            option, equals, value = token.partition("=")
            if equals and option in ("--session", "--sessions"):
                names.append(value)
                collecting = False
            elif token in ("-s", "--session", "--sessions", "-e"):
                collecting = True
            elif token.startswith("-"):
                collecting = False
            elif collecting:
                names.append(token)
    return names


def _zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", "--format", "plain", str(target)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )


def test_zizmor_offline_reports_no_findings() -> None:
    done = _zizmor(GITHUB)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout


_CARELESS_WORKFLOW = """\
on: issues
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def test_zizmor_really_audits_a_careless_workflow(tmp_path: Path) -> None:
    # The no-findings result above means something only if the same call can fail.
    workflow = tmp_path / ".github" / "workflows" / "careless.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(_CARELESS_WORKFLOW, encoding="utf-8")
    done = _zizmor(workflow)
    assert done.returncode != 0
    for audit in ("template-injection", "artipacked", "unpinned-uses"):
        assert audit in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("script", "sessions"),
    [
        pytest.param("uv run nox -s unit e2e", ["unit", "e2e"], id="two-sessions"),
        pytest.param("uv run nox -s wheel -- --out dist", ["wheel"], id="posargs-after-dashes"),
        pytest.param("nox --session=template", ["template"], id="equals-form"),
        pytest.param("uv run nox -s lint \\\n  typecheck", ["lint", "typecheck"], id="continued-line"),
        pytest.param("uv run pytest -s tests", [], id="not-nox"),
    ],
)
def test_the_session_parser_finds_every_called_session(script: str, sessions: list[str]) -> None:
    assert _nox_sessions_called(script) == sessions


@pytest.mark.parametrize(
    ("line", "pinned"),
    [
        pytest.param("- uses: actions/checkout@" + "a" * 40 + " # v5.0.0", True, id="sha-and-version"),
        pytest.param("- uses: actions/checkout@v5", False, id="tag"),
        pytest.param("  uses: actions/checkout@" + "a" * 40, False, id="sha-without-comment"),
    ],
)
def test_the_pin_rule_tells_a_pinned_action_from_an_unpinned_one(line: str, pinned: bool) -> None:
    match = _SHA_PIN.match(line)
    assert match is not None
    ok = bool(re.fullmatch(r"[0-9a-f]{40}", match["ref"])) and bool(
        _VERSION_COMMENT.search(match["comment"] or "")
    )
    assert ok is pinned


@pytest.mark.parametrize(
    ("document", "schema"),
    [
        *(pytest.param(path, "vendor.github-workflows", id=path.name) for path in WORKFLOWS),
        pytest.param(GITHUB / "dependabot.yml", "vendor.dependabot", id="dependabot.yml"),
    ],
)
def test_github_files_match_their_published_schema(document: Path, schema: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(document)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps: []\n", encoding="utf-8")  # no runs-on
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(broken),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr


def test_there_are_a_ci_and_a_release_workflow() -> None:
    assert {path.name for path in WORKFLOWS} == {"ci.yml", "release.yml"}


def test_the_tests_matrix_covers_three_oses_and_the_oldest_and_newest_python() -> None:
    matrix = _jobs("ci.yml")["tests"]["strategy"]["matrix"]["include"]
    assert {entry["os"] for entry in matrix} == THREE_OSES
    assert {entry["python"] for entry in matrix if entry["os"] == "ubuntu-latest"} == {"3.11", "3.13"}
    assert all(entry["python"] == "3.11" for entry in matrix if entry["os"] != "ubuntu-latest")


@pytest.mark.parametrize(
    ("workflow", "job", "session"),
    [
        pytest.param("ci.yml", "tests", "e2e", id="ci-tests-e2e"),
        pytest.param("ci.yml", "tests", "graph_tests", id="ci-tests-graph-tests"),
        pytest.param("ci.yml", "template", "template", id="ci-template"),
        pytest.param("ci.yml", "wheel", "wheel", id="ci-wheel"),
        pytest.param("ci.yml", "lifecycle", "lifecycle", id="ci-lifecycle"),
        pytest.param("release.yml", "verify", "wheel", id="release-verify"),
    ],
)
def test_cross_os_jobs_run_their_session_on_all_three_oses(workflow: str, job: str, session: str) -> None:
    definition = _jobs(workflow)[job]
    assert definition["runs-on"] == "${{ matrix.os }}"
    assert _matrix_oses(definition) == THREE_OSES
    called = [name for step in definition["steps"] for name in _nox_sessions_called(step.get("run", ""))]
    assert session in called


def test_every_nox_session_a_workflow_calls_exists() -> None:
    # Plain `--list`: its `--json` form lists only the sessions selected by default.
    listed = subprocess.run(
        [sys.executable, "-m", "nox", "--list", "--noxfile", str(REPO_ROOT / "noxfile.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )
    defined = {
        line[2:].split(" -> ")[0].strip() for line in listed.stdout.splitlines() if line[:2] in ("* ", "- ")
    }
    assert {"tests", "lint"} <= defined, listed.stdout
    called = {
        (workflow, name)
        for workflow, _, step in _steps()
        for name in _nox_sessions_called(step.get("run", ""))
    }
    assert called, "no workflow calls a nox session"
    missing = sorted(f"{workflow}: nox -s {name}" for workflow, name in called if name not in defined)
    assert not missing, f"sessions missing from noxfile.py: {missing}"


def test_every_repository_path_a_step_names_exists() -> None:
    named = {
        token
        for _, _, step in _steps()
        for token in shlex.split(step.get("run", "").replace("\\\n", " "), comments=True)
        if re.match(r"^(tests|ops|src|schemas)/", token)
    }
    assert named, "expected the workflows to name tests and ops files"
    assert not sorted(path for path in named if not (REPO_ROOT / path).exists())


def test_every_action_is_pinned_to_a_full_commit_sha_with_a_version_comment() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = _SHA_PIN.match(line)
            if match is None:
                continue
            where = f"{path.name}:{number}"
            assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{where}: {match['ref']} is not a commit SHA"
            assert _VERSION_COMMENT.search(match["comment"] or ""), f"{where}: no '# vX.Y.Z' comment"
            pins.setdefault(match["action"], set()).add(line.split("@", 1)[1].strip())
    assert "actions/checkout" in pins
    # One version of each action everywhere, so a Dependabot bump moves them together.
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


def test_every_step_that_uses_an_action_was_seen_by_the_pin_check() -> None:
    uses = [step["uses"] for _, _, step in _steps() if "uses" in step]
    assert uses and all(_SHA_PIN.match(f"uses: {ref}") for ref in uses)


@pytest.mark.parametrize("workflow", [pytest.param(p.name, id=p.name) for p in WORKFLOWS])
def test_permissions_are_empty_at_the_top_and_granted_per_job(workflow: str) -> None:
    assert _workflow(workflow)["permissions"] == {}
    for job_id, job in _jobs(workflow).items():
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{job_id} must state its permissions"
        writes = {scope for scope, level in granted.items() if level == "write"}
        expected = {"contents"} if (workflow, job_id) == ("release.yml", "publish") else set()
        assert writes == expected, f"{workflow} {job_id} writes {writes}"


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = [
        (workflow, job_id, step)
        for workflow, job_id, step in _steps()
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert len(checkouts) >= 6
    for workflow, job_id, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, f"{workflow} {job_id}"


def test_no_expression_is_expanded_inside_a_shell_script() -> None:
    # Values reach scripts through env: a `${{ }}` in `run:` is a template-injection hole.
    offenders = [(w, j, step.get("name")) for w, j, step in _steps() if "${{" in step.get("run", "")]
    assert offenders == []


def test_ci_cancels_superseded_runs_and_release_never_cancels() -> None:
    assert _workflow("ci.yml")["concurrency"]["cancel-in-progress"] is True
    assert _workflow("release.yml")["concurrency"]["cancel-in-progress"] is False


def test_setup_uv_caches_in_ci_but_never_in_the_release() -> None:
    caching = {
        workflow: {
            step["with"]["enable-cache"]
            for w, _, step in _steps()
            if w == workflow and "setup-uv" in step.get("uses", "")
        }
        for workflow in ("ci.yml", "release.yml")
    }
    assert caching == {"ci.yml": {True}, "release.yml": {False}}


def test_the_release_tags_the_version_it_built_and_attaches_the_lock_export() -> None:
    document: dict[Any, Any] = _workflow("release.yml")
    triggers = document[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"workflow_dispatch"}
    build = _jobs("release.yml")["build"]
    assert build["if"] == "github.ref == 'refs/heads/main'"
    build_script = " ".join(step.get("run", "") for step in build["steps"])
    assert "nox -s wheel -- --out dist" in build_script
    # The version comes from pyproject.toml, and the built wheel must carry exactly it.
    assert 'tomllib.load(open("pyproject.toml", "rb"))["project"]["version"]' in build_script
    assert 'test -f "dist/schnitzel_stream-${VERSION}-py3-none-any.whl"' in build_script
    publish = _jobs("release.yml")["publish"]
    assert set(publish["needs"]) == {"build", "verify"}
    step = next(step for step in publish["steps"] if "gh release create" in step.get("run", ""))
    assert step["env"]["TAG"] == "v${{ needs.build.outputs.version }}"
    assert '--target "${COMMIT}"' in step["run"] and "dist/*" in step["run"]


def test_dependabot_updates_the_actions_and_uv_lock() -> None:
    updates = _load(GITHUB / "dependabot.yml")["updates"]
    ecosystems = {entry["package-ecosystem"]: entry for entry in updates}
    assert {"github-actions", "uv"} <= set(ecosystems)
    assert all(entry["directory"] == "/" for name, entry in ecosystems.items() if name != "docker")
