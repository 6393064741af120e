"""JSON output never carries the bare words NaN or Infinity (json.dumps' default), which
jq, JSON.parse and log shippers reject: reports, log lines and ``--format json`` output."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, NoReturn

import pytest

from schnitzel_stream import _json
from schnitzel_stream.errors import SchnitzelError
from schnitzel_stream.runtime import logs, report


def _refuse(constant: str) -> NoReturn:
    raise AssertionError(f"not JSON: bare {constant}")


def strict(text: str) -> Any:
    """Parse as a strict JSON parser does: NaN, Infinity and -Infinity are errors."""
    return json.loads(text, parse_constant=_refuse)


HOSTILE = {
    "rate": math.nan,
    "nested": [{"up": math.inf, "down": -math.inf}, (1.5, math.nan)],
    math.inf: "a float key",
    "fine": 0.25,
}


def test_non_finite_floats_become_strings_and_finite_ones_stay_numbers() -> None:
    assert strict(_json.dumps(HOSTILE)) == {
        "rate": "NaN",
        "nested": [{"up": "Infinity", "down": "-Infinity"}, [1.5, "NaN"]],
        "Infinity": "a float key",
        "fine": 0.25,
    }


def test_the_options_still_apply_and_a_clean_value_is_written_as_json_dumps_would() -> None:
    clean = {"b": [1, 2.5, None, "tür"], "a": True}
    assert _json.dumps(clean, indent=2, ensure_ascii=False) == json.dumps(clean, indent=2, ensure_ascii=False)


def test_a_cycle_is_cut_instead_of_raising() -> None:
    loop: dict[str, Any] = {"x": math.nan}
    loop["self"] = loop
    depth = 0
    found = strict(_json.dumps(loop))
    while isinstance(found, dict):
        assert found["x"] == "NaN"
        found, depth = found["self"], depth + 1
    assert isinstance(found, str) and depth > 10


def test_a_json_log_line_with_a_non_finite_field_stays_json(tmp_path: Path) -> None:
    record = logging.makeLogRecord(
        {"name": "schnitzel_stream.runtime", "levelno": logging.INFO, "levelname": "INFO",
         "msg": "rate %s", "args": (math.inf,), "fields": {"rate": math.inf, "lag": math.nan}}
    )  # fmt: skip
    line = logs.JsonFormatter().format(record)
    parsed = strict(line)
    assert (parsed["rate"], parsed["lag"], parsed["message"]) == ("Infinity", "NaN", "rate inf")


def test_the_run_report_file_stays_json(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "run.json"
    report.write(str(target), {"duration_sec": math.nan, "nodes": [{"fps": math.inf}]})
    assert strict(target.read_text(encoding="utf-8")) == {
        "duration_sec": "NaN",
        "nodes": [{"fps": "Infinity"}],
    }


@pytest.mark.parametrize("kind", ["directory", "under a file"])
def test_a_report_that_cannot_be_written_is_a_one_line_error_naming_the_path(
    tmp_path: Path, kind: str
) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    target = tmp_path / ("file/run.json" if kind == "under a file" else "")
    with pytest.raises(SchnitzelError) as raised:
        report.write(str(target), {"ok": 1})
    (problem,) = raised.value.problems
    assert problem.code == "run.report-json"
    assert problem.message.startswith(f"--report-json {target}: the run report could not be written")
    assert "\n" not in problem.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no temp file left behind
