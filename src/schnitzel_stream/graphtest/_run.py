"""Run graph tests: find the files, check them all, then run every case through the engine.

Every file is loaded and every case planned before the first case runs, so an invalid file
is reported in full and costs no run time, and the progress display knows the total.

Cases run one after another in this process, each in its own temporary directories, with
the real engine and real nodes; only the captured nodes are stand-ins. The test file's
``env`` is laid over the process environment while a case runs (nodes such as ``http_sink``
read ``headers_from_env`` there) and taken off again afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from schnitzel_stream.errors import Problem, SchnitzelError
from schnitzel_stream.graph.findings import Finding, format_path
from schnitzel_stream.graph.model import NodeDecl
from schnitzel_stream.graph.validate import GRAPH_TEST_SUFFIXES, locate
from schnitzel_stream.graphtest._capture import CaptureNode, Recorder
from schnitzel_stream.graphtest._load import InvalidTestFile, load_test
from schnitzel_stream.graphtest._plan import CasePlan, plan_cases
from schnitzel_stream.graphtest._results import CaseResult, CaseStatus, Ending, FileResult, RunResults
from schnitzel_stream.nodes.base import Node
from schnitzel_stream.redact import redact

#: Per case, the graph's own warnings and errors kept for the report.
MAX_LOG_LINES = 50
_ENDINGS: Mapping[str, Ending] = {
    "completed": "completed",
    "duration": "timeout",
    "stopped": "decided",
    "max_events": "completed",
    "failed": "failed",
}


class Progress(Protocol):
    """What a progress display hears; every call comes from the thread that runs the tests."""

    def started(self, total: int) -> None: ...

    def case_started(self, file: str, case: str) -> None: ...

    def case_finished(self, file: str, result: CaseResult) -> None: ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """``env`` is laid over the process environment for every case (a deployment's env file;
    a test file's own ``env`` wins); ``confine`` keeps every file a test names inside a
    directory (a deployment root); ``clock`` decides when a case's timeout is reached."""

    env: Mapping[str, str] = field(default_factory=dict)
    confine: Path | None = None
    clock: Callable[[], float] = time.monotonic
    #: Pacing of the engine's supervisor: how soon a finished graph is noticed.
    tick: float = 0.02


def find_test_files(paths: Sequence[str]) -> tuple[list[str], list[FileResult]]:
    """Test files named or found in directories (``*.test.yaml``/``*.test.yml``, recursively,
    sorted, hidden directories and symlinked directories skipped), and the problems found."""
    found: list[str] = []
    problems: list[FileResult] = []
    seen: set[str] = set()
    for raw in paths:
        if Path(raw).is_dir():
            inside: list[str] = []
            for directory, subdirs, names in os.walk(raw):
                subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
                inside.extend(
                    str(Path(directory, n)) for n in names if n.lower().endswith(GRAPH_TEST_SUFFIXES)
                )
            inside.sort(key=lambda path: Path(path).parts)
            if not inside:
                message = "the directory holds no *.test.yaml or *.test.yml files"
                problems.append(FileResult(raw, (Problem("io.no-tests", message, file=raw),)))
            candidates = inside
        else:
            candidates = [raw]
        for path in candidates:
            key = str(Path(path).absolute())
            if key not in seen:
                seen.add(key)
                found.append(path)
    return found, problems


def run_tests(
    paths: Sequence[str], options: RunOptions | None = None, progress: Progress | None = None
) -> RunResults:
    """Run every case of every test file under ``paths``; never raises for a test's content."""
    options = options or RunOptions()
    files, results = find_test_files(paths)
    workdir = Path(tempfile.mkdtemp(prefix="schnitzel-test-"))
    try:
        planned = [(path, _plan_file(path, number, workdir, options)) for number, path in enumerate(files)]
        if progress is not None:
            progress.started(sum(len(plans) for _, plans in planned if isinstance(plans, list)))
        for path, plans in planned:
            if isinstance(plans, FileResult):
                results.append(plans)
                continue
            cases: list[CaseResult] = []
            started_wall, started = time.time(), options.clock()
            for plan in plans:
                if progress is not None:
                    progress.case_started(path, plan.case.name)
                cases.append(run_case(plan, options))
                if progress is not None:
                    progress.case_finished(path, cases[-1])
            results.append(
                FileResult(
                    path,
                    cases=tuple(cases),
                    sources=plans[0].test.sources,
                    started=started_wall,
                    duration=options.clock() - started,
                )
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return RunResults(files=tuple(results))


def _plan_file(path: str, number: int, workdir: Path, options: RunOptions) -> list[CasePlan] | FileResult:
    try:
        test = load_test(path, confine=options.confine)
        return plan_cases(test, file_number=number, workdir=workdir, env=options.env)
    except InvalidTestFile as invalid:
        return FileResult(
            path, problems=tuple(invalid.problems), sources=invalid.sources, started=time.time()
        )
    except Exception as exc:  # noqa: BLE001  # a bug of ours must still end as a report, not a traceback
        return FileResult(path, problems=(_internal(exc, path),), started=time.time())


def _internal(exc: BaseException, file: str, line: int | None = None, column: int | None = None) -> Problem:
    return Problem(
        "internal.error",
        redact(f"internal error: {type(exc).__name__}: {exc}"),
        file=file,
        line=line,
        column=column,
        hint="please report this as a schnitzel-stream bug",
    )


def run_case(plan: CasePlan, options: RunOptions) -> CaseResult:
    """Run one planned case to its end and judge it."""
    from schnitzel_stream.runtime.inproc import Engine, EngineOptions, instantiate
    from schnitzel_stream.runtime.sdnotify import Notifier

    case = plan.case
    clock = options.clock
    started = clock()
    deadline = started + case.timeout_sec
    stop: list[Callable[[], None]] = []
    expectations = {expectation.node: expectation for expectation in case.expect}
    recorders = {
        node: Recorder(
            node, expectations.get(node), deadline=deadline, clock=clock, on_decided=lambda: stop[0]()
        )
        for node in case.capture
    }

    def make_node(decl: NodeDecl) -> Node:
        recorder = recorders.get(decl.id)
        if recorder is None:
            return instantiate(decl)
        return CaptureNode(node_id=decl.id, recorder=recorder, passthrough=decl.id in plan.passthrough)

    engine = Engine(
        plan.graph,
        EngineOptions(
            duration=case.timeout_sec,
            status_interval=0,
            drain_timeout=0.5,
            stop_grace=0.5,
            tick=options.tick,
        ),
        Notifier(None),  # a test never tells a service manager it is ready
        make_node=make_node,
    )
    stop.append(lambda: setattr(engine, "stop_requested", engine.stop_requested or "decided"))
    ended: Ending = "not-started"
    problems: list[Problem] = []
    logs: list[str] = []
    for path in (plan.paths.config, plan.paths.state, plan.paths.logs):
        Path(path).mkdir(parents=True, exist_ok=True)
    try:
        with _environment(plan.env), _captured_logs(logs):
            try:
                outcome = engine.run()
            except SchnitzelError as error:
                problems.extend(_run_problems(plan, "could not start", error))
            except Exception as exc:  # noqa: BLE001  # a bug of ours: this case errs, the others still run
                line, column = plan.test.document.position(case.at) or (None, None)
                problems.append(_internal(exc, plan.test.path, line, column))
            else:
                ended = _ENDINGS.get(outcome.reason, "completed")
                if outcome.error is not None:
                    problems.extend(_run_problems(plan, "failed", outcome.error))
    finally:
        shutil.rmtree(Path(plan.paths.config).parent, ignore_errors=True)
    failed_run = bool(problems)
    for recorder in recorders.values():
        for finding in recorder.findings(stopped_early=ended == "decided"):
            # The case's name in the message: a github annotation or a JUnit failure shows no more.
            named = Finding(finding.code, f"case {case.name!r}: {finding.message}", finding.path)
            problems.append(locate(named, plan.test.document))
    status: CaseStatus = "error" if failed_run else "failed" if problems else "passed"
    return CaseResult(
        name=case.name,
        status=status,
        ended=ended,
        duration=clock() - started,
        problems=tuple(problems),
        captured={node: recorder.seen for node, recorder in recorders.items()},
        logs=tuple(logs),
    )


def _run_problems(plan: CasePlan, what: str, error: SchnitzelError) -> Iterator[Problem]:
    document = plan.test.document
    line, column = document.position(plan.case.at) or (None, None)
    for problem in error.problems:
        yield Problem(
            problem.code,
            redact(f"case {plan.case.name!r}: the graph {what}: {problem.message}"),
            format_path(plan.case.at),
            document.file,
            line,
            column,
            hint=problem.hint,
        )


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.lines) < MAX_LOG_LINES:
            name = record.name.removeprefix("schnitzel_stream.")
            self.lines.append(redact(f"{record.levelname.lower()} {name}: {record.getMessage()}"))


@contextlib.contextmanager
def _captured_logs(lines: list[str]) -> Iterator[None]:
    """The graph's warnings go into the case's result instead of onto the terminal."""
    logger = logging.getLogger("schnitzel_stream")
    handler = _ListHandler(lines)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
