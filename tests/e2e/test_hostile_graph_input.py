"""Hostile input to the graph layer, with real processes (issue #11, classes 3, 5, 6, 7, 8).

- class 3: an environment value that is not UTF-8 (bytes a service manager passed through, in
  ``os.environb`` or an env file) is refused by ``validate`` with the graph's file and line,
  and ``run`` exits 78 before any node starts: never a crash loop at the first packet;
- class 5: inputs that once ended as ``internal.error`` or ran for minutes get a located error;
- class 6: ``*_from_env`` variables that are unset are reported by plain ``validate``;
- class 7: the quoted source line of the text report masks credentials;
- class 8: node ids outside the safe set are refused, and never printed raw.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

PRINT_GRAPH = """\
version: 2
nodes:
  - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {n: 1}}]}}
  - id: out
    kind: sink
    plugin: print_sink
    config: {prefix: "${CAM_SITE} "}
edges:
  - {from: src, to: out}
"""


def _env(**extra: str) -> dict[str, str]:
    """The test's environment, scrubbed, plus ``extra`` (values may hold surrogate escapes)."""
    scrub = {"SCHNITZEL_STREAM_PLUGIN_ALLOWLIST", "FORCE_COLOR", "CAM_SITE", "BACKEND_URL"}
    base = {key: value for key, value in os.environ.items() if key not in scrub}
    return {**base, "NO_COLOR": "1", **extra}


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # On POSIX the child gets bytes (os.environb, as a service manager passes them): a
    # surrogate escape in ``env`` becomes the raw byte it stands for. Windows keeps UTF-16,
    # where the same escape stays a lone surrogate the child reads back unchanged.
    environ: dict[Any, Any] = env
    if os.name == "posix":
        environ = {os.fsencode(key): os.fsencode(value) for key, value in env.items()}
    return subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", *args],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env=environ,
        cwd=cwd,
        check=False,
    )


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    path = tmp_path / "graph.yaml"
    path.write_text(PRINT_GRAPH, encoding="utf-8")
    return path


def test_a_non_utf8_environment_value_is_caught_by_validate_and_run(graph: Path, tmp_path: Path) -> None:
    bad = b"gate-\xff\xfe".decode("utf-8", "surrogateescape")  # the bytes 0xff 0xfe in the child's environ
    env = _env(CAM_SITE=bad, SCHNITZEL_STREAM_STATE_DIR=str(tmp_path))
    if os.name == "posix":
        assert os.fsencode(env["CAM_SITE"]) == b"gate-\xff\xfe"
    location = (
        f"{graph}:7:22: error: nodes[1].config.prefix: environment variable 'CAM_SITE' is not valid UTF-8"
    )
    checked = _cli("validate", str(graph), env=env, cwd=tmp_path)
    assert checked.returncode == 1
    assert location in checked.stdout and "[interp.encoding]" in checked.stdout
    ran = _cli("--graph", str(graph), "--report-json", str(tmp_path / "r.json"), env=env, cwd=tmp_path)
    assert ran.returncode == 78, ran.stderr
    assert location in ran.stderr
    assert "Traceback" not in ran.stderr and "UnicodeEncodeError" not in ran.stderr
    assert ran.stdout == ""  # no node ran, so nothing reached the sink
    # The control: the same graph with a UTF-8 value runs and prints.
    fine = _cli("--graph", str(graph), env=_env(CAM_SITE="gate-\u00e9"), cwd=tmp_path)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout.startswith("gate-\u00e9 {")


