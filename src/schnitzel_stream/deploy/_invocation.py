"""The service command: what a service file runs, compared with what the answers call for.

Every service file runs the runtime contract ``<venv python> -I -B -u -m schnitzel_stream
--graph GRAPH`` plus options. The checks read the command semantically (options in any
order) and resolve the effective path classes the way the runtime will: a ``--*-dir`` flag,
else a ``SCHNITZEL_STREAM_*_DIR`` variable, else the scope's default.

What the template never writes is an error: an interpreter without ``-I`` (the service's
working directory is writable, and without ``-I`` it would be on ``sys.path``), any other
interpreter option, a word that is not an option (a second command), or a second module.
A runtime option the template does not write (``--log-level debug``) is a warning: the
operator may have a reason, and none of them runs code.

launchd and the Windows SCM start the service host instead (``-m schnitzel_stream service run
HOST OPTIONS -- RUNTIME OPTIONS``, see ``schnitzel_stream.service``): its options are checked
too, and the runtime options after ``--`` as above.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from schnitzel_stream.deploy.layout import Answers, Layout
from schnitzel_stream.errors import ConfigError, Problem
from schnitzel_stream.paths import PATH_CLASSES, PathClass, env_var_for, resolve_paths

#: Options of the top-level parser that take a value (see cli/__main__.py).
_VALUE_OPTIONS = frozenset(
    {
        "--graph",
        "--env-file",
        "--scope",
        "--root",
        "--config-dir",
        "--state-dir",
        "--logs-dir",
        "--log-level",
        "--log-format",
        "--log-file",
        "--log-max-mb",
        "--max-events",
        "--duration",
        "--report-json",
        "--status-interval",
        "--stop-timeout",
        "--metrics-addr",
    }
)
#: Flags of the runtime (no value) a service command may carry.
_FLAG_OPTIONS = frozenset({"--validate-only"})
MODULE = "schnitzel_stream"
#: The interpreter options the template writes: isolated (-I: no current or script directory
#: on sys.path, no PYTHON* variables, no user site), no bytecode (-B), unbuffered (-u).
ISOLATED = "-I"
_WARNING_CODES = frozenset({"deploy.command-option"})
#: The variables a service file may set for the runtime: its scope and path classes. The
#: service's own settings and secrets go to the env file (never LD_PRELOAD, PYTHONPATH ...).
SERVICE_ENVIRONMENT = frozenset(
    {
        "SCHNITZEL_STREAM_SCOPE",
        "SCHNITZEL_STREAM_ROOT",
        "SCHNITZEL_STREAM_CONFIG_DIR",
        "SCHNITZEL_STREAM_STATE_DIR",
        "SCHNITZEL_STREAM_LOGS_DIR",
        # A label of the metrics (schnitzel_stream_build_info), never a path or a setting.
        "SCHNITZEL_STREAM_TEMPLATE_VERSION",
    }
)
_INTERPRETER_OPTIONS = frozenset({ISOLATED, "-B", "-u"})
#: The service host (``service run``): its options with a value, and its flags.
_HOST_VALUE_OPTIONS = frozenset({"--name", "--host-log", "--pid-file", "--cwd", "--stop-timeout"})
_HOST_FLAGS = frozenset({"--scm", "--exit-0-when-invalid"})

#: ``report(code, message, hint)`` adds one problem located at the command in the service file.
Report = Callable[[str, str, "str | None"], None]


@dataclass(frozen=True, slots=True)
class Invocation:
    """A command line read as ``interpreter -m module [options]``."""

    interpreter: str
    module: str | None
    options: dict[str, str] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
    unknown: tuple[str, ...] = ()
    interpreter_options: tuple[str, ...] = ()
    #: The service host's options (``service run ... --``), when the command starts the host.
    host: dict[str, str] | None = None
    host_flags: frozenset[str] = frozenset()


def parse_invocation(argv: Sequence[str]) -> Invocation | None:
    """Read ``argv``; ``None`` when it is empty."""
    if not argv:
        return None
    interpreter, rest = argv[0], list(argv[1:])
    interpreter_options: list[str] = []
    while rest and rest[0].startswith("-") and rest[0] != "-m":
        interpreter_options.append(rest.pop(0))
    module: str | None = None
    if len(rest) >= 2 and rest[0] == "-m":
        module, rest = rest[1], rest[2:]
    host: dict[str, str] | None = None
    host_flags: set[str] = set()
    unknown: list[str] = []
    if rest[:2] == ["service", "run"]:
        host, rest = {}, rest[2:]
        while rest and rest[0] != "--":
            word = rest.pop(0)
            if word in _HOST_VALUE_OPTIONS and rest and rest[0] != "--":
                host[word] = rest.pop(0)
            elif word in _HOST_FLAGS:
                host_flags.add(word)
            else:
                unknown.append(word)
        rest = rest[1:]
    options: dict[str, str] = {}
    flags: set[str] = set()
    i = 0
    while i < len(rest):
        word = rest[i]
        name, eq, value = word.partition("=")
        if name in _VALUE_OPTIONS:
            if eq:
                options[name] = value
            elif i + 1 < len(rest):
                options[name] = rest[i + 1]
                i += 1
            else:
                unknown.append(word)
        elif word.startswith("--"):
            flags.add(word)
        else:
            unknown.append(word)
        i += 1
    return Invocation(
        interpreter,
        module,
        options,
        frozenset(flags),
        tuple(unknown),
        tuple(interpreter_options),
        host,
        frozenset(host_flags),
    )


def check_invocation(
    invocation: Invocation | None,
    environ: Mapping[str, str],
    answers: Answers,
    layout: Layout,
    report: Report,
    *,
    env_file_option: bool,
    host_flag: str | None = None,
) -> None:
    """Report where the command differs from the answers: interpreter, module, graph, env file, paths.

    ``host_flag``: the command must start the service host with this flag (``--scm`` for the
    Windows service, ``--exit-0-when-invalid`` for launchd); ``None``: the runtime itself.
    """
    if invocation is None:
        report("deploy.command", "the service command is empty", None)
        return
    _check_host(invocation, layout, report, host_flag)
    if invocation.interpreter != layout.python_path:
        report(
            "deploy.command",
            f"the command runs {invocation.interpreter!r}, but the answers put the interpreter at "
            f"{layout.python_path!r}",
            "render the root again (copier update) or fix install_dir in the answers",
        )
    if ISOLATED not in invocation.interpreter_options:
        report(
            "deploy.isolation",
            "the interpreter does not start isolated (-I): the service's writable working "
            "directory would be on sys.path, so a module dropped there would run",
            f"start it as: {layout.python_path} -I -B -u -m {MODULE} ...",
        )
    for option in invocation.interpreter_options:
        if option not in _INTERPRETER_OPTIONS:
            report(
                "deploy.command",
                f"the interpreter option {option!r} is not one the template writes "
                f"({', '.join(sorted(_INTERPRETER_OPTIONS))})",
                "render the root again (copier update)",
            )
    if invocation.module != MODULE:
        report(
            "deploy.command",
            f"the command must run '-m {MODULE}'",
            "the runtime contract is python -m schnitzel_stream",
        )
    if invocation.unknown:
        report(
            "deploy.command",
            f"the command has words the template never writes: {' '.join(map(repr, invocation.unknown))}",
            "a service command is the runtime and its options only",
        )
    extra = sorted(flag for flag in invocation.flags if flag not in _FLAG_OPTIONS)
    if extra:
        report(
            "deploy.command-option",
            f"the command has options the template does not write: {', '.join(extra)}",
            None,
        )
    graph = invocation.options.get("--graph")
    if graph != layout.graph_path:
        report(
            "deploy.graph-path",
            f"the command runs the graph {graph!r}, but the answers put it at {layout.graph_path!r}",
            "install.sh/install.ps1 copies config/graph.yaml there; point --graph at it",
        )
    metrics = invocation.options.get("--metrics-addr")
    # The graph check (--validate-only) serves nothing; the runtime serves what the answers say.
    if "--validate-only" not in invocation.flags and metrics != answers.metrics_addr:
        wanted = f"--metrics-addr {answers.metrics_addr}" if answers.metrics_addr else "no --metrics-addr"
        report(
            "deploy.metrics-addr",
            f"the command serves metrics at {metrics!r}, but the answers call for {wanted}"
            if metrics
            else f"the command serves no metrics, but the answers call for {wanted}",
            "render the root again (copier update) after changing metrics_port or metrics_listen",
        )
    env_file = invocation.options.get("--env-file")
    if env_file_option and env_file != layout.env_path:
        report(
            "deploy.env-path",
            f"the command reads the env file {env_file!r}, but the answers put it at {layout.env_path!r}",
            "pass --env-file with the installed env file, or the service starts without its secrets",
        )
    scope = invocation.options.get("--scope") or environ.get("SCHNITZEL_STREAM_SCOPE")
    if scope != answers.scope:
        report(
            "deploy.scope",
            f"the service runs with scope {scope!r}, but the answers say {answers.scope!r}",
            "set SCHNITZEL_STREAM_SCOPE or --scope to match",
        )
    try:
        effective = resolve_paths(
            os_name=answers.target_os,
            environ=environ,
            scope=answers.scope,
            root=invocation.options.get("--root") or environ.get("SCHNITZEL_STREAM_ROOT"),
            overrides={cls: invocation.options.get(f"--{cls}-dir") for cls in PATH_CLASSES},
            home=answers.user_home or "/",
        )
    except ConfigError as error:
        for problem in error.problems:
            report("deploy.paths", problem.message, problem.hint)
        return
    expected = layout.dirs()
    for cls in PATH_CLASSES:
        got = str(effective.get(cls))
        if got != expected[cls]:
            report(
                "deploy.paths",
                f"${{{cls}}} resolves to {got!r} in the service, but the answers put it at {expected[cls]!r}",
                f"set {_setting(cls)} to {expected[cls]!r}",
            )


def _setting(cls: PathClass) -> str:
    return f"--{cls}-dir or {env_var_for(cls)}"


def collect(problems: list[Problem], file: str, line: int | None) -> Report:
    """A :data:`Report` that appends problems located at ``file:line`` (errors, but for the
    options the template does not write, which are warnings)."""

    def report(code: str, message: str, hint: str | None) -> None:
        warning = code in _WARNING_CODES
        problems.append(
            Problem(
                code=code,
                message=message,
                file=file,
                line=line,
                hint=hint,
                severity="warning" if warning else "error",
            )
        )

    return report


def _check_host(invocation: Invocation, layout: Layout, report: Report, host_flag: str | None) -> None:
    if host_flag is None:
        if invocation.host is not None:
            report(
                "deploy.command", "the command starts the service host, which this manager does not use", None
            )
        return
    host = invocation.host
    if host is None:
        report(
            "deploy.command",
            f"the command does not start the service host (service run {host_flag}): "
            "exit 78 would restart forever, or a crash would not restart",
            "render the root again (copier update)",
        )
        return
    if invocation.host_flags != {host_flag}:
        report("deploy.command", f"the service host must run with {host_flag} and no other flag", None)
    sep = "\\" if layout.python_path.endswith(".exe") else "/"
    expected = {"--name": layout.service_name, "--cwd": layout.state_dir}
    for option, wanted in expected.items():
        if host.get(option) != wanted:
            report(
                "deploy.command", f"service run {option} is {host.get(option)!r}, expected {wanted!r}", None
            )
    for option, directory in (("--host-log", layout.logs_dir), ("--pid-file", layout.state_dir)):
        value = host.get(option)
        if value is not None and not value.startswith(directory + sep):
            report("deploy.command", f"service run {option} {value!r} is not under {directory}", None)
    timeout = host.get("--stop-timeout", "15")
    if not timeout.isdigit() or not 1 <= int(timeout) <= 600:
        report("deploy.command", f"service run --stop-timeout {timeout!r} is not 1 to 600 seconds", None)
