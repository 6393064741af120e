"""The chaos session (`nox -s chaos`): bounded scenarios against the real system.

Every scenario records its figures through the ``figures`` fixture (``tests/chaos/_figures``);
the session ends with one summary table of all of them, and writes them as JSON to
``$SCHNITZEL_STREAM_CHAOS_RESULTS`` when that is set (docs/reliability.md quotes it).

``SCHNITZEL_STREAM_CHAOS_SHORT=1`` (what `.ci/run` sets) shrinks the counts and durations
so the whole pass stays within a few minutes; the full pass is what the docs report.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/chaos" in item.nodeid.replace("\\", "/") or item.nodeid.startswith("chaos"):
            item.add_marker(pytest.mark.chaos)
