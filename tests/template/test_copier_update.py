"""`copier update` from the template's git repository: changes apply, operator edits survive.

The template is copied into a temporary git repository and tagged, a root is rendered from
it with the copier CLI and committed, then the template changes (a new tag) and the root is
updated, as an operator upgrading a device would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.template._support import cli, copy_template, problems_of

GIT_ENV = {
    "GIT_AUTHOR_NAME": "template test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "template test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
UNIT = "schnitzel-stream-edge-1.service"


def _run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        timeout=180,
        check=False,
    )
    assert not check or result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _git(cwd: Path, *args: str) -> None:
    _run("git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args, cwd=cwd)


def _copier(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(sys.executable, "-m", "copier", *args, cwd=cwd)


def _template_repo(tmp_path: Path) -> Path:
    repo = copy_template(tmp_path / "template-repo")
    _git(repo, "init", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "-m", "template v0.1.0")
    _git(repo, "tag", "v0.1.0")
    return repo


def _change_template(repo: Path, replacements: dict[str, tuple[str, str]], tag: str) -> None:
    """Edit files of the template repository (paths relative to it), commit and tag."""
    for relative, (old, new) in replacements.items():
        path = repo / relative
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")
    _git(repo, "commit", "--quiet", "-am", f"template {tag}")
    _git(repo, "tag", tag)


def _rendered_root(tmp_path: Path, repo: Path) -> Path:
    root = tmp_path / "device-root"
    _copier(
        tmp_path,
        "copy",
        "--defaults",
        "--quiet",
        "--data",
        "graph_profile=synthetic_to_http_durable",
        "--data",
        "backend_token=tok-original-1234",
        str(repo),
        str(root),
    )
    _git(root, "init", "--quiet")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "rendered")
    return root


UNIT_TEMPLATE = "templates/deployment/{% if target_os == 'linux' %}schnitzel-stream-{{ deployment_name }}.service{% endif %}.jinja"
#: The profile's graph is the reference graph itself (config/graph.yaml.jinja includes it).
REFERENCE_GRAPH = "ops/graphs/synthetic_to_http_durable.yaml"


def test_update_applies_and_keeps_edits(tmp_path: Path) -> None:
    repo = _template_repo(tmp_path)
    root = _rendered_root(tmp_path, repo)
    assert "_commit: v0.1.0" in (root / ".copier-answers.yml").read_text(encoding="utf-8")

    # The operator tunes the graph and fills in a secret by hand.
    graph = root / "config" / "graph.yaml"
    graph.write_text(
        graph.read_text(encoding="utf-8").replace("{downscale: 2}", "{downscale: 2, threshold: 31}"),
        encoding="utf-8",
    )
    _git(root, "commit", "--quiet", "-am", "tune the motion threshold")
    env = root / "config" / "schnitzel-stream.env"
    env.write_text(env.read_text(encoding="utf-8") + "SCHNITZEL_SITE='north gate'\n", encoding="utf-8")
    env_before = env.read_text(encoding="utf-8")

    _change_template(
        repo,
        {
            UNIT_TEMPLATE: ("TimeoutStopSec=15", "TimeoutStopSec=20"),
            REFERENCE_GRAPH: ("max_rows: 100000", "max_rows: 50000"),
        },
        "v0.2.0",
    )
    _copier(root, "update", "--defaults", "--quiet")

    assert "TimeoutStopSec=20" in (root / UNIT).read_text(encoding="utf-8")
    updated = graph.read_text(encoding="utf-8")
    assert "{downscale: 2, threshold: 31}" in updated  # the operator's edit survived
    assert "max_rows: 50000" in updated  # the template's change applied
    assert "<<<<<<<" not in updated
    assert "_commit: v0.2.0" in (root / ".copier-answers.yml").read_text(encoding="utf-8")
    # The env file (secrets, operator settings) is never overwritten by an update.
    assert env.read_text(encoding="utf-8") == env_before
    assert "tok-original-1234" in env_before
    assert "backend_token" not in (root / ".copier-answers.yml").read_text(encoding="utf-8")

    result = cli("validate", "--deployment", str(root))
    assert result.returncode == 0, result.stdout + result.stderr


def test_conflicting_edit_is_visible(tmp_path: Path) -> None:
    repo = _template_repo(tmp_path)
    root = _rendered_root(tmp_path, repo)
    graph = root / "config" / "graph.yaml"
    graph.write_text(
        graph.read_text(encoding="utf-8").replace("retry_backoff_sec: 0.5", "retry_backoff_sec: 0.7"),
        encoding="utf-8",
    )
    _git(root, "commit", "--quiet", "-am", "operator: backoff 0.7")

    _change_template(repo, {REFERENCE_GRAPH: ("retry_backoff_sec: 0.5", "retry_backoff_sec: 1.0")}, "v0.2.0")
    _copier(root, "update", "--defaults", "--quiet", "--conflict", "inline")

    text = graph.read_text(encoding="utf-8")
    assert "<<<<<<<" in text and ">>>>>>>" in text
    assert "retry_backoff_sec: 0.7" in text and "retry_backoff_sec: 1.0" in text
    # The conflict cannot reach a device unnoticed: the root no longer validates.
    result = cli("validate", "--deployment", str(root))
    assert result.returncode == 1
    assert "graph.yaml" in result.stdout


def test_a_hostile_answers_file_changes_nothing(tmp_path: Path) -> None:
    """The answers file is committed with the root: values copier would refuse, and values of
    names that are no questions (the computed layout), never reach the rendered files on update."""
    repo = _template_repo(tmp_path)
    root = _rendered_root(tmp_path, repo)
    answers = root / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    assert "install_dir: /opt/schnitzel-stream/edge-1\n" in text
    answers.write_text(
        text.replace(
            "install_dir: /opt/schnitzel-stream/edge-1\n",
            'install_dir: "/opt/x\\nExecStartPre=/bin/sh -c id"\n',
        )
        + 'logs_dir: "/x\\nExecStartPre=/bin/sh -c id"\npython_path: /bin/sh\nsep: "\\n"\n',
        encoding="utf-8",
    )
    _git(root, "commit", "--quiet", "-am", "hostile answers")
    _change_template(repo, {UNIT_TEMPLATE: ("TimeoutStopSec=15", "TimeoutStopSec=20")}, "v0.2.0")
    result = _run(sys.executable, "-m", "copier", "update", "--defaults", "--quiet", cwd=root, check=False)
    unit = (root / UNIT).read_text(encoding="utf-8")
    assert "/bin/sh" not in unit
    assert "\nExecStartPre=" not in unit
    assert "\nExecStart=/opt/schnitzel-stream/edge-1/venv/bin/python -I -B -u -m schnitzel_stream" in unit
    for script in ("install.sh", "uninstall.sh"):
        assert "/bin/sh -c id" not in (root / script).read_text(encoding="utf-8")
    # copier refuses the update (its validator runs on the stored answer) and changes nothing;
    # the names that are no questions are read by nothing.
    assert result.returncode != 0
    assert "Validation error for question 'install_dir'" in result.stderr
    assert "TimeoutStopSec=15" in unit
    # validate --deployment refuses the same answers file with the same rule.
    check = cli("validate", "--deployment", str(root), "--format", "json")
    assert check.returncode == 1
    refused = [p for p in problems_of(json.loads(check.stdout)) if p["code"] == "deploy.answers"]
    assert [p["path"] for p in refused] == ["install_dir"]
