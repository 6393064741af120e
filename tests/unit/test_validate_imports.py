"""What ``validate`` imports, checked in fresh interpreters: only what reading specs needs.

The registry imports every built-in node module to read its ``SPECS``, so those modules keep
what only a running node needs (HTTP client, MQTT link, SQLite, OpenCV) behind function-level
imports. And a graph whose every value is valid is accepted by the generated fast validators,
so ``jsonschema`` (0.13 s to import) is not imported at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE_GRAPHS = sorted((REPO / "ops" / "graphs").glob("*.yaml"))

#: Only running nodes need these (and the standard-library modules they pull in).
RUNTIME_ONLY = (
    "cv2",
    "numpy",
    "requests",
    "urllib3",
    "paho",
    "sqlite3",
    "ssl",
    "socket",
    "email.utils",
    "idna",
    "schnitzel_stream.nodes.http._client",
    "schnitzel_stream.nodes.mqtt._config",
    "schnitzel_stream.nodes.mqtt._link",
    "schnitzel_stream.state.sqlite_queue",
    # Only `run --metrics-addr` serves metrics; `top` reads them.
    "prometheus_client",
    "schnitzel_stream.runtime.metrics",
    "schnitzel_stream.runtime._exposition",
)
#: Only an invalid value needs these: jsonschema finds and words its problems.
ERROR_PATH_ONLY = ("jsonschema", "fastjsonschema", "schnitzel_stream.graph._schema_errors")


def _imported_after(code: str, *args: str) -> tuple[int, set[str], str]:
    """Run ``code`` (which sets ``status``) in a fresh interpreter: status, watched modules it imported, output."""
    watched = json.dumps(
        [*RUNTIME_ONLY, *ERROR_PATH_ONLY, "schnitzel_stream.graph._fast_validators.skeleton"]
    )
    probe = f"""
import json, sys
{code}
print(json.dumps(sorted(m for m in {watched} if m in sys.modules)))
sys.exit(status)
"""
    result = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
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
    # The fast path did the work: its skeleton validator ran, and nothing of the error path loaded.
    assert "schnitzel_stream.graph._fast_validators.skeleton" in imported, output
    assert imported.isdisjoint(ERROR_PATH_ONLY), sorted(imported & set(ERROR_PATH_ONLY))
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
