"""Suite-wide rules: a skipped or expected-to-fail test fails the run.

`.ci/run` must fail if any test was skipped, and no test may pass because it skipped its own
work, so the rule lives here, where every session (and xdist's controller) applies it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.support.secret_scan", "tests.chaos._figures"]

_SKIPPED: list[str] = []


@pytest.fixture(autouse=True)
def _restore_the_package_logger() -> Iterator[None]:
    """Give every test the package logger as it found it.

    Code under test (``runtime.logs.configure``, a graph test's capture) sets handlers, the level
    and ``propagate = False`` on the ``schnitzel_stream`` logger; left in place, a later test on the
    same worker sees no records in ``caplog``, so results would depend on test order.
    """
    logger = logging.getLogger("schnitzel_stream")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in list(logger.handlers):
        if handler not in handlers:
            logger.removeHandler(handler)
            handler.close()
    for handler in handlers:
        if handler not in logger.handlers:
            logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


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
