"""The parsers behind `validate --deployment`: systemd units, Windows command lines, plists."""

from __future__ import annotations

import pytest

from schnitzel_stream.deploy.service_files import (
    parse_plist,
    parse_unit,
    split_command,
    split_windows_args,
)


@pytest.mark.parametrize(
    ("line", "args"),
    [
        pytest.param(r"a b  c", ["a", "b", "c"], id="spaces"),
        pytest.param(r'"C:\Program Files\x.exe" -m', [r"C:\Program Files\x.exe", "-m"], id="quoted-path"),
        pytest.param(r'"a\\" b', ["a\\", "b"], id="even-backslashes-before-quote"),
        pytest.param(r"a\\\"b", [r"a\"b"], id="odd-backslashes-before-quote"),
        pytest.param(r"C:\dir\ x", ["C:\\dir\\", "x"], id="backslash-not-before-quote"),
        pytest.param(r'"a""b"', ['a"b'], id="doubled-quote-inside"),
        pytest.param(r'""', [""], id="empty-argument"),
        pytest.param(r'--graph="C:\x y\g.yaml"', [r"--graph=C:\x y\g.yaml"], id="quote-mid-argument"),
    ],
)
def test_windows_command_line(line: str, args: list[str]) -> None:
    assert split_windows_args(line) == args


def test_unit_parser() -> None:
    text = (
        "# comment\n"
        "[Unit]\n"
        "Description=x\n"
        "[Service]\n"
        'Environment=A=1 "B=two words"\n'
        "Environment=C=3\n"
        "ExecStart=/usr/bin/python \\\n"
        "    -m mod \\\n"
        "    --flag '100%%'\n"
        "ExecStart=/second\n"
        "broken line\n"
    )
    unit = parse_unit(text, "x.service")
    assert unit.environment() == {"A": "1", "B": "two words", "C": "3"}
    assert [e.line for e in unit.all("Service", "ExecStart")] == [7, 10]
    first = unit.all("Service", "ExecStart")[0]
    assert split_command(first.value) == ["/usr/bin/python", "-m", "mod", "--flag", "100%"]
    assert unit.last("Service", "ExecStart") is not None
    assert [(p.code, p.line) for p in unit.problems] == [("service.syntax", 11)]
    assert split_command("-/usr/bin/x 'unbalanced") is None
    assert split_command("-/usr/bin/x arg") == ["/usr/bin/x", "arg"]


def test_entry_before_section() -> None:
    unit = parse_unit("Key=value\n", "x.service")
    assert [p.line for p in unit.problems] == [1]


def test_plist_errors() -> None:
    assert parse_plist(b"<plist><dict>", "p.plist")[0] is None
    data, problems = parse_plist(b'<?xml version="1.0"?><plist version="1.0"><array/></plist>', "p.plist")
    assert data is None
    assert "not a dictionary" in problems[0].message
