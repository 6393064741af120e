"""What a test run found: per file its problems (an invalid test file runs nothing) and per
case its verdict, how its graph ended, what was captured, and every failed expectation as a
located :class:`~schnitzel_stream.errors.Problem` (so the validate renderers apply)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from schnitzel_stream.errors import Problem

CaseStatus = Literal["passed", "failed", "error"]
#: completed: every source ended; timeout: timeout_sec was reached; decided: an expectation
#: broke for good and the graph was stopped early; failed: a node failed; not-started: a node
#: could not be built.
Ending = Literal["completed", "timeout", "decided", "failed", "not-started"]


@dataclass(frozen=True, slots=True)
class CaseResult:
    name: str
    status: CaseStatus
    ended: Ending
    duration: float
    problems: tuple[Problem, ...] = ()
    captured: Mapping[str, int] = field(default_factory=dict)
    #: Warnings and errors the graph logged while the case ran (masked like every log line).
    logs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FileResult:
    """One test file: ``problems`` makes it invalid (no case ran), else its ``cases``."""

    path: str
    problems: tuple[Problem, ...] = ()
    cases: tuple[CaseResult, ...] = ()
    #: The text of the test file and its graph, by file name, for quoting the line at fault.
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: When its first case started (Unix time), and how long its cases took.
    started: float = 0.0
    duration: float = 0.0

    @property
    def valid(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)

    @property
    def passed(self) -> bool:
        return self.valid and all(case.status == "passed" for case in self.cases)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True, slots=True)
class RunResults:
    files: tuple[FileResult, ...]

    @property
    def passed(self) -> bool:
        return all(file.passed for file in self.files)

    def count(self, status: CaseStatus) -> int:
        return sum(1 for file in self.files for case in file.cases if case.status == status)

    @property
    def cases(self) -> int:
        return sum(len(file.cases) for file in self.files)

    @property
    def invalid(self) -> int:
        return sum(1 for file in self.files if not file.valid)

    def summary(self) -> str:
        """``2 test files, 5 cases: 4 passed, 1 failed, 0 errors; 1 invalid test file``."""
        text = (
            f"{_plural(len(self.files), 'test file')}, {_plural(self.cases, 'case')}: "
            f"{self.count('passed')} passed, {self.count('failed')} failed, {_plural(self.count('error'), 'error')}"
        )
        if self.invalid:
            text += f"; {_plural(self.invalid, 'invalid test file')}"
        return text
