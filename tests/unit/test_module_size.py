"""No module under ``src/`` grows past 400 lines (STYLE.md: split a module along a concern first)."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 400


def _line_count(module: Path) -> int:
    return len(module.read_text(encoding="utf-8").splitlines())


def test_no_module_under_src_is_over_400_lines() -> None:
    modules = sorted(SRC.rglob("*.py"))
    # The package itself must be found, or this test would pass on an empty list.
    assert any(m.name == "__main__.py" for m in modules), f"no modules found under {SRC}"
    too_long = {str(m.relative_to(SRC)): n for m in modules if (n := _line_count(m)) > MAX_LINES}
    assert not too_long, f"over {MAX_LINES} lines, split along a concern: {too_long}"
