"""`validate --deployment A --deployment B` checks every root, in one report (issue #11, class 6)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.template._support import answers, cli, render


def _root(template_dir: Path, where: Path, name: str) -> Path:
    return render(template_dir, where / name, answers("linux", "system", "synthetic_to_http_durable"))


def test_every_root_is_checked_and_a_broken_first_one_is_not_hidden(
    template_dir: Path, tmp_path: Path
) -> None:
    broken = _root(template_dir, tmp_path, "broken")
    good = _root(template_dir, tmp_path, "good")
    graph = broken / "config" / "graph.yaml"
    graph.write_text(graph.read_text(encoding="utf-8") + "\nbogus_top_level_key: 1\n", encoding="utf-8")
    result = cli("validate", "--deployment", str(broken), "--deployment", str(good), "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    checked = {entry["path"] for entry in report["files"]}
    assert str(graph) in checked and str(good / "config" / "graph.yaml") in checked
    invalid = [entry["path"] for entry in report["files"] if not entry["valid"]]
    assert invalid == [str(graph)]
    # In the other order the broken root is still found: the last ROOT no longer wins.
    swapped = cli("validate", "--deployment", str(good), "--deployment", str(broken))
    assert swapped.returncode == 1 and "bogus_top_level_key" in swapped.stdout


def test_venv_with_several_roots_is_a_usage_error(template_dir: Path, tmp_path: Path) -> None:
    one = _root(template_dir, tmp_path, "one")
    two = _root(template_dir, tmp_path, "two")
    result = cli("validate", "--deployment", str(one), "--deployment", str(two), "--venv", str(tmp_path))
    assert result.returncode == 2
    assert "--venv" in result.stderr
