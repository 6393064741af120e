"""Figures that chaos and soak scenarios report, and the summary table they end with."""

from __future__ import annotations

import os
import sys
from typing import Any

#: Every finished scenario, in order: {"scenario", "passed", "figures": {...}}.
RECORDS: list[dict[str, Any]] = []

SHORT = os.environ.get("SCHNITZEL_STREAM_CHAOS_SHORT", "") not in ("", "0")


def scaled(full: int, short: int) -> int:
    """A count or duration for this pass: ``short`` under SCHNITZEL_STREAM_CHAOS_SHORT."""
    return short if SHORT else full


class Figures:
    """The figures of one scenario; each ``add`` also prints at once (pytest -s shows it)."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.values: dict[str, Any] = {}

    def add(self, name: str, value: Any) -> None:
        self.values[name] = value
        print(f"[{self.scenario}] {name} = {value}", file=sys.stderr, flush=True)

    def finish(self, *, passed: bool) -> None:
        RECORDS.append({"scenario": self.scenario, "passed": passed, "figures": dict(self.values)})

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
