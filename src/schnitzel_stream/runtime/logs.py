"""Logging: one line per event on stderr, optional JSON lines, optional rotating file.

journald and launchd collect stderr, so stderr is the default. Every record passes through
:func:`schnitzel_stream.redact.redact` after formatting, so credentials in URLs and
registered secrets are masked in every handler, including exception text.

- **journald**: when stderr *is* the journal stream (``JOURNAL_STREAM`` names the device and
  inode of fd 2, as systemd.exec(5) describes), each console line starts with its syslog
  priority, ``<3>`` for errors (sd-daemon(3)), which journald strips and stores as the
  entry's priority, so ``journalctl -p err -u UNIT`` shows the errors. The text format then
  leaves out its own timestamp (the journal has one). The rotating file never has a prefix.
- **JSON** (``--log-format json``): every line on stderr is one JSON object. Records of other
  libraries' loggers, Python warnings and uncaught exceptions in any thread go through the
  same formatter, and OpenCV's and FFmpeg's own logging (which writes to fd 2 directly) is
  silenced before any capture opens: the nodes log what matters (connection failures,
  stalls, reconnects) themselves.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Literal, TextIO

from schnitzel_stream import _json
from schnitzel_stream.colour import use_colour
from schnitzel_stream.packet import iso_from_ns
from schnitzel_stream.redact import redact

LogFormat = Literal["text", "json"]
LOGGER_NAME = "schnitzel_stream"
LOG_FILE_NAME = "schnitzel-stream.log"

_LEVEL_COLOURS = {"WARNING": "\x1b[33m", "ERROR": "\x1b[31m", "CRITICAL": "\x1b[31;1m", "DEBUG": "\x1b[2m"}
_RESET = "\x1b[0m"
#: syslog priorities (sd-daemon(3): SD_CRIT "<2>", SD_ERR "<3>", SD_WARNING "<4>", SD_INFO "<6>", SD_DEBUG "<7>").
_PRIORITY = {"CRITICAL": 2, "ERROR": 3, "WARNING": 4, "INFO": 6, "DEBUG": 7}
#: OpenCV's logger and FFmpeg's av_log, silenced in JSON mode (FFmpeg: AV_LOG_QUIET).
_NATIVE_QUIET = {"OPENCV_LOG_LEVEL": "SILENT", "OPENCV_FFMPEG_LOGLEVEL": "-8"}
#: Marks the handlers configure() adds, so a second call replaces exactly those.
_OURS = "_schnitzel_stream_handler"


def _iso(created: float) -> str:
    return iso_from_ns(int(created * 1e9))


def _one_line(text: str) -> str:
    return text.replace("\r", "").replace("\n", " | ")


def priority(levelname: str) -> int:
    """The syslog priority of a logging level name (custom levels count as info)."""
    return _PRIORITY.get(levelname, 6)


class TextFormatter(logging.Formatter):
    """``2026-11-26T03:00:00.123Z INFO runtime: message`` on one line, credentials masked.

    ``journal``: ``<6>INFO runtime: message`` (priority prefix, no timestamp).
    """

    def __init__(self, colour: bool = False, journal: bool = False) -> None:
        super().__init__()
        self.colour = colour
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += " | " + "".join(traceback.format_exception(*record.exc_info)).strip()
        name = record.name.removeprefix(LOGGER_NAME + ".")
        level = record.levelname
        if self.colour and level in _LEVEL_COLOURS:
            level = f"{_LEVEL_COLOURS[level]}{level}{_RESET}"
        if self.journal:
            return f"<{priority(record.levelname)}>" + redact(_one_line(f"{level} {name}: {message}"))
        return redact(_one_line(f"{_iso(record.created)} {level} {name}: {message}"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message`` (+ ``exc``, + the
    record's ``fields``). ``journal`` puts the syslog priority prefix before the object."""

    def __init__(self, journal: bool = False) -> None:
        super().__init__()
        self.journal = journal

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            data.update({str(k): v for k, v in fields.items() if str(k) not in data})
        if record.exc_info:
            data["exc"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        line = redact(_json.dumps(data, ensure_ascii=False, default=str))
        return f"<{priority(record.levelname)}>{line}" if self.journal else line


class _LogFile(logging.handlers.RotatingFileHandler):
    """The ``--log-file`` handler. ``run`` checks the file before it starts; if writing it fails
    later (the disk filled up, the file became a directory), the console gets one record
    saying so, in its own format, and the file is given up, instead of logging's
    ``--- Logging error ---`` traceback on stderr for every record (which breaks JSON lines)."""

    console: logging.Handler | None = None
    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        error = sys.exc_info()[1]
        reason = getattr(error, "strerror", None) or error or "unknown error"
        if self.console is not None:
            self.console.handle(
                logging.makeLogRecord(
                    {
                        "name": LOGGER_NAME + ".logs",
                        "levelno": logging.ERROR,
                        "levelname": "ERROR",
                        "msg": "--log-file %s cannot be written (%s): logging to stderr only from now on",
                        "args": (self.baseFilename, reason),
                        "fields": {"code": "logs.file"},
                    }
                )
            )

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)


