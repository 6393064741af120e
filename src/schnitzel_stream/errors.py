"""One small hierarchy of errors.

Every error a user can cause derives from :class:`SchnitzelError` and carries the
:class:`Problem` records it found, so that the CLI can report all of them at once and
choose the exit code in one place (``cli/__main__.py``). Nothing below the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

Severity = Literal["error", "warning"]


class Problem(NamedTuple):
    """One thing wrong with an input, located as precisely as we can.

    ``path`` is the JSON path inside the document (``nodes[2].config.url``), ``line`` and
    ``column`` are 1-based positions in ``file`` when the problem comes from a file.
    """

    code: str
    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"
    hint: str | None = None

    def location(self) -> str:
        """``file:line:column`` with the parts we know, or an empty string."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def one_line(self) -> str:
        """The problem as a single line: ``file:line:col: path: message (hint)``."""
        head = self.location()
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return f"{head}: {text}" if head else text


class SchnitzelError(Exception):
    """Base of every error a user can cause. Never shown as a traceback."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: str | Problem | Iterable[Problem], *, code: str = "error") -> None:
        if isinstance(problems, str):
            found: tuple[Problem, ...] = (Problem(code=code, message=problems),)
        elif isinstance(problems, Problem):
            found = (problems,)
        else:
            found = tuple(problems)
        self.problems = found
        super().__init__(self.summary())

    def summary(self) -> str:
        if not self.problems:
            return type(self).__name__
        first = self.problems[0].one_line()
        more = len(self.problems) - 1
        return f"{first} (and {more} more)" if more else first

    def __str__(self) -> str:
        return self.summary()


class UsageError(SchnitzelError):
    """The command line itself is wrong (exit 2)."""


class GraphError(SchnitzelError):
    """A graph document is unreadable or invalid (validate exits 1, run exits 78)."""


class ConfigError(SchnitzelError):
    """Settings outside the graph are wrong: paths, environment, allowlist (run exits 78)."""


class NodeError(SchnitzelError):
    """A node failed at run time in a way its policy says must stop the graph."""


class DeliveryError(NodeError):
    """A sink gave up on a packet and its ``on_failure`` policy is ``error``."""


class OutputClosed(SchnitzelError):
    """The reader of the process's output went away (``run ... | head -1``).

    Not a failure: like a standard Unix tool whose pipe closed, the graph stops gracefully
    and quietly (exit 0).
    """


class QueueError(SchnitzelError):
    """The durable queue cannot do what was asked."""


class QueueFullError(QueueError):
    """The queue reached ``max_rows``/``max_bytes`` or the disk is full."""


class QueueCorruptError(QueueError):
    """The queue file is damaged; it has been moved aside (quarantined)."""


class DeploymentError(SchnitzelError):
    """A deployment root is inconsistent or incomplete."""


class BundleError(DeploymentError):
    """A root cannot be bundled as asked: nothing fits, a hash differs, the commit is unknown."""
