"""Option values of the observability commands: addresses, dead-letter filters, doctor checks."""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import pytest

from schnitzel_stream.cli._common import host_port
from schnitzel_stream.cli._queue import _duration, _seq_ranges
from schnitzel_stream.deploy.doctor import Check, check_notify_socket, check_path, check_python
from schnitzel_stream.packet import Packet
from schnitzel_stream.state.sqlite_queue import DeadFilter, SqliteQueue, peek_dead, purge_queue, requeue_dead


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("9321", ("127.0.0.1", 9321), id="port-only-is-loopback"),
        pytest.param(":9321", ("127.0.0.1", 9321), id="empty-host-is-loopback-not-everywhere"),
        pytest.param("0.0.0.0:9321", ("0.0.0.0", 9321), id="every-interface-must-be-named"),
        pytest.param("[::1]:9321", ("::1", 9321), id="ipv6"),
        pytest.param("edge-1.local:80", ("edge-1.local", 80), id="hostname"),
        pytest.param("127.0.0.1:0", ("127.0.0.1", 0), id="any-free-port"),
    ],
)
def test_addresses(text: str, expected: tuple[str, int]) -> None:
    assert host_port(text, allow_zero=True) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "host:",
        "host:http",
        "::1:9321",
        "[]:1",
        "1:65536",
        "a b:1",
        "h:\u0661\u0662",
        "x\n:1",
        "1.2.3.4:-1",
    ],
)
def test_bad_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        host_port(text, allow_zero=True)


def test_port_zero_only_where_a_server_listens() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="1-65535"):
        host_port("127.0.0.1:0")


def test_seq_ranges_and_ages() -> None:
    assert _seq_ranges("3,5-7") == ((3, 3), (5, 7))
    assert _duration("90") == 90.0 and _duration("30m") == 1800.0 and _duration("2h") == 7200.0
    assert _duration("1.5d") == 129600.0
    for bad in ("7-3", "x", "1-", "-2", "\u0663"):
        with pytest.raises(argparse.ArgumentTypeError):
            _seq_ranges(bad)
    for bad in ("-1m", "nan", "inf", "5w", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _duration(bad)


def _dead_queue(path: Path, reasons: list[str]) -> None:
    with SqliteQueue(path) as queue:
        for i, _ in enumerate(reasons):
            queue.enqueue(Packet.new("event", "cam", {"i": i}, meta={"idempotency_key": f"k{i}"}))
        rows = queue.lease(len(reasons), 30)
        for row, reason in zip(rows, reasons, strict=True):
            queue.dead_letter(row.seq, reason)


def test_dead_letter_filters_select_by_seq_reason_and_age(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    _dead_queue(
        path, ["out: HTTP 422 a", "out: HTTP 400 b", "out: HTTP 422 c", "x: 50% off'; DROP TABLE dead;--"]
    )
    # Age the first two: moved aside a day ago.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE dead SET failed_at = ? WHERE seq <= 2", (time.time() - 86400,))
    everything = peek_dead(path, 10)
    assert [d.row.seq for d in everything] == [1, 2, 3, 4]
    assert all(d.failed_at > 0 and d.reason for d in everything)
    assert [d.row.seq for d in peek_dead(path, 10, DeadFilter(reason="HTTP 422"))] == [1, 3]
    assert [d.row.seq for d in peek_dead(path, 10, DeadFilter(older_than_sec=3600))] == [1, 2]
    assert [d.row.seq for d in peek_dead(path, 10, DeadFilter(seqs=((2, 3),), reason="422"))] == [3]
    # Text with SQL in it is a value, never SQL.
    assert [d.row.seq for d in peek_dead(path, 10, DeadFilter(reason="'; DROP TABLE dead;--"))] == [4]
    assert requeue_dead(path, DeadFilter(reason="HTTP 422", older_than_sec=3600)) == 1
    assert purge_queue(path, dead=True, only=DeadFilter(seqs=((4, 4),))) == 1
    assert [d.row.seq for d in peek_dead(path, 10)] == [2, 3]
    with SqliteQueue(path) as queue:
        assert queue.stats().depth == 1  # the requeued one, ready again
    assert purge_queue(path, dead=True) == 2


def test_a_warning_or_failure_without_a_fix_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="needs a fix hint"):
        Check("disk", "warn", "low")
    with pytest.raises(ValueError, match="needs a fix hint"):
        Check("disk", "fail", "full", "")
    assert Check("disk", "ok", "fine").hint is None


def test_failed_checks_name_what_they_found(tmp_path: Path) -> None:
    old = check_python((3, 9, 1))
    assert old.status == "fail" and "3.9.1" in old.detail and old.hint
    a_file = tmp_path / "state"
    a_file.write_text("x", encoding="utf-8")
    found = check_path("state", a_file)
    assert found.status == "fail" and str(a_file) in found.detail and "not a directory" in found.detail
    assert found.hint is not None and "--state-dir" in found.hint
    socket_check = check_notify_socket(str(tmp_path / "nothing.sock"))
    assert socket_check.status == "fail" and "nothing.sock" in socket_check.detail
