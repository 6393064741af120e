"""``schnitzel-stream test`` end to end: real test files, real graphs, the real engine.

The corpus in ``invalid_tests/`` holds one broken test file per file, each saying in its
header what must be reported (see its README). The reference graphs' own tests
(``ops/graphs/tests``) must pass, as the CI matrix and ``.ci/run`` rely on.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream.cli.__main__ import main
from tests.support.corpus import SCRUB, cli, expectations, reported

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "invalid_tests"
CORPUS_FILES = sorted(CORPUS.glob("*.test.yaml"))
OPS_TESTS = REPO / "ops" / "graphs" / "tests"
JUNIT_SCHEMAS = sorted((HERE / "junit_schemas").glob("*.xsd"))


def test_the_corpus_is_large_and_every_file_says_what_to_expect() -> None:
    assert len(CORPUS_FILES) >= 40
    for path in CORPUS_FILES:
        assert expectations(path), f"{path.name} has no '# expect:' header"


@pytest.mark.parametrize(
    "test_file", [pytest.param(p, id=p.name.removesuffix(".test.yaml")) for p in CORPUS_FILES]
)
def test_invalid_test_file(
    test_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SCRUB:
        monkeypatch.delenv(name, raising=False)
    code = main(["test", str(test_file)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert "internal" not in out
    assert f"{test_file}: invalid test file, no case ran" in out
    assert out.rstrip().endswith("1 test file, 0 cases: 0 passed, 0 failed, 0 errors; 1 invalid test file")
    for expect in expectations(test_file):
        assert reported(out, expect), f"expected {expect} in:\n{out}"


def test_a_schema_outside_is_refused_without_showing_its_content(capsys: pytest.CaptureFixture[str]) -> None:
    """Pointing a payload schema at a file with secrets must never echo the secret."""
    code = main(["test", str(CORPUS / "schema_outside_not_json.test.yaml")])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "root:" not in out  # /etc/passwd's first field on any Unix


def test_the_whole_corpus_in_one_real_subprocess_as_json() -> None:
    result = cli("test", str(CORPUS), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    schema = json.loads((REPO / "schemas" / "test-report.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(report)
    assert report["passed"] is False
    assert report["summary"]["invalid_files"] == len(CORPUS_FILES)
    assert report["summary"]["cases"] == 0
    assert all(not file["valid"] and file["problems"] for file in report["files"])


# ---- The reference graphs' tests: what CI and `.ci/run` prove on every OS -------------------


def test_the_reference_graph_tests_pass() -> None:
    result = cli("test", "ops/graphs", "--format", "github")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "5 test files, 8 cases: 8 passed, 0 failed, 0 errors"


def test_every_reference_graph_has_a_test_file() -> None:
    graphs = sorted(p.stem for p in (REPO / "ops" / "graphs").glob("*.yaml"))
    tests = sorted(p.name.removesuffix(".test.yaml") for p in OPS_TESTS.glob("*.test.yaml"))
    assert graphs == tests


def _yaml_block(markdown: Path, heading: str, first_line: str) -> str:
    text = markdown.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    start = section.index(f"```yaml\n{first_line}")
    return section[start + len("```yaml\n") : section.index("```", start + 7)]


def test_the_ci_guide_example_runs_as_written(tmp_path: Path) -> None:
    """docs/ops/ci.md's example test file, next to a graph shaped like the one it names."""
    example = _yaml_block(REPO / "docs" / "ops" / "ci.md", "## Test your own graphs", "# graphs/tests/gate")
    (tmp_path / "graphs" / "tests").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "graphs" / "tests" / "gate.test.yaml").write_text(example, encoding="utf-8")
    graph = (REPO / "ops" / "graphs" / "synthetic_to_http_durable.yaml").read_text(encoding="utf-8")
    (tmp_path / "graphs" / "gate.yaml").write_text(graph, encoding="utf-8")
    event = (REPO / "schemas" / "event.schema.json").read_text(encoding="utf-8")
    (tmp_path / "schemas" / "event.schema.json").write_text(event, encoding="utf-8")
    result = cli("test", "graphs/", "--format", "github", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("1 test file, 1 case: 1 passed, 0 failed, 0 errors")


def test_the_readme_example_is_the_reference_test_file() -> None:
    example = _yaml_block(REPO / "README.md", "## Testing a graph", "# yaml-language-server")
    reference = (OPS_TESTS / "synthetic_to_http_durable.test.yaml").read_text(encoding="utf-8")
    case = reference[reference.index("  - name: motion events go through") : reference.index("\n\n  - name:")]
    without_comments = "\n".join(line for line in case.splitlines() if not line.lstrip().startswith("#"))
    assert without_comments.strip() in example


def test_a_directory_that_links_back_to_itself_is_walked_once(tmp_path: Path) -> None:
    """A symbolic link to a parent directory is not followed (where the OS lets us make one)."""
    tests = tmp_path / "tests"
    tests.mkdir()
    shutil.copy(OPS_TESTS / "synthetic_camera.test.yaml", tests / "a.test.yaml")
    shutil.copy(REPO / "ops" / "graphs" / "synthetic_camera.yaml", tmp_path / "synthetic_camera.yaml")
    (tests / "a.test.yaml").write_text(
        (tests / "a.test.yaml")
        .read_text(encoding="utf-8")
        .replace("../../../schemas/", f"{REPO.as_posix()}/schemas/"),
        encoding="utf-8",
    )
    with contextlib.suppress(OSError):  # Windows without the symlink privilege: no loop to skip
        (tests / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = cli("test", str(tmp_path), "--format", "github")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1 test file, 2 cases: 2 passed, 0 failed, 0 errors"


def test_an_oversized_test_file_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.test.yaml"
    big.write_bytes(b"version: 1\n" + b"# padding\n" * 120_000)
    assert main(["test", str(big)]) == 1
    out, _ = capsys.readouterr()
    assert "test files are limited to 1 MiB [io.too-large]" in out
