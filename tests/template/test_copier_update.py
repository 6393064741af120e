"""`copier update` from the template's git repository: changes apply, operator edits survive.

The template is copied into a temporary git repository and tagged, a root is rendered from
it with the copier CLI and committed, then the template changes (a new tag) and the root is
updated, as an operator upgrading a device would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.template._support import cli, copy_template

GIT_ENV = {
    "GIT_AUTHOR_NAME": "template test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "template test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
UNIT = "schnitzel-stream-edge-1.service"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(args),
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
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
    base = repo / "templates" / "deployment"
    for relative, (old, new) in replacements.items():
        path = base / relative
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


UNIT_TEMPLATE = "{% if target_os == 'linux' %}schnitzel-stream-{{ deployment_name }}.service{% endif %}.jinja"


def test_update_applies_and_keeps_edits(tmp_path: Path) -> None:
    repo = _template_repo(tmp_path)
    root = _rendered_root(tmp_path, repo)
    assert "_commit: v0.1.0" in (root / ".copier-answers.yml").read_text(encoding="utf-8")

    # The operator tunes the graph and fills in a secret by hand.
    graph = root / "config" / "graph.yaml"
    graph.write_text(
        graph.read_text(encoding="utf-8").replace("threshold: 25", "threshold: 31"), encoding="utf-8"
    )
    _git(root, "commit", "--quiet", "-am", "tune the motion threshold")
    env = root / "config" / "schnitzel-stream.env"
    env.write_text(env.read_text(encoding="utf-8") + "SCHNITZEL_SITE='north gate'\n", encoding="utf-8")
    env_before = env.read_text(encoding="utf-8")

    _change_template(
        repo,
        {
            UNIT_TEMPLATE: ("TimeoutStopSec=15", "TimeoutStopSec=20"),
            "config/graph.yaml.jinja": ("max_rows: 100000", "max_rows: 50000"),
        },
        "v0.2.0",
    )
    _copier(root, "update", "--defaults", "--quiet")

    assert "TimeoutStopSec=20" in (root / UNIT).read_text(encoding="utf-8")
    updated = graph.read_text(encoding="utf-8")
    assert "threshold: 31" in updated  # the operator's edit survived
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
        graph.read_text(encoding="utf-8").replace("min_area: 100", "min_area: 150"), encoding="utf-8"
    )
    _git(root, "commit", "--quiet", "-am", "operator: min_area 150")

    _change_template(repo, {"config/graph.yaml.jinja": ("min_area: 100", "min_area: 120")}, "v0.2.0")
    _copier(root, "update", "--defaults", "--quiet", "--conflict", "inline")

    text = graph.read_text(encoding="utf-8")
    assert "<<<<<<<" in text and ">>>>>>>" in text
    assert "min_area: 150" in text and "min_area: 120" in text
    # The conflict cannot reach a device unnoticed: the root no longer validates.
    result = cli("validate", "--deployment", str(root))
    assert result.returncode == 1
    assert "graph.yaml" in result.stdout
