"""Where log lines go and how they look there: the journal's priority prefix, JSON for every
logger and every crash, OpenCV and FFmpeg silenced under JSON."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pytest

from schnitzel_stream.runtime import logs


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[TextIO]:
    """A real file: journal detection compares its device and inode with JOURNAL_STREAM."""
    with (tmp_path / "stderr.txt").open("w+", encoding="utf-8") as handle:
        yield handle
    logging.getLogger(logs.LOGGER_NAME).handlers.clear()
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_schnitzel_stream_handler", False):
            logging.getLogger().removeHandler(handler)


def _identity(handle: TextIO) -> str:
    found = os.fstat(handle.fileno())
    return f"{found.st_dev}:{found.st_ino}"


def _lines(handle: TextIO) -> list[str]:
    handle.flush()
    handle.seek(0)
    return handle.read().splitlines()


def test_on_the_journal_stream_each_line_starts_with_its_priority_and_has_no_timestamp(
    stream: TextIO,
) -> None:
    logger = logs.configure(level="debug", stream=stream, environ={"JOURNAL_STREAM": _identity(stream)})
    log = logger.getChild("runtime")
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e\nsecond line")
    log.critical("c")
    assert _lines(stream) == [
        "<7>DEBUG runtime: d",
        "<6>INFO runtime: i",
        "<4>WARNING runtime: w",
        "<3>ERROR runtime: e | second line",
        "<2>CRITICAL runtime: c",
    ]


def test_json_on_the_journal_stream_keeps_one_object_after_the_prefix(stream: TextIO) -> None:
    logger = logs.configure(fmt="json", stream=stream, environ={"JOURNAL_STREAM": _identity(stream)})
    logger.getChild("cli").error("refused")
    (line,) = _lines(stream)
    assert line.startswith("<3>{")
    assert json.loads(line[3:])["message"] == "refused"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="unset"),
        pytest.param("1:2", id="another-stream"),
        pytest.param("garbage", id="malformed"),
    ],
)
def test_an_inherited_or_foreign_journal_stream_adds_no_prefix(stream: TextIO, value: str) -> None:
    # A child whose stderr was redirected inherits JOURNAL_STREAM: systemd.exec(5) says compare.
    logger = logs.configure(stream=stream, environ={"JOURNAL_STREAM": value} if value else {})
    logger.getChild("runtime").error("plain")
    (line,) = _lines(stream)
    assert not line.startswith("<") and line.endswith("ERROR runtime: plain")
    assert line[:4].isdigit()  # the timestamp is back


PROBE = """
import logging, threading, warnings
from schnitzel_stream.runtime import logs
logs.configure(fmt="json", environ={})
logging.getLogger("urllib3.connectionpool").warning("Connection pool is full")
warnings.warn("old API", DeprecationWarning, stacklevel=1)
def crash():
    raise RuntimeError("reader died")
thread = threading.Thread(target=crash, name="reader")
thread.start()
thread.join()
raise SystemError("main died")
"""


def test_json_covers_other_libraries_warnings_and_crashes_in_any_thread() -> None:
    # A fresh interpreter: pytest's own warning capture would swallow the warning here.
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    records = [json.loads(line) for line in done.stderr.splitlines()]
    assert [r["logger"] for r in records] == [
        "urllib3.connectionpool",
        "py.warnings",
        "schnitzel_stream.uncaught",
        "schnitzel_stream.uncaught",
    ]
    assert "old API" in records[1]["message"]
    assert "thread reader died: RuntimeError" in records[2]["message"] and "reader died" in records[2]["exc"]
    assert records[3]["level"] == "critical" and "main died" in records[3]["exc"]


def test_json_silences_opencv_and_ffmpeg(stream: TextIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)
    monkeypatch.delenv("OPENCV_FFMPEG_LOGLEVEL", raising=False)
    logs.configure(fmt="text", stream=stream, environ={})
    assert "OPENCV_FFMPEG_LOGLEVEL" not in os.environ  # text leaves the operator's choice alone
    logs.configure(fmt="json", stream=stream, environ={})
    assert os.environ["OPENCV_LOG_LEVEL"] == "SILENT"
    assert os.environ["OPENCV_FFMPEG_LOGLEVEL"] == "-8"  # AV_LOG_QUIET


def test_problems_carry_their_location_as_json_fields(stream: TextIO) -> None:
    logger = logs.configure(fmt="json", stream=stream, environ={})
    logger.getChild("cli").error(
        "g.yaml:3:5: bad", extra={"fields": {"file": "g.yaml", "line": 3, "message": "x"}}
    )
    (record,) = [json.loads(line) for line in _lines(stream)]
    assert (record["file"], record["line"], record["message"]) == ("g.yaml", 3, "g.yaml:3:5: bad")


def test_a_log_file_that_fails_later_is_one_json_line_and_the_console_keeps_going(
    stream: TextIO, tmp_path: Path
) -> None:
    target = tmp_path / "run.log"
    logger = logs.configure(fmt="json", stream=stream, environ={}, file=target)
    target.mkdir()  # after run's check: the file's place is taken by a directory
    for n in range(3):
        logger.getChild("runtime").info("record %d", n)
    records = [json.loads(line) for line in _lines(stream)]  # no "--- Logging error ---" traceback
    assert [r["message"] for r in records if r["level"] == "info"] == ["record 0", "record 1", "record 2"]
    (failure,) = [r for r in records if r["level"] == "error"]
    assert failure["code"] == "logs.file"
    assert failure["message"].startswith(f"--log-file {target} cannot be written (Is a directory)")
