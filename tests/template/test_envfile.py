"""The env file format: what the template writes, `sh`, systemd's grammar and `--env-file` agree on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schnitzel_stream.deploy.envfile import parse_env_text, quote_value, read_env_file
from tests.template._support import cli

# Printable text without NUL or line breaks: what a one-line value can hold.
VALUES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00\n\r"), max_size=40
)


@given(VALUES)
@settings(max_examples=300, deadline=None)
def test_quote_round_trip(value: str) -> None:
    parsed = parse_env_text(f"NAME={quote_value(value)}\n", "env")
    assert parsed.problems == ()
    assert parsed.as_dict() == {"NAME": value}


def test_sh_reads_what_we_read(tmp_path: Path) -> None:
    """POSIX sh sources the file to the same values (launchd/install scripts rely on it)."""
    values = {
        "PLAIN": "abc",
        "SPACES": "  two  words  ",
        "QUOTES": 'it\'s "quoted"',
        "DOLLAR": "$HOME ${PATH} `id`",
        "BACKSLASH": "a\\b\\\\c",
        "UNICODE": "grüße ✓",
        "EMPTY": "",
        "URL": "rtsp://admin:p%40ss@10.0.0.5:554/s?x=1&y=2",
    }
    env = tmp_path / "test.env"
    env.write_text("".join(f"{k}={quote_value(v)}\n" for k, v in values.items()), encoding="utf-8")
    dump = "import json, os, sys; print(json.dumps({k: os.environ[k] for k in sys.argv[1:]}))"
    script = f'set -a; . "{env}"; set +a; exec "{sys.executable}" -c "$0" "$@"'
    result = subprocess.run(
        ["sh", "-c", script, dump, *values], capture_output=True, text=True, check=True, timeout=30
    )
    assert json.loads(result.stdout) == values
    assert read_env_file(env).as_dict() == values


@pytest.mark.parametrize(
    ("line", "value"),
    [
        pytest.param("A=plain", "plain", id="plain"),
        pytest.param("A = spaced  ", "spaced", id="spaces-around"),
        pytest.param("A='single # not a comment'", "single # not a comment", id="single"),
        pytest.param('A="dq \\" \\$x \\n"', 'dq " $x \\n', id="double-escapes"),
        pytest.param("A='it'\"'\"'s'", "it's", id="shlex-quote"),
        pytest.param("A=a\\ b", "a b", id="backslash-space"),
        pytest.param("A=x'y'", "x'y'", id="quote-inside-unquoted-is-literal"),
        pytest.param("A=", "", id="empty"),
    ],
)
def test_systemd_grammar(line: str, value: str) -> None:
    parsed = parse_env_text(line + "\n", "env")
    assert parsed.problems == ()
    assert parsed.as_dict() == {"A": value}


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        pytest.param("# ok\nnot an assignment\n", "env.syntax", 2, id="no-equals"),
        pytest.param("export A=1\n", "env.name", 1, id="export-prefix"),
        pytest.param("1A=1\n", "env.name", 1, id="digit-first"),
        pytest.param("A='open\n", "env.syntax", 1, id="unclosed-single"),
        pytest.param('\n\nA="open\n', "env.syntax", 3, id="unclosed-double"),
        pytest.param("A=trailing\\\n", "env.syntax", 1, id="continuation"),
    ],
)
def test_errors_name_the_line(text: str, code: str, line: int) -> None:
    parsed = parse_env_text(text, "app.env")
    assert [(p.code, p.line, p.file) for p in parsed.problems] == [(code, line, "app.env")]


def test_comments_and_last_assignment_wins() -> None:
    parsed = parse_env_text("; comment\n  # another\nA=1\nB=2\nA=3\n", "env")
    assert parsed.as_dict() == {"A": "3", "B": "2"}
    assert parsed.line_of("A") == 5


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    parsed = read_env_file(tmp_path / "nope.env")
    assert [p.code for p in parsed.problems] == ["env.missing"]


def test_env_file_option_reaches_the_graph(tmp_path: Path) -> None:
    """`--env-file` loads the file before the graph is validated: ${VAR} resolves from it."""
    graph = tmp_path / "graph.yaml"
    graph.write_text(
        "version: 2\n"
        "nodes:\n"
        "  - {id: src, kind: source, plugin: static_source, config: {packets: [{kind: event, payload: {}}]}}\n"
        '  - {id: out, kind: sink, plugin: jsonl_sink, config: {path: "${EVENTS_DIR}/e.jsonl"}}\n'
        "edges:\n  - {from: src, to: out}\n",
        encoding="utf-8",
    )
    env = tmp_path / "app.env"
    env.write_text(f"EVENTS_DIR={quote_value(str(tmp_path / 'out dir'))}\n", encoding="utf-8")
    clean = {k: v for k, v in os.environ.items() if k != "EVENTS_DIR"}
    without = subprocess.run(
        [sys.executable, "-m", "schnitzel_stream", "--graph", str(graph), "--validate-only"],
        capture_output=True,
        text=True,
        env=clean,
        check=False,
        timeout=60,
    )
    assert without.returncode == 1
    assert "EVENTS_DIR" in without.stdout + without.stderr
    ok = cli("--env-file", str(env), "--graph", str(graph), "--validate-only")
    assert ok.returncode == 0, ok.stdout + ok.stderr

    broken = tmp_path / "broken.env"
    broken.write_text("EVENTS_DIR='unclosed\n", encoding="utf-8")
    refused = cli("--env-file", str(broken), "--graph", str(graph))
    assert refused.returncode == 78  # a service must not restart-loop on a broken env file
    assert f"{broken}:1" in refused.stderr


def test_unicode_line_separators_stay_in_the_value(tmp_path: Path) -> None:
    """U+0085, U+2028, VT and FF end a line for str.splitlines(), not for systemd or sh: a value
    holding them stays one value, and nothing after them becomes a second assignment."""
    env = tmp_path / "odd.env"
    values = {"A": "x\x85B=1", "C": "y\u2028D=2", "E": "z\x0bF=3\x0cG=4"}
    env.write_text("".join(f"{k}={quote_value(v)}\n" for k, v in values.items()), encoding="utf-8")
    assert read_env_file(env).as_dict() == values
    dump = "import json, os, sys; print(json.dumps({k: os.environ.get(k) for k in sys.argv[1:]}))"
    script = f'set -a; . "{env}"; set +a; exec "{sys.executable}" -c "$0" "$@"'
    result = subprocess.run(
        ["sh", "-c", script, dump, *values, "B", "D", "F", "G"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(result.stdout) == {**values, "B": None, "D": None, "F": None, "G": None}


def test_crlf_and_cr_end_lines_as_systemd_does() -> None:
    parsed = parse_env_text("A=1\r\nB=2\rC=3\n", "env")
    assert parsed.as_dict() == {"A": "1", "B": "2", "C": "3"}
    assert parsed.line_of("C") == 3
