"""Figures that chaos and soak scenarios report, and the summary table each session ends with.

A pytest plugin (registered in ``tests/conftest.py``): the ``figures`` fixture records a
scenario's figures under its group, ``chaos`` or ``soak`` (from the test's directory), and
the session prints one summary table per group, writing it as JSON to
``$SCHNITZEL_STREAM_CHAOS_RESULTS`` / ``$SCHNITZEL_STREAM_SOAK_RESULTS`` when set.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

#: Every finished scenario, in order: {"group", "scenario", "passed", "figures": {...}}.
RECORDS: list[dict[str, Any]] = []

SHORT = os.environ.get("SCHNITZEL_STREAM_CHAOS_SHORT", "") not in ("", "0")
_RESULTS_ENV = {"chaos": "SCHNITZEL_STREAM_CHAOS_RESULTS", "soak": "SCHNITZEL_STREAM_SOAK_RESULTS"}


def scaled(full: int, short: int) -> int:
    """A count or duration for this pass: ``short`` under SCHNITZEL_STREAM_CHAOS_SHORT."""
    return short if SHORT else full


class Figures:
    """The figures of one scenario; each ``add`` also prints at once (pytest -s shows it)."""

    def __init__(self, scenario: str, group: str = "chaos") -> None:
        self.scenario = scenario
        self.group = group
        self.values: dict[str, Any] = {}

    def add(self, name: str, value: Any) -> None:
        self.values[name] = value
        print(f"[{self.scenario}] {name} = {value}", file=sys.stderr, flush=True)

    def finish(self, *, passed: bool) -> None:
        RECORDS.append(
            {"group": self.group, "scenario": self.scenario, "passed": passed, "figures": dict(self.values)}
        )

    @staticmethod
    def table(records: list[dict[str, Any]]) -> list[str]:
        lines = [f"{'scenario':<58} {'result':<6} figures", "-" * 110]
        for record in records:
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in record["figures"].items())
            result = "PASS" if record["passed"] else "FAIL"
            lines.append(f"{record['scenario']:<58} {result:<6} {shown}")
        return lines


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Record a scenario's figures; they print at the end of the session."""
    group = "soak" if "soak" in Path(str(request.node.path)).parts else "chaos"
    recorder = Figures(request.node.name, group)
    yield recorder
    outcome = getattr(request.node, "rep_call", None)
    recorder.finish(passed=bool(outcome is not None and outcome.passed))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for group, env in _RESULTS_ENV.items():
        records = [record for record in RECORDS if record["group"] == group]
        if not records:
            continue
        terminalreporter.section(f"{group} summary")
        for line in Figures.table(records):
            terminalreporter.write_line(line)
        target = os.environ.get(env)
        if target:
            Path(target).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
            terminalreporter.write_line(f"figures written to {target}")
