"""What ``validate`` imports, checked in fresh interpreters: only what reading specs needs.

The registry imports every built-in node module to read its ``SPECS``, so those modules keep
what only a running node needs (HTTP client, MQTT link, SQLite, OpenCV) out of reach: the
node packages import only their ``_spec`` modules and name their classes lazily, and the
other node modules import heavy libraries inside functions. And a graph whose every value is valid is accepted by the compiled validator
(jsonschema-rs), so ``jsonschema`` (0.13 s to import) is not imported at all. Where
``jsonschema_rs`` cannot be imported (a platform without its wheel), jsonschema alone
decides, with the same verdicts and words: the last tests block it to prove that.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.probe import REPO, fresh_python

REFERENCE_GRAPHS = sorted((REPO / "ops" / "graphs").glob("*.yaml"))

#: Only running nodes need these (and the standard-library modules they pull in). ``socket``
#: and ``email.utils`` are not watched: jsonschema-rs's own extension module imports them.
RUNTIME_ONLY = (
    "cv2",
    "numpy",
    "requests",
    "urllib3",
    "paho",
    "sqlite3",
    "ssl",
    "idna",
    "logging",
    # The node implementations: a node package names its classes lazily (nodes/_lazy.py).
    "schnitzel_stream.nodes.http._sink",
    "schnitzel_stream.nodes.http._client",
    "schnitzel_stream.nodes.mqtt._sink",
    "schnitzel_stream.nodes.mqtt._config",
    "schnitzel_stream.nodes.mqtt._link",
    "schnitzel_stream.nodes.mqtt._connection",
    "schnitzel_stream.nodes.video._rtsp",
    "schnitzel_stream.nodes.video._file",
    "schnitzel_stream.nodes.durable_sqlite._nodes",
    "schnitzel_stream.state",
    "schnitzel_stream.state.sqlite_queue",
    # Only `run --metrics-addr` serves metrics; `top` reads them.
    "prometheus_client",
    "schnitzel_stream.runtime.metrics",
    "schnitzel_stream.runtime._exposition",
)
#: Only an invalid value needs these: jsonschema finds and words its problems.
ERROR_PATH_ONLY = ("jsonschema", "schnitzel_stream.graph._schema_errors")
#: Put first in a probe, this makes ``import jsonschema_rs`` fail as on a platform without its wheel.
BLOCK_COMPILED = "sys.modules['jsonschema_rs'] = None  # import raises ImportError"


def _imported_after(code: str, *args: str) -> tuple[int, set[str], str]:
    """Run ``code`` (which sets ``status``) in a fresh interpreter: status, watched modules it imported, output."""
    watched = json.dumps([*RUNTIME_ONLY, *ERROR_PATH_ONLY, "jsonschema_rs"])
    probe = f"""
import json, sys
{code}
print(json.dumps(sorted(m for m in {watched} if sys.modules.get(m) is not None)))
sys.exit(status)
"""
    result = fresh_python(probe, *args)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "[]"
    return result.returncode, set(json.loads(last)), result.stdout + result.stderr


def test_reading_builtin_specs_imports_no_runtime_module() -> None:
    code, imported, output = _imported_after(
        "from schnitzel_stream.nodes.registry import builtin_specs\nstatus = 0 if len(builtin_specs()) >= 13 else 3"
    )
    assert code == 0, output
    assert imported.isdisjoint(RUNTIME_ONLY), sorted(imported & set(RUNTIME_ONLY))
    assert imported.isdisjoint(ERROR_PATH_ONLY), sorted(imported & set(ERROR_PATH_ONLY))


def test_validating_the_reference_graphs_never_imports_jsonschema() -> None:
    assert len(REFERENCE_GRAPHS) >= 4
    code, imported, output = _imported_after(
        "from schnitzel_stream.cli.__main__ import main\nstatus = main(['validate', *sys.argv[1:]])",
        *map(str, REFERENCE_GRAPHS),
    )
    assert code == 0, output
    assert f"{len(REFERENCE_GRAPHS)} files checked, 0 invalid" in output, output
    # The compiled validator did the work, and nothing of the error path loaded.
    assert "jsonschema_rs" in imported, output
    assert imported.isdisjoint(ERROR_PATH_ONLY), sorted(imported & set(ERROR_PATH_ONLY))
    assert imported.isdisjoint(RUNTIME_ONLY), sorted(imported & set(RUNTIME_ONLY))
    assert imported.isdisjoint(RUNTIME_ONLY), sorted(imported & set(RUNTIME_ONLY))


def test_an_invalid_graph_still_gets_jsonschemas_words(tmp_path: Path) -> None:
    graph = tmp_path / "bad.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - {id: cam, kind: source, plugin: synthetic_camera, config: {width: wide}}\n",
        encoding="utf-8",
    )
    code, imported, output = _imported_after(
        "from schnitzel_stream.cli.__main__ import main\nstatus = main(['validate', sys.argv[1]])", str(graph)
    )
    assert code == 1, output
    assert "jsonschema" in imported
    assert "nodes[0].config.width" in output and "expected an integer, got the string 'wide'" in output, (
        output
    )


def test_without_the_compiled_validator_valid_graphs_still_pass() -> None:
    code, imported, output = _imported_after(
        f"{BLOCK_COMPILED}\nfrom schnitzel_stream.cli.__main__ import main\n"
        "status = main(['validate', *sys.argv[1:]])",
        *map(str, REFERENCE_GRAPHS),
    )
    assert code == 0, output
    assert f"{len(REFERENCE_GRAPHS)} files checked, 0 invalid" in output, output
    assert "jsonschema_rs" not in imported
    assert "jsonschema" in imported  # the reference validator decided alone


def test_without_the_compiled_validator_problems_get_the_same_words(tmp_path: Path) -> None:
    graph = tmp_path / "bad.yaml"
    graph.write_text(
        "version: 2\nnodes:\n  - {id: cam, kind: source, plugin: synthetic_camera, config: {width: wide}}\n",
        encoding="utf-8",
    )
    run = "from schnitzel_stream.cli.__main__ import main\nstatus = main(['validate', sys.argv[1]])"
    with_compiled = _imported_after(run, str(graph))
    without = _imported_after(f"{BLOCK_COMPILED}\n{run}", str(graph))
    assert with_compiled[0] == without[0] == 1, without[2]
    assert "jsonschema_rs" not in without[1]
    assert "expected an integer, got the string 'wide'" in without[2], without[2]
    # Everything but the trailing list of watched modules is the same report.
    assert with_compiled[2].rsplit("\n[", 1)[0] == without[2].rsplit("\n[", 1)[0]


def test_the_locked_compiled_validator_has_wheels_for_every_platform_the_bundle_targets() -> None:
    """jsonschema-rs must install from the lock on Linux x86_64/aarch64, macOS and Windows."""
    import tomllib

    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    (package,) = [p for p in lock["package"] if p["name"] == "jsonschema-rs"]
    wheels = [wheel["url"].rsplit("/", 1)[-1] for wheel in package["wheels"]]
    abi3 = [name for name in wheels if "-abi3-" in name]  # one wheel for every CPython >= 3.10
    for platform in (
        "manylinux2014_x86_64",
        "manylinux_2_28_aarch64",
        "macosx_11_0_arm64",
        "macosx_10_12_x86_64",
        "win_amd64",
    ):
        assert any(platform in name for name in abi3), (platform, wheels)