#: How :func:`configure` set up the console (format, journal prefix), for :func:`last_words`.
_console_style: tuple[LogFormat, bool] = ("text", False)


def last_words(message: str, logger: str = LOGGER_NAME + ".runtime") -> str:
    """One critical console line in the configured format (JSON, the journal's ``<2>``),
    built without any lock: for a signal handler that writes it with ``os.write`` and exits
    (logging's handlers take locks the interrupted code may hold)."""
    fmt, journal = _console_style
    stamp = _iso(time.time())
    if fmt == "json":
        text = _json.dumps({"ts": stamp, "level": "critical", "logger": logger, "message": message})
    else:
        name = logger.removeprefix(LOGGER_NAME + ".")
        text = f"CRITICAL {name}: {message}" if journal else f"{stamp} CRITICAL {name}: {message}"
    return f"<{_PRIORITY['CRITICAL']}>{text}" if journal else text


def journal_stream(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal stream systemd connected (``JOURNAL_STREAM``).

    systemd.exec(5): the variable holds ``DEVICE:INODE`` of the stream; a process whose
    stderr was redirected elsewhere (a pipe, a file) inherits the variable but must not use
    the prefix, so the numbers are compared with ``fstat`` of the stream itself.
    """
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    device, sep, inode = value.partition(":")
    if not sep or not device.isdigit() or not inode.isdigit():
        return False
    try:
        found = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (found.st_dev, found.st_ino) == (int(device), int(inode))


def quiet_native_logs() -> None:
    """Silence OpenCV's and FFmpeg's own stderr output (they bypass Python's logging).

    FFmpeg reads its level when OpenCV first opens a capture, so setting the variables works
    even after cv2 was imported; OpenCV's own level is set through cv2 when it is loaded.
    """
    os.environ.update(_NATIVE_QUIET)
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        with contextlib.suppress(AttributeError):
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def configure(
    *,
    level: str = "info",
    fmt: LogFormat = "text",
    file: Path | None = None,
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Logger:
    """Set up the ``schnitzel_stream`` logger, and the root logger for everything else.

    Safe to call more than once. Other libraries' records reach stderr through the same
    formatter (at warning and above), so a JSON stream stays JSON.
    """
    logger = logging.getLogger(LOGGER_NAME)
    root = logging.getLogger()
    for owner in (logger, root):
        for handler in list(owner.handlers):
            if owner is logger or getattr(handler, _OURS, False):
                owner.removeHandler(handler)
                handler.close()
    logger.setLevel(level.upper())
    logger.propagate = False
    out = stream or sys.stderr
    journal = journal_stream(out, environ)
    global _console_style
    _console_style = (fmt, journal)
    console = logging.StreamHandler(out)
    if fmt == "json":
        console.setFormatter(JsonFormatter(journal=journal))
    else:
        console.setFormatter(TextFormatter(colour=use_colour(out, environ) and not journal, journal=journal))
    logger.addHandler(console)
    foreign = logging.StreamHandler(out)
    foreign.setFormatter(console.formatter)
    foreign.setLevel(logging.WARNING)
    setattr(foreign, _OURS, True)
    root.addHandler(foreign)
    logging.captureWarnings(True)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        rotating = _LogFile(file, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
        rotating.console = console
        rotating.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
        logger.addHandler(rotating)
    if fmt == "json":
        quiet_native_logs()
    _route_uncaught(logger)
    return logger


def _route_uncaught(logger: logging.Logger) -> None:
    """Uncaught exceptions (main thread or any other) become one log record, not a raw traceback."""
    crashed = logger.getChild("uncaught")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        crashed.error(
            "thread %s died: %s",
            name,
            args.exc_type.__name__,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    def main_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        crashed.critical("uncaught %s", kind.__name__, exc_info=(kind, value, tb))

    threading.excepthook = thread_hook
    sys.excepthook = main_hook
