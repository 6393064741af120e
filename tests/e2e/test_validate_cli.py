"""``schnitzel-stream validate`` and ``schema`` end to end, on real files, mostly as subprocesses.

The corpus in ``invalid_graphs/`` holds one broken graph per file. Each file's header says
what must be reported::

    # Invalid: <what is wrong>
    # expect: code=<code> path=<json path, or - for none> line=<line>

Every corpus file runs through the real CLI entry point in-process (fast), a handful also
as real subprocesses, and the whole directory once more in one subprocess with JSON output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from schnitzel_stream.cli.__main__ import main
from schnitzel_stream.graph.report import REPORT_SCHEMA
from schnitzel_stream.graph.schema import PUBLISHED_SCHEMAS
from tests.support.corpus import SCRUB as _SCRUB
from tests.support.corpus import cli, expectations, reported
from tests.support.probe import fresh_python

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "invalid_graphs"
VALID = sorted([*(HERE / "valid_graphs").glob("*.yaml"), *(REPO / "ops" / "graphs").glob("*.yaml")])
REFERENCE = REPO / "ops" / "graphs" / "synthetic_camera.yaml"
CORPUS_FILES = sorted(CORPUS.glob("*.yaml"))


def test_the_corpus_is_large_and_every_file_says_what_to_expect() -> None:
    assert len(CORPUS_FILES) >= 40
    for path in CORPUS_FILES:
        assert expectations(path), f"{path.name} has no '# expect:' header"


@pytest.mark.parametrize("graph", [pytest.param(p, id=p.stem) for p in CORPUS_FILES])
def test_invalid_graph(
    graph: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _SCRUB:
        monkeypatch.delenv(name, raising=False)
    code = main(["validate", str(graph)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert "internal.error" not in out
    for expect in expectations(graph):
        assert reported(out, expect), f"expected {expect} in:\n{out}"


SUBPROCESS_SAMPLES = [
    "yaml_python_tag",
    "yaml_billion_laughs",
    "yaml_not_utf8",
    "plugin_os_system",
    "graph_cycle",
    "graph_frames_into_jsonl",
    "env_two_missing_variables",
]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLES)
def test_invalid_graph_as_a_real_subprocess(name: str) -> None:
    graph = CORPUS / f"{name}.yaml"
    result = cli("validate", str(graph))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    for expect in expectations(graph):
        assert reported(result.stdout, expect), result.stdout


def test_whole_corpus_as_json_in_one_call() -> None:
    result = cli("validate", "--format", "json", str(CORPUS))
    assert result.returncode == 1
    assert result.stderr == ""
    report = json.loads(result.stdout)
    Draft202012Validator(REPORT_SCHEMA).validate(report)
    assert [Path(f["path"]).name for f in report["files"]] == [p.name for p in CORPUS_FILES]
    assert all(not f["valid"] for f in report["files"])
    for entry in report["files"]:
        codes = {p["code"] for p in entry["problems"]}
        wanted = {e.code for e in expectations(Path(entry["path"]))}
        assert wanted <= codes, entry


@pytest.mark.parametrize("graph", [pytest.param(p, id=p.stem) for p in VALID])
def test_valid_graph(graph: Path) -> None:
    result = cli("validate", str(graph))
    assert result.returncode == 0, result.stdout
    assert f"{graph}: valid" in result.stdout
    assert "0 invalid, 0 errors" in result.stdout


def test_several_paths_and_a_summary(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 2\nnodes: []\n")
    result = cli("validate", str(REFERENCE), str(broken), str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{REFERENCE}: valid" in lines
    assert f"{tmp_path / 'missing.yaml'}: error: no such file [io.missing]" in lines
    assert lines[-1] == "3 files checked, 2 invalid, 2 errors, 0 warnings"


def test_directories_are_walked(tmp_path: Path) -> None:
    (tmp_path / "site" / "cams").mkdir(parents=True)
    (tmp_path / "site" / "cams" / "front.yml").write_text(REFERENCE.read_text(encoding="utf-8"))
    (tmp_path / "site" / "main.yaml").write_text(REFERENCE.read_text(encoding="utf-8"))
    (tmp_path / "site" / "README.md").write_text("# not a graph\n")
    result = cli("validate", str(tmp_path / "site"))
    assert result.returncode == 0, result.stdout
    checked = [line.split(": ")[0] for line in result.stdout.splitlines() if line.endswith(": valid")]
    assert checked == [str(tmp_path / "site" / "cams" / "front.yml"), str(tmp_path / "site" / "main.yaml")]


def test_directory_without_graphs(tmp_path: Path) -> None:
    result = cli("validate", str(tmp_path))
    assert result.returncode == 1
    assert "[io.no-graphs]" in result.stdout


def test_file_over_one_mib(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"version: 2\n" + b"# padding\n" * 110_000)
    result = cli("validate", str(big))
    assert result.returncode == 1
    assert "[io.too-large]" in result.stdout and "limited to 1 MiB" in result.stdout


def test_utf16_file(tmp_path: Path) -> None:
    graph = tmp_path / "utf16.yaml"
    graph.write_bytes(REFERENCE.read_text(encoding="utf-8").encode("utf-16"))
    result = cli("validate", str(graph))
    assert result.returncode == 1
    assert f"{graph}:1:1: error: the file is not valid UTF-8" in result.stdout
    assert "looks like UTF-16" in result.stdout


def test_json_report_for_a_valid_graph() -> None:
    result = cli("validate", "--format", "json", str(REFERENCE))
    assert result.returncode == 0
    report = json.loads(result.stdout)
    Draft202012Validator(REPORT_SCHEMA).validate(report)
    assert report == {"valid": True, "files": [{"path": str(REFERENCE), "valid": True, "problems": []}]}


def test_github_annotations() -> None:
    graph = CORPUS / "schema_config_unknown_key.yaml"
    result = cli("validate", "--format", "github", str(graph))
    assert result.returncode == 1
    first, *_, last = result.stdout.splitlines()
    assert first.startswith(f"::error file={graph},line=8,col=14,title=schema.unknown-key::")
    assert first.endswith("nodes[0].config.widht: unknown key 'widht' (did you mean 'width'?)")
    assert last == "1 file checked, 1 invalid, 1 error, 0 warnings"


@pytest.mark.parametrize(
    "env",
    [pytest.param({}, id="pipe"), pytest.param({"NO_COLOR": "1", "FORCE_COLOR": "1"}, id="no-color-wins")],
)
def test_no_escape_sequences_when_not_a_terminal(env: dict[str, str]) -> None:
    result = cli("validate", str(CORPUS / "graph_cycle.yaml"), env=env)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr
    assert "edges form a cycle: a -> b -> a" in result.stdout
    assert "{from: b, to: a}" in result.stdout  # the quoted line is there without colour too


def test_force_color_colours_a_pipe() -> None:
    result = cli("validate", str(CORPUS / "graph_cycle.yaml"), env={"FORCE_COLOR": "1"})
    assert result.returncode == 1
    assert "\x1b[" in result.stdout and "edges form a cycle" in result.stdout


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = cli("validate", "--format", "json", "--output", str(target), str(CORPUS / "graph_cycle.yaml"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "1 file checked, 1 invalid, 1 error, 0 warnings"
    Draft202012Validator(REPORT_SCHEMA).validate(json.loads(target.read_text(encoding="utf-8")))


def test_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("validate", "--output", str(tmp_path / "no" / "such" / "dir" / "r.txt"), str(REFERENCE))
    assert result.returncode == 2
    assert "cannot write the report" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["validate"], "PATH", id="no-paths"),
        pytest.param(["validate", "--format", "xml", "g.yaml"], "invalid choice: 'xml'", id="bad-format"),
        pytest.param(["schema", "--name", "nope"], "invalid choice: 'nope'", id="bad-schema-name"),
    ],
)
def test_usage_errors_exit_2(args: list[str], fragment: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_path_options_feed_path_classes(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(REFERENCE.read_text(encoding="utf-8").replace("width: 640", 'width: "${state}"'))
    custom = tmp_path / "custom-state"
    result = cli("validate", "--state-dir", str(custom), str(graph))
    assert result.returncode == 1
    assert f"expected an integer, got the string '{custom}'" in result.stdout


def test_environment_allowlist_reaches_validate(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(
        REFERENCE.read_text(encoding="utf-8").replace(
            "plugin: motion_detector", "plugin: acme_nodes:Detector"
        )
    )
    refused = cli("validate", str(graph))
    assert "[plugin.not-allowed]" in refused.stdout
    allowed = cli("validate", str(graph), env={"SCHNITZEL_STREAM_PLUGIN_ALLOWLIST": "acme_nodes"})
    assert "[plugin.not-allowed]" not in allowed.stdout
    assert "cannot import plugin module 'acme_nodes'" in allowed.stdout


@pytest.mark.parametrize(
    ("graph", "code"),
    [pytest.param(REFERENCE, 0, id="valid"), pytest.param(CORPUS / "graph_cycle.yaml", 1, id="invalid")],
)
def test_validate_only_on_the_runtime_contract(graph: Path, code: int) -> None:
    result = cli("--graph", str(graph), "--validate-only")
    assert result.returncode == code
    assert result.stdout.splitlines()[-1].startswith("1 file checked")


def test_help_lists_every_validate_flag() -> None:
    result = cli("validate", "--help")
    assert result.returncode == 0
    for flag in ("--format", "--output", "--state-dir", "--scope", "--root", "--config-dir", "--logs-dir"):
        assert flag in result.stdout


@pytest.mark.parametrize("name", PUBLISHED_SCHEMAS)
def test_schema_command_prints_the_committed_file(name: str, tmp_path: Path) -> None:
    committed = (REPO / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")
    printed = cli("schema", "--name", name)
    assert printed.returncode == 0
    assert printed.stdout == committed
    target = tmp_path / "out.json"
    written = cli("schema", "--name", name, "--output", str(target))
    assert (written.returncode, written.stdout) == (0, "")
    assert target.read_text(encoding="utf-8") == committed


def test_schema_defaults_to_the_graph_schema() -> None:
    result = cli("schema")
    assert json.loads(result.stdout)["$id"].endswith("/graph.schema.json")


_HEAVY_PROBE = """
import sys
from schnitzel_stream.cli.__main__ import main
code = main(["validate", "--format", "json", *sys.argv[1:]])
heavy = sorted(m for m in ("cv2", "numpy", "requests", "paho", "rich") if m in sys.modules)
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def test_validate_imports_no_heavy_libraries() -> None:
    """Validating every reference and valid graph must not import cv2, numpy or requests."""
    result = fresh_python(_HEAVY_PROBE, *map(str, VALID))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "HEAVY=\n" in result.stderr + "\n", result.stderr
