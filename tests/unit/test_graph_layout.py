"""How the graph layer is laid out: a declared public surface, no runtime cycles (module size: test_module_size.py)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

GRAPH = Path(__file__).resolve().parents[2] / "src" / "schnitzel_stream" / "graph"
MODULES = sorted(GRAPH.glob("*.py"))


@pytest.mark.parametrize(
    "module",
    [pytest.param(m, id=m.stem) for m in MODULES if not m.stem.startswith("_") or m.stem == "__init__"],
)
def test_every_public_module_declares_its_surface(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    assert "__all__" in names, f"{module.name} has no __all__"


def test_the_text_renderer_imports_the_report_module_only_for_types() -> None:
    probe = "import sys, schnitzel_stream.graph.report_text as t; print('schnitzel_stream.graph.report' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_no_generated_code_is_left_in_the_graph_layer() -> None:
    assert not (GRAPH / "_fast_validators").exists()
    assert not (GRAPH / "_fast_path.py").exists()
    for module in MODULES:
        head = module.read_text(encoding="utf-8")[:400].lower()
        assert "generated" not in head or "do not edit" not in head, module.name
