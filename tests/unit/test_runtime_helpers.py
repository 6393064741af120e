"""Logging (one line, JSON, masking), stop signals per OS, sd_notify and the retry helpers."""

from __future__ import annotations

import io
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from schnitzel_stream import redact
from schnitzel_stream.colour import use_colour
from schnitzel_stream.runtime import logs
from schnitzel_stream.runtime.sdnotify import Notifier
from schnitzel_stream.runtime.signals import stop_signals


@pytest.fixture(autouse=True)
def _restore_package_logger() -> Iterator[None]:
    """logs.configure() replaces the package logger's handlers and stops propagation; undo it,
    or later tests in the same worker (caplog on schnitzel_stream.*) see no records."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield None
    logger.handlers[:] = saved[0]
    logger.propagate, logger.level = saved[1], saved[2]


def _log_once(fmt: logs.LogFormat, message: str, *args: object, exc: bool = False) -> str:
    stream = io.StringIO()
    logger = logs.configure(level="debug", fmt=fmt, stream=stream)
    if exc:
        try:
            raise ValueError("inner\nline")
        except ValueError:
            logger.getChild("test").exception(message, *args)
    else:
        logger.getChild("test").info(message, *args)
    return stream.getvalue()


def test_text_logs_are_one_line_per_event_even_with_a_traceback() -> None:
    out = _log_once("text", "multi\nline %s", "arg", exc=True)
    assert out.count("\n") == 1
    assert "ERROR test: multi | line arg" in out
    assert "ValueError: inner | line" in out


def test_json_logs_parse_and_keep_the_traceback_in_a_field() -> None:
    out = _log_once("json", "hello %d", 5, exc=True)
    record = json.loads(out)
    assert record["message"] == "hello 5"
    assert record["level"] == "error"
    assert "ValueError" in record["exc"]


@pytest.mark.parametrize("fmt", [pytest.param("text", id="text"), pytest.param("json", id="json")])
def test_credentials_in_urls_and_registered_secrets_are_masked(fmt: logs.LogFormat) -> None:
    redact.register_secret("s3cr3t-token-value")
    out = _log_once(fmt, "connect rtsp://admin:hunter22@cam/x with %s", "s3cr3t-token-value")
    assert "hunter22" not in out
    assert "s3cr3t-token-value" not in out
    assert "admin:***@cam" in out


def test_log_file_rotates_under_the_given_path(tmp_path: Path) -> None:
    target = tmp_path / "logs" / "schnitzel-stream.log"
    logger = logs.configure(file=target, max_bytes=200, backups=2, stream=io.StringIO())
    for i in range(40):
        logger.info("line %d with some padding to fill the file", i)
    for handler in logger.handlers:
        handler.flush()
    assert target.exists()
    assert (tmp_path / "logs" / "schnitzel-stream.log.1").exists()
    assert not (tmp_path / "logs" / "schnitzel-stream.log.3").exists()
    logging.getLogger(logs.LOGGER_NAME).handlers.clear()


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_colour(Tty(), {}) is True
    assert use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(io.StringIO(), {}) is False


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        pytest.param("linux", ("SIGINT", "SIGTERM", "SIGHUP"), id="linux"),
        pytest.param("darwin", ("SIGINT", "SIGTERM", "SIGHUP"), id="macos"),
        pytest.param("win32", ("SIGINT", "SIGTERM", "SIGBREAK"), id="windows-ctrl-break"),
    ],
)
def test_stop_signals_per_os(platform: str, expected: tuple[str, ...]) -> None:
    assert stop_signals(platform) == expected


def test_notifier_ignores_a_watchdog_meant_for_another_pid() -> None:
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"})
    assert notifier.watchdog_interval is None


def test_notifier_without_socket_is_a_no_op() -> None:
    notifier = Notifier.from_environ({})
    assert not notifier.enabled
    notifier.ready()
    notifier.watchdog(0.0)
    assert not notifier.watchdog_due(100.0)


def test_mask_url_keeps_the_user_and_hides_password_and_token_parameters() -> None:
    text = "http://u:p4ss@h:1/x?token=abc&x=1 and mqtts://bob:pw@broker:8883"
    masked = redact.mask_url(text)
    assert masked == "http://u:***@h:1/x?token=***&x=1 and mqtts://bob:***@broker:8883"


def test_full_jitter_backoff_stays_within_the_capped_ceiling() -> None:
    from schnitzel_stream.nodes._retry import Backoff

    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    delays = [backoff.delay(n) for n in range(2000)]
    assert all(0.0 <= d <= 8.0 for d in delays)
    assert backoff.ceiling(0) == 0.5 and backoff.ceiling(3) == 4.0 and backoff.ceiling(10_000) == 8.0
