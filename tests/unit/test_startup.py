"""What ``--help`` and ``validate`` of a valid graph import: the guard of their start-up time.

Validating one file takes about a millisecond once everything is imported; nearly all of what
an operator waits for is the interpreter starting and importing (issue #12,
``benchmarks/bench_validate.py``). So these tests watch the module list, which does not depend
on machine speed: a module-level import that puts logging, a network stack or the engine on
these paths fails here, not months later in a benchmark. A new subcommand module keeps its
heavy imports inside its handler (see ``cli/__main__.py``), and a command imports its own
module only, not the other commands' (``cli/_parser.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schnitzel_stream.cli.__main__ import _SUBCOMMANDS
from tests.support.probe import REPO, fresh_python

#: A valid graph of seven built-in nodes: the one ``benchmarks/bench_validate.py`` times.
SEVEN_NODES = (REPO / "benchmarks" / "graphs" / "seven_nodes.yaml").read_text(encoding="utf-8")

#: Never needed to check a valid graph or to print help. ``socket`` and ``email`` are not in
#: this list: jsonschema-rs's extension module imports them when it loads (see --help below).
NOT_FOR_VALIDATE = (
    "logging",
    "traceback",
    "asyncio",
    "subprocess",
    "concurrent",
    "sqlite3",
    "ssl",
    "http",
    "urllib.request",
    "numpy",
    "cv2",
    "jsonschema",
    "prometheus_client",
    "difflib",
    "importlib.metadata",
    "signal",
    # argparse's help formatter loads shutil (with zlib, bz2 and lzma); cli/_parser.py's does not.
    "shutil",
    # Records on this path are NamedTuples or slotted classes: a dataclass costs 0.5-1 ms to
    # define (it compiles its generated methods), and dataclasses imports inspect.
    "dataclasses",
    "inspect",
    # Masking is for env files and for a problem's quoted line; a valid graph needs neither.
    "schnitzel_stream.redact",
    "schnitzel_stream.runtime",
    "schnitzel_stream.deploy",
    "schnitzel_stream.graphtest",
    "schnitzel_stream.state",
    "schnitzel_stream.nodes.http",
    "schnitzel_stream.nodes.mqtt",
    "schnitzel_stream.nodes.video",
    "schnitzel_stream.nodes.durable_sqlite",
    "schnitzel_stream.graph._schema_errors",
)
#: ``--help`` reads no graph: no YAML, no schema validator, nothing of the graph layer.
NOT_FOR_HELP = (
    *NOT_FOR_VALIDATE,
    "yaml",
    "jsonschema_rs",
    "socket",
    "email",
    "decimal",
    "schnitzel_stream.graph",
    "schnitzel_stream.nodes",
    # Threads and dates are loaded when a handler runs.
    "threading",
    "datetime",
)


def _other_commands(command: str | None) -> tuple[str, ...]:
    """The modules of every subcommand but ``command``: parsing one builds no other. ``run``'s
    is the exception: it holds the run options the top-level parser takes too (the runtime
    contract ``--graph GRAPH``)."""
    return tuple(f"schnitzel_stream.cli._{name}" for name in _SUBCOMMANDS if name not in (command, "run"))


def _loaded(args: list[str], forbidden: tuple[str, ...]) -> tuple[int, list[str], str]:
    """Run the CLI with ``args`` in a fresh interpreter: exit code, the forbidden modules it loaded, output."""
    probe = f"""
import json, sys
from schnitzel_stream.cli.__main__ import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:  # argparse's --help
    status = stop.code
names = {json.dumps(forbidden)}
print(json.dumps(sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in sys.modules))))
sys.exit(status)
"""
    result = fresh_python(probe, *args)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else '["<no output>"]'
    return result.returncode, json.loads(last), result.stdout + result.stderr


@pytest.fixture
def seven(tmp_path: Path) -> Path:
    graph = tmp_path / "seven.yaml"
    graph.write_text(SEVEN_NODES, encoding="utf-8")
    return graph


def test_validate_of_a_valid_graph_imports_nothing_heavy(seven: Path) -> None:
    code, loaded, output = _loaded(
        ["validate", str(seven)], (*NOT_FOR_VALIDATE, *_other_commands("validate"))
    )
    assert code == 0, output
    assert "1 file checked, 0 invalid" in output, output
    assert loaded == [], output


def test_the_runtime_contracts_validate_only_imports_nothing_heavy(seven: Path) -> None:
    forbidden = (*NOT_FOR_VALIDATE, *_other_commands("validate"))
    code, loaded, output = _loaded(["--graph", str(seven), "--validate-only"], forbidden)
    assert code == 0, output
    assert "valid" in output, output
    assert loaded == [], output


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"], ["run", "--help"], ["queue", "--help"]])
def test_help_imports_neither_yaml_nor_the_graph_layer(args: list[str]) -> None:
    command = None if args[0] == "--help" else args[0]
    forbidden = (*NOT_FOR_HELP, *_other_commands(command))
    if command is None:  # the list of commands is a table: no command's module, nor validate's helper
        forbidden += ("schnitzel_stream.cli._validate_deployment",)
    code, loaded, output = _loaded(args, forbidden)
    assert code == 0, output
    assert "usage: schnitzel-stream" in output, output
    assert loaded == [], output


#: A valid graph that uses every built-in node once.
EVERY_NODE = Path(__file__).with_name("every_builtin_node.yaml")
#: What validating any graph never needs, whichever node packages it reads specs from: a
#: node package imports its ``_spec`` module and names its classes lazily (``nodes/_lazy``),
#: so no node implementation, nor the logging, queue or latency machinery they use, loads.
NOT_FOR_ANY_GRAPH = (
    "dataclasses",
    "inspect",
    "logging",
    "numpy",
    "cv2",
    "paho",
    "sqlite3",
    "jsonschema",
    "schnitzel_stream.runtime",
    "schnitzel_stream.state",
    "schnitzel_stream.latency",
    "schnitzel_stream.redact",
    *(
        f"schnitzel_stream.nodes.http.{m}"
        for m in ("_sink", "_config", "_client", "_transport", "_http11", "_wire")
    ),
    *(f"schnitzel_stream.nodes.mqtt.{m}" for m in ("_sink", "_config", "_topic", "_connection", "_link")),
    *(
        f"schnitzel_stream.nodes.video.{m}"
        for m in ("_rtsp", "_file", "_config", "_capture", "_frame_slot", "_ffmpeg_env")
    ),
    "schnitzel_stream.nodes.durable_sqlite._nodes",
)


def test_validate_of_a_graph_of_every_builtin_node_imports_no_runtime_machinery(tmp_path: Path) -> None:
    graph = tmp_path / "every.yaml"
    graph.write_text(EVERY_NODE.read_text(encoding="utf-8"), encoding="utf-8")
    code, loaded, output = _loaded(["validate", str(graph)], NOT_FOR_ANY_GRAPH)
    assert code == 0, output
    assert "1 file checked, 0 invalid" in output, output
    assert loaded == [], output


def test_the_probe_sees_a_heavy_import(seven: Path) -> None:
    """The guard can fail: an invalid value loads jsonschema (the reference that words errors)."""
    seven.write_text(SEVEN_NODES.replace("width: 640", "width: wide"), encoding="utf-8")
    code, loaded, output = _loaded(["validate", str(seven)], NOT_FOR_VALIDATE)
    assert code == 1, output
    assert "jsonschema" in loaded and "schnitzel_stream.graph._schema_errors" in loaded, output