def test_a_non_utf8_value_from_an_env_file_is_caught_too(graph: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "edge.env"
    env_file.write_bytes(b"# written by hand\nCAM_SITE=gate-\xff\n")
    env = _env()
    checked = _cli("validate", "--env-file", str(env_file), str(graph), env=env, cwd=tmp_path)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"{graph}:7:22: error:" in checked.stdout and "[interp.encoding]" in checked.stdout
    ran = _cli("--env-file", str(env_file), "--graph", str(graph), env=env, cwd=tmp_path)
    assert ran.returncode == 78
    assert "[interp.encoding]" in ran.stderr and "Traceback" not in ran.stderr
    # A value the graph does not use passes through untouched, as systemd passes it.
    env_file.write_bytes(b"CAM_SITE=gate\nUNUSED=\xff\xfe\n")
    assert _cli("--env-file", str(env_file), "--graph", str(graph), env=env, cwd=tmp_path).returncode == 0


HTTP_GRAPH = """\
version: 2
nodes:
  - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {n: 1}}]}}
  - id: http
    kind: sink
    plugin: http_sink
    config: {url_from_env: BACKEND_URL, retry_max_attempts: 1}
edges:
  - {from: src, to: http}
"""


def test_an_unset_from_env_variable_is_reported_by_plain_validate(tmp_path: Path) -> None:
    graph = tmp_path / "http.yaml"
    graph.write_text(HTTP_GRAPH, encoding="utf-8")
    env = _env()
    where = f"{graph}:7:28:"
    plain = _cli("validate", str(graph), env=env, cwd=tmp_path)
    assert plain.returncode == 0
    assert f"{where} warning: nodes[1].config.url_from_env:" in plain.stdout and "[env.unset]" in plain.stdout
    strict = _cli("validate", "--strict", str(graph), env=env, cwd=tmp_path)
    assert strict.returncode == 1 and f"{where} error:" in strict.stdout
    env_file = tmp_path / "edge.env"
    env_file.write_text("OTHER=1\n", encoding="utf-8")
    with_file = _cli("validate", "--env-file", str(env_file), str(graph), env=env, cwd=tmp_path)
    assert with_file.returncode == 1 and f"{where} error:" in with_file.stdout
    ran = _cli("--graph", str(graph), env=env, cwd=tmp_path)
    assert ran.returncode == 78 and f"{where} error:" in ran.stderr
    env_file.write_text("BACKEND_URL=http://127.0.0.1:9/x\n", encoding="utf-8")
    assert (
        _cli(
            "validate", "--strict", "--env-file", str(env_file), str(graph), env=env, cwd=tmp_path
        ).returncode
        == 0
    )


def test_a_non_utf8_from_env_value_is_refused_with_its_location(tmp_path: Path) -> None:
    graph = tmp_path / "http.yaml"
    graph.write_text(HTTP_GRAPH, encoding="utf-8")
    env_file = tmp_path / "edge.env"
    env_file.write_bytes(b"BACKEND_URL=http://127.0.0.1:9/\xff\n")
    ran = _cli("--env-file", str(env_file), "--graph", str(graph), env=_env(), cwd=tmp_path)
    assert ran.returncode == 78
    assert (
        f"{graph}:7:28: error: nodes[1].config.url_from_env:" in ran.stderr and "[env.encoding]" in ran.stderr
    )


@pytest.mark.parametrize(
    ("config", "code"),
    [
        pytest.param('"' + "${A:-" * 5000 + "x" + "}" * 5000 + '"', "interp.too-deep", id="nested-5000"),
        pytest.param(
            '"' + "${oc.env:A," * 5000 + "x" + "}" * 5000 + '"', "interp.too-deep", id="oc-env-nested-5000"
        ),
        pytest.param('"${oc.env:A,' + "'" * 200_000 + '}"', "interp.syntax", id="quotes-200k"),
        pytest.param("0x" + "f" * 50_000, "yaml.number-range", id="hex-50k-digits"),
        pytest.param(".nan", "yaml.number-range", id="nan"),
    ],
)
def test_pathological_values_get_a_located_error_never_an_internal_one(
    config: str, code: str, tmp_path: Path
) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(PRINT_GRAPH.replace('"${CAM_SITE} "', config), encoding="utf-8")
    result = _cli("validate", "--format", "json", str(graph), env=_env(), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    problems = json.loads(result.stdout)["files"][0]["problems"]
    assert "internal.error" not in {p["code"] for p in problems}
    located = [p for p in problems if p["code"] == code]
    assert located and located[0]["line"] == 7 and located[0]["path"] == "nodes[1].config.prefix", problems


def test_a_long_line_with_thousands_of_misspelt_edges_is_reported_in_bounded_time(tmp_path: Path) -> None:
    ids = [f"node_number_{i:04d}_abcdefghij" for i in range(256)]
    lines = ["version: 2", "nodes:", *(f"  - {{id: {i}, kind: source, plugin: static_source}}" for i in ids)]
    lines += [
        "edges:",
        *(f"  - {{from: {ids[n % 256]}, to: node_numbr_{n:04d}_abcdefghij}}" for n in range(4096)),
    ]
    graph = tmp_path / "g.yaml"
    graph.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Without a bound on did-you-mean this took over a minute of CPU; the timeout is generous.
    result = _cli("validate", "--format", "json", str(graph), env=_env(), cwd=tmp_path)
    problems = json.loads(result.stdout)["files"][0]["problems"]
    assert len(problems) == 4096 and all(p["code"] == "graph.unknown-node" for p in problems)
    assert sum(1 for p in problems if "did you mean" in p.get("hint", "")) <= 16


def test_the_quoted_line_never_shows_a_password_or_a_bidi_override(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(
        PRINT_GRAPH.replace(
            'config: {prefix: "${CAM_SITE} "}', 'config: {prefix: 5, note: "rtsp://admin:hunter2@cam/1"}'
        )
        .replace("id: out", 'id: "out\u202e"')
        .replace("to: out}", 'to: "out\u202e"}'),
        encoding="utf-8",
    )
    result = _cli("validate", str(graph), env=_env(), cwd=tmp_path)
    assert result.returncode == 1
    assert "hunter2" not in result.stdout and "rtsp://admin:***@cam/1" in result.stdout
    assert "\u202e" not in result.stdout and "out\\u202e" in result.stdout
    assert "[graph.node-id]" in result.stdout and "did you mean 'out'?" in result.stdout


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - {id: src, kind: source, plugin: static_source}\n", encoding="utf-8"
    )
    plain = _cli("validate", "--format", "json", str(graph), env=_env(), cwd=tmp_path)
    assert plain.returncode == 0
    assert [p["severity"] for p in json.loads(plain.stdout)["files"][0]["problems"]] == ["warning"]
    strict = _cli("validate", "--strict", "--format", "json", str(graph), env=_env(), cwd=tmp_path)
    assert strict.returncode == 1
    (problem,) = json.loads(strict.stdout)["files"][0]["problems"]
    assert (problem["severity"], problem["code"]) == ("error", "graph.dead-end")


def test_a_megabyte_of_key_gives_a_short_located_report(tmp_path: Path) -> None:
    key = "k" * 300_000
    graph = tmp_path / "g.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - id: src\n    kind: source\n    plugin: static_source\n    config:\n"
        f"      ? {key}\n      : 1\n  - {{id: out, kind: sink, plugin: print_sink}}\nedges: [{{from: src, to: out}}]\n",
        encoding="utf-8",
    )
    result = _cli("validate", str(graph), env=_env(), cwd=tmp_path)
    assert result.returncode == 1
    assert len(result.stdout) < 2_000, len(result.stdout)
    assert f"{graph}:7:9: error:" in result.stdout and "[schema.unknown-key]" in result.stdout
