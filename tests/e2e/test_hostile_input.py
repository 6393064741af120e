"""Hostile graph files: YAML tags, alias bombs, huge and deeply nested files, bad camera URLs.

Each case ends in a clear one-line error naming the file and line, never a traceback, and
has no effect: nothing is constructed or executed, nothing is written (see
``tests/support/hostile.py`` for the sandbox and its canaries). The plugin allowlist cases are
in ``test_hostile_plugins.py``, oversize HTTP answers and hostile template answers in
``test_hostile_services.py``.

Some cases repeat files of the invalid-graph corpus (``tests/e2e/invalid_graphs/``, run by
``test_validate_cli.py``); the corpus checks the exact problem, this file checks that the
hostile input had no effect. The corpus file is named in a comment where it exists.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.support.hostile import GRAPH, Sandbox, make_sandbox, problem_line, refused, write_graph


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)


# -- YAML tags ----------------------------------------------------------------------------------


def _open_canary(box: Sandbox) -> str:
    """A YAML flow sequence ``["<canary path>", "w"]``: ``builtins.open`` would create the file."""
    return json.dumps([str(box.canary("yaml-constructed")), "w"])


@pytest.mark.parametrize(
    ("make", "code"),
    [
        # The issue's own example; tests/e2e/invalid_graphs/yaml_python_tag.yaml has the echo variant.
        pytest.param(
            lambda box: (
                "{x: !!python/object/apply:os.system "
                + json.dumps([f"touch {box.canary('os-system').as_posix()}"])
                + "}"
            ),
            "yaml.tag",
            id="python-object-apply-os-system",
        ),
        pytest.param(
            lambda box: "{x: !!python/object/apply:builtins.open " + _open_canary(box) + "}",
            "yaml.tag",
            id="python-object-apply-open",
        ),
        pytest.param(
            lambda box: (
                "{x: !!python/object/new:subprocess.Popen "
                + json.dumps([[sys.executable, "-c", f"open({str(box.canary('popen'))!r}, 'w')"]])
                + "}"
            ),
            "yaml.tag",
            id="python-object-new-popen",
        ),
        pytest.param(
            lambda box: "{x: !!python/object:argparse.Namespace {a: 1}}", "yaml.tag", id="python-object"
        ),
        # tests/e2e/invalid_graphs/yaml_python_name_tag.yaml
        pytest.param(lambda box: "{x: !!python/name:os.system ''}", "yaml.tag", id="python-name"),
        pytest.param(lambda box: "{x: !!python/module:this ''}", "yaml.tag", id="python-module-import"),
        pytest.param(
            lambda box: (
                "{x: !<tag:yaml.org,2002:python/object/apply:builtins.open> " + _open_canary(box) + "}"
            ),
            "yaml.tag",
            id="verbatim-tag",
        ),
        # tests/e2e/invalid_graphs/yaml_binary_tag.yaml: bytes smuggled into a config value
        pytest.param(lambda box: "{x: !!binary aGVsbG8=}", "yaml.tag", id="binary"),
        # tests/e2e/invalid_graphs/yaml_custom_tag.yaml
        pytest.param(lambda box: "{x: !secret events_path}", "yaml.tag", id="custom-local-tag"),
        pytest.param(
            lambda box: "!!python/object/apply:builtins.open " + _open_canary(box),
            "yaml.tag",
            id="tagged-config",
        ),
        pytest.param(lambda box: "{x: !!set {a, b}}", "yaml.tag", id="set-tag"),
    ],
)
def test_yaml_tags_construct_nothing(sandbox: Sandbox, make: object, code: str) -> None:
    assert callable(make)
    path = write_graph(sandbox, GRAPH.format(config=make(sandbox)))
    refused(sandbox, path, code, 10)


def test_tag_directive_cannot_smuggle_a_python_tag(sandbox: Sandbox) -> None:
    """``%TAG`` maps a handle to the python prefix; the resolved tag is still refused."""
    text = "%TAG !py! tag:yaml.org,2002:python/object/apply:\n---\n" + GRAPH.format(
        config="{x: !py!builtins.open " + _open_canary(sandbox) + "}"
    )
    refused(sandbox, write_graph(sandbox, text), "yaml.tag", 12)


def test_python_tag_on_a_mapping_key(sandbox: Sandbox) -> None:
    text = GRAPH.format(config="{? !!python/object/apply:builtins.open " + _open_canary(sandbox) + " : 1}")
    checked = sandbox.run("validate", str(write_graph(sandbox, text)))
    assert checked.returncode == 1
    assert re.search(r":10:\d+: error: .+ \[yaml\.(tag|complex-key)\]$", checked.stdout, re.MULTILINE), (
        checked.stdout
    )
    assert "Traceback" not in checked.stdout + checked.stderr
    sandbox.untouched()


# -- alias bombs, size, depth -------------------------------------------------------------------


def _laughs(levels: int, width: int) -> str:
    lines = ["version: 2", "config:", f"  l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n" + GRAPH.format(config="{}").removeprefix("version: 2\n")


@pytest.mark.parametrize(
    ("levels", "width"),
    [
        # tests/e2e/invalid_graphs/yaml_billion_laughs.yaml is the 9 x 10 variant.
        pytest.param(10, 10, id="billion-laughs-10x10"),
        pytest.param(30, 2, id="doubling-2-to-the-30"),
    ],
)
def test_alias_bombs_stop_at_the_limit(sandbox: Sandbox, levels: int, width: int) -> None:
    checked = refused(sandbox, write_graph(sandbox, _laughs(levels, width)), "yaml.alias-limit", None)
    found = problem_line(checked.stdout, sandbox.root / "graphs" / "graph.yaml", "yaml.alias-limit")
    # Reported where the expansion passes the limit: on one of the anchor lines (3 onwards).
    assert 3 <= int(found.group(1)) < 3 + levels, found.group(0)


def test_merge_key_bomb_stops_at_the_limit(sandbox: Sandbox) -> None:
    lines = ["version: 2", "config:", "  m0: &m0 {" + ", ".join(f"k{i}: [{i}, {i}]" for i in range(20)) + "}"]
    for level in range(1, 25):
        lines.append(f"  m{level}: &m{level} {{<<: *m{level - 1}, v{level}: [*m{level - 1}, *m{level - 1}]}}")
    text = "\n".join(lines) + "\n" + GRAPH.format(config="{}").removeprefix("version: 2\n")
    checked = sandbox.run("validate", str(write_graph(sandbox, text)), timeout=60)
    assert checked.returncode == 1
    problem_line(checked.stdout, sandbox.root / "graphs" / "graph.yaml", "yaml.alias-limit")
    assert "Traceback" not in checked.stdout + checked.stderr
    sandbox.untouched()


def test_recursive_alias(sandbox: Sandbox) -> None:
    # tests/e2e/invalid_graphs/yaml_recursive_alias.yaml
    text = GRAPH.format(config="&a {x: *a}")
    checked = sandbox.run("validate", str(write_graph(sandbox, text)))
    assert checked.returncode == 1
    assert re.search(r":10:\d+: error: .+ \[yaml\.alias-(recursive|unknown)\]$", checked.stdout, re.MULTILINE)
    assert "Traceback" not in checked.stdout + checked.stderr
    sandbox.untouched()


@pytest.mark.parametrize(
    "size", [pytest.param((1 << 20) + 1, id="1MiB-plus-1"), pytest.param(64 << 20, id="64MiB-sparse")]
)
def test_oversized_files_are_refused_before_reading(sandbox: Sandbox, size: int) -> None:
    path = write_graph(sandbox, GRAPH.format(config="{}"))
    with path.open("r+b") as handle:
        handle.seek(size - 1)  # a comment-free, valid graph padded by a sparse tail
        handle.write(b"\n")
    checked = refused(sandbox, path, "io.too-large", None)
    assert "limited to 1 MiB" in checked.stdout


def _deep(kind: str, depth: int) -> str:
    if kind == "flow-sequence":
        return "[" * depth + "]" * depth
    if kind == "flow-mapping":
        return "{a: " * depth + "1" + "}" * depth
    return "- " * depth + "x"  # block sequences, one per level, all on one line


@pytest.mark.parametrize("kind", ["flow-sequence", "flow-mapping", "block-sequence"])
def test_ten_thousand_levels_of_nesting(sandbox: Sandbox, kind: str) -> None:
    # tests/e2e/invalid_graphs/yaml_too_deep.yaml has 70 levels; here the parser itself is pushed.
    value = _deep(kind, 10_000)
    if kind == "block-sequence":
        text = GRAPH.format(config="{}") + f"deep:\n  {value}\n"
        line = 14
    else:
        text = GRAPH.format(config="{deep: " + value + "}")
        line = 10
    refused(sandbox, write_graph(sandbox, text), "yaml.too-deep", line)


# -- invalid RTSP URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://cam.example/stream", id="http-scheme"),
        pytest.param("rtsp://", id="no-host"),
        pytest.param("rtsp:///stream", id="empty-host"),
        pytest.param("rtsp://cam.example/my stream", id="space-in-path"),
        pytest.param("rtsp:// cam.example/stream", id="space-before-host"),
        pytest.param("file:///etc/passwd", id="file-url"),
        pytest.param("/etc/passwd", id="plain-path"),
        pytest.param("-i /etc/passwd", id="option-injection"),
        pytest.param("rtsp://cam.example/x\ny", id="newline"),
    ],
)
def test_invalid_rtsp_urls_are_refused_statically(sandbox: Sandbox, url: str) -> None:
    text = GRAPH.replace("plugin: synthetic_camera", "plugin: rtsp_camera").format(config="{}")
    text = text.replace("{width: 64, height: 48, fps: 5, frames: 3}", "{url: " + json.dumps(url) + "}")
    path = write_graph(sandbox, text)
    # The camera is checked before anything opens it: no FFmpeg, no file read.
    refused(sandbox, path, "schema.pattern", 6)


def test_invalid_rtsp_url_from_the_environment_is_refused_at_start(sandbox: Sandbox) -> None:
    text = GRAPH.replace("plugin: synthetic_camera", "plugin: rtsp_camera").format(config="{}")
    path = write_graph(
        sandbox, text.replace("{width: 64, height: 48, fps: 5, frames: 3}", "{url_from_env: CAM_URL}")
    )
    ran = sandbox.run("run", str(path), "--duration", "5", env={"CAM_URL": "file:///etc/passwd"})
    assert ran.returncode == 78, ran.stdout + ran.stderr
    assert "CAM_URL" in ran.stderr and "does not hold an rtsp:// or rtsps:// URL" in ran.stderr
    assert "/etc/passwd" not in ran.stderr, "the message names the variable, never its value"
    assert "Traceback" not in ran.stdout + ran.stderr
