"""The soak session (`nox -s soak`): the ``figures`` fixture and a summary table at the end.

It reuses the chaos session's recorder (``tests/chaos/_figures.py``), so soak and chaos
figures read the same. A conftest below the top level cannot declare ``pytest_plugins``, so
the fixture and the summary are defined here again, and the summary lists only the soak
scenarios (a run that collects both directories would otherwise print chaos figures twice).
``$SCHNITZEL_STREAM_SOAK_RESULTS`` names a JSON file to write the figures to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.chaos._figures import RECORDS, Figures

#: Names of the scenarios recorded by this directory's tests.
_SOAK_SCENARIOS: list[str] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """Record a soak scenario's figures; they print at the end of the session."""
    recorder = Figures(request.node.name)
    _SOAK_SCENARIOS.append(recorder.scenario)
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
    records = [record for record in RECORDS if record["scenario"] in _SOAK_SCENARIOS]
    if not records:
        return
    terminalreporter.section("soak summary")
    for line in Figures.table(records):
        terminalreporter.write_line(line)
    target = os.environ.get("SCHNITZEL_STREAM_SOAK_RESULTS")
    if target:
        Path(target).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"figures written to {target}")
