"""Logging: one line per event on stderr, optional JSON lines, optional rotating file.

journald and launchd collect stderr, so stderr is the default. Every record passes through
:func:`schnitzel_stream.redact.redact` after formatting, so credentials in URLs and
registered secrets are masked in every handler, including exception text.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from schnitzel_stream.colour import use_colour
from schnitzel_stream.redact import redact

LogFormat = Literal["text", "json"]
LOGGER_NAME = "schnitzel_stream"
LOG_FILE_NAME = "schnitzel-stream.log"

_LEVEL_COLOURS = {"WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[31;1m", "DEBUG": "\x1b[2m"}
_RESET = "\x1b[0m"


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", " | ")


class TextFormatter(logging.Formatter):
    """``2026-11-26T03:00:00.123Z INFO runtime: message`` on one line, credentials masked."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += " | " + "".join(traceback.format_exception(*record.exc_info)).strip()
        name = record.name.removeprefix(LOGGER_NAME + ".")
        level = record.levelname
        if self.colour and level in _LEVEL_COLOURS:
            level = f"{_LEVEL_COLOURS[level]}{level}{_RESET}"
        return redact(_one_line(f"{_iso(record.created)} {level} {name}: {message}"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message`` (+ ``exc``)."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, str] = {
            "ts": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        return redact(json.dumps(data, ensure_ascii=False))


def configure(
    *,
    level: str = "info",
    fmt: LogFormat = "text",
    file: Path | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
    stream: TextIO | None = None,
) -> logging.Logger:
    """Set up the ``schnitzel_stream`` logger; safe to call more than once."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level.upper())
    logger.propagate = False
    out = stream or sys.stderr
    console = logging.StreamHandler(out)
    console.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter(colour=use_colour(out)))
    logger.addHandler(console)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
        rotating.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
        logger.addHandler(rotating)
    return logger
