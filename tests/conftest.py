"""Suite-wide rules: a skipped or expected-to-fail test fails the run.

`.ci/run` must fail if any test was skipped, and no test may pass because it skipped its own
work, so the rule lives here, where every session (and xdist's controller) applies it.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.support.secret_scan", "tests.chaos._figures"]

_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _SKIPPED and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _SKIPPED:
        terminalreporter.write_line(
            f"FAILED: {len(_SKIPPED)} test(s) skipped or xfailed; this suite allows none:", red=True
        )
        for nodeid in _SKIPPED[:50]:
            terminalreporter.write_line(f"  {nodeid}", red=True)
