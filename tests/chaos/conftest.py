"""The chaos session (`nox -s chaos`): bounded scenarios against the real system.

Every scenario records its figures through the ``figures`` fixture; the session ends with
one summary table of all of them, and writes them as JSON to
``$SCHNITZEL_STREAM_CHAOS_RESULTS`` when that is set (docs/reliability.md quotes it).

``SCHNITZEL_STREAM_CHAOS_SHORT=1`` (what `.ci/run` sets) shrinks the counts and durations
so the whole pass stays within a few minutes; the full pass is what the docs report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.chaos._figures import RECORDS, Figures


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/chaos" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("chaos"):
            item.add_marker(pytest.mark.chaos)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Record a scenario's figures; they print at the end of the session."""
    recorder = Figures(request.node.name)
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
    if not RECORDS:
        return
    terminalreporter.section("chaos summary")
    for line in Figures.table(RECORDS):
        terminalreporter.write_line(line)
    target = os.environ.get("SCHNITZEL_STREAM_CHAOS_RESULTS")
    if target:
        Path(target).write_text(json.dumps(RECORDS, indent=2) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"figures written to {target}")
