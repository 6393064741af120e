"""Every graph shown in the README and in docs/performance.md is valid, as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schnitzel_stream.graph.validate import ValidateOptions, validate_text
from schnitzel_stream.paths import resolve_paths

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", ROOT / "docs" / "performance.md"]
_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
_FROM_ENV = re.compile(r"_from_env: ([A-Za-z_][A-Za-z0-9_]*)")


def _graphs() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for index, block in enumerate(_BLOCK.findall(doc.read_text(encoding="utf-8"))):
            if "version: 2" in block:
                found.append((f"{doc.name}#{index}", block))
    return found


@pytest.mark.parametrize(("name", "text"), [pytest.param(n, t, id=n) for n, t in _graphs()])
def test_a_documented_graph_is_valid(name: str, text: str, tmp_path: Path) -> None:
    # The variables a graph names are set, as in the deployment's env file.
    environ = {name: "rtsp://127.0.0.1:8554/cam" for name in _FROM_ENV.findall(text)}
    options = ValidateOptions(
        environ=environ, paths=resolve_paths(environ={"SCHNITZEL_STREAM_STATE_DIR": str(tmp_path)})
    )
    graph, report = validate_text(text, name, options)
    assert graph is not None, [f"{p.line}: {p.message}" for p in report.problems]
    assert not report.problems


def test_the_documents_show_a_camera_list() -> None:
    assert any("each_camera: true" in text for name, text in _graphs() if name.startswith("README"))
