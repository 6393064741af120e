"""``schnitzel-stream queue stats|peek|purge|requeue-dead PATH``: look into a durable queue file.

``stats`` and ``peek`` open the file read-only: they never lease, quarantine or change it,
so they are safe next to a running service. A missing or corrupt file is a one-line error
(exit 1); ``purge`` without ``--yes`` is a usage error (exit 2). ``peek --dead`` shows why
and when each dead letter was moved aside; ``peek --dead``, ``purge --dead`` and
``requeue-dead`` select dead letters with ``--seq``, ``--reason`` and ``--older-than``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from schnitzel_stream import _json
from schnitzel_stream.errors import UsageError

if TYPE_CHECKING:
    from schnitzel_stream.state.sqlite_queue import DeadFilter


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Inspect a durable SQLite queue file (stats, peek) or empty it (purge). stats and peek "
        "open the file read-only and are safe to run while a service uses it."
    )
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION", required=True)

    stats = actions.add_parser(
        "stats",
        help="depth, bytes, rows in flight, oldest age, file and WAL size",
        description="Print how many packets the queue holds, their bytes, how many are leased (in flight), "
        "the age of the oldest, and the size of the file and its WAL.",
    )
    stats.add_argument("path", metavar="PATH", help="the queue file")
    stats.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    stats.set_defaults(handler=stats_command)

    peek = actions.add_parser(
        "peek",
        help="show the oldest packets without leasing them",
        description="Print the oldest packets in the queue, in delivery order, without leasing or removing them.",
    )
    peek.add_argument("path", metavar="PATH", help="the queue file")
    peek.add_argument(
        "--limit", type=_positive, default=10, metavar="N", help="how many packets (default: 10)"
    )
    peek.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    peek.add_argument(
        "--dead",
        action="store_true",
        help="show the dead letters (packets a receiver rejected for good), with why and when",
    )
    _add_dead_filters(peek)
    peek.set_defaults(handler=peek_command)

    purge = actions.add_parser(
        "purge",
        help="delete every packet in the queue (needs --yes)",
        description="Delete every packet in the queue, leased or not. The packets are lost; refuses to run "
        "without --yes.",
    )
    purge.add_argument("path", metavar="PATH", help="the queue file")
    purge.add_argument("--yes", action="store_true", help="really delete every packet")
    purge.add_argument("--dead", action="store_true", help="delete the dead letters instead of the queue")
    _add_dead_filters(purge)
    purge.set_defaults(handler=purge_command)

    requeue = actions.add_parser(
        "requeue-dead",
        help="move dead letters back into the queue (needs --yes)",
        description="Move the dead letters (packets a receiver rejected for good, for example with a 4xx "
        "answer) back into the queue, so they are delivered again once the cause is fixed: all of them, or "
        "those the filters select. Stop the service first. Refuses to run without --yes.",
    )
    requeue.add_argument("path", metavar="PATH", help="the queue file")
    requeue.add_argument("--yes", action="store_true", help="really move the dead letters back")
    _add_dead_filters(requeue)
    requeue.set_defaults(handler=requeue_command)


def _add_dead_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dead-letter filters (combined: a dead letter must match all)")
    group.add_argument(
        "--seq",
        action="append",
        type=_seq_ranges,
        metavar="N[-M][,...]",
        help="only these sequence numbers or inclusive ranges (repeatable)",
    )
    group.add_argument("--reason", metavar="TEXT", help="only dead letters whose reason contains TEXT")
    group.add_argument(
        "--older-than",
        type=_duration,
        metavar="AGE",
        help="only dead letters moved aside at least AGE ago: seconds, or a number with s, m, h or d",
    )


def _seq_ranges(text: str) -> tuple[tuple[int, int], ...]:
    ranges: list[tuple[int, int]] = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()) or not first.isascii() or not last.isascii():
            raise argparse.ArgumentTypeError(f"expected N or N-M (comma-separated), not {part.strip()!r}")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise argparse.ArgumentTypeError(f"empty range {part.strip()!r}: the end is before the start")
        ranges.append((low, high))
    return tuple(ranges)


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _duration(text: str) -> float:
    value = text.strip()
    scale = _UNITS.get(value[-1:].lower(), 0.0)
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an age such as 90, 30m, 12h or 7d, not {text!r}"
        ) from None
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"the age must be 0 or more, not {text!r}")
    return seconds


def _dead_filter(args: argparse.Namespace) -> DeadFilter:
    from schnitzel_stream.state.sqlite_queue import DeadFilter

    seqs = tuple(pair for group in (args.seq or ()) for pair in group)
    return DeadFilter(seqs=seqs, reason=args.reason, older_than_sec=args.older_than)


def _filters_need_dead(args: argparse.Namespace, action: str) -> None:
    if not args.dead and (args.seq or args.reason is not None or args.older_than is not None):
        raise UsageError(
            f"--seq, --reason and --older-than select dead letters: use {action} --dead", code="usage"
        )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}min"
    return f"{seconds / 3600:.1f}h"


def _iso(unix: float) -> str:
    """UTC time of a stored timestamp; a value no clock can hold (a hand-edited or damaged row:
    NaN, an infinity, year 10000) is shown as it is stored rather than ending the listing."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))
    except (OverflowError, OSError, ValueError):
        return f"invalid time {unix!r}"


def stats_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.state.sqlite_queue import inspect_queue

    found = inspect_queue(args.path)
    if args.format == "json":
        sys.stdout.write(_json.dumps(found.as_dict(), indent=2) + "\n")
        return 0
    lines = [
        ("path", found.path),
        ("depth", f"{found.depth} packets"),
        ("bytes", f"{found.bytes} bytes of packet JSON"),
        ("in flight", f"{found.in_flight} leased"),
        ("oldest age", _age(found.oldest_age_sec)),
        ("file", f"{found.file_bytes} bytes"),
        ("wal", f"{found.wal_bytes} bytes"),
        ("dead", f"{found.dead} dead letters" + (" (see: queue peek --dead)" if found.dead else "")),
    ]
    for label, value in lines:
        sys.stdout.write(f"{label:<11}{value}\n")
    return 0


def _printable(text: str) -> str:
    """A reason from a backend, made safe for a terminal: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _peek_dead(args: argparse.Namespace) -> int:
    from schnitzel_stream.state.sqlite_queue import peek_dead

    only = _dead_filter(args)
    letters = peek_dead(args.path, args.limit, only)
    if args.format == "json":
        items = [
            {
                "seq": d.row.seq,
                "key": d.row.key,
                "size": d.row.size,
                "enqueued_at": _iso(d.row.enqueued_at),
                "attempts": d.row.attempts,
                "failed_at": _iso(d.failed_at),
                "reason": d.reason,
                "packet": d.row.packet.to_dict(),
            }
            for d in letters
        ]
        sys.stdout.write(_json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return 0
    if not letters:
        sys.stdout.write("there are no dead letters\n" if only.everything else "no dead letter matches\n")
        return 0
    sys.stdout.write(f"{'seq':>8}  {'failed':<20}  {'tries':>5}  {'kind':<10}  {'key':<24}  reason\n")
    for d in letters:
        sys.stdout.write(
            f"{d.row.seq:>8}  {_iso(d.failed_at):<20}  {d.row.attempts:>5}  {d.row.packet.kind:<10}  "
            f"{_printable(d.row.key):<24}  {_printable(d.reason)}\n"
        )
    return 0


def peek_command(args: argparse.Namespace) -> int:
    _filters_need_dead(args, "peek")
    if args.dead:
        return _peek_dead(args)
    from schnitzel_stream.state.sqlite_queue import peek_queue

    rows = peek_queue(args.path, args.limit)
    now = time.time()
    if args.format == "json":
        items = [
            {
                "seq": row.seq,
                "key": row.key,
                "size": row.size,
                "enqueued_at": _iso(row.enqueued_at),
                "attempts": row.attempts,
                "leased": row.lease_until > now,
                "packet": row.packet.to_dict(),
            }
            for row in rows
        ]
        sys.stdout.write(_json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return 0
    if not rows:
        sys.stdout.write("the queue is empty\n")
        return 0
    sys.stdout.write(
        f"{'seq':>8}  {'enqueued':<20}  {'tries':>5}  {'state':<7}  {'kind':<10}  {'bytes':>6}  key\n"
    )
    for row in rows:
        state = "leased" if row.lease_until > now else "ready"
        sys.stdout.write(
            f"{row.seq:>8}  {_iso(row.enqueued_at):<20}  {row.attempts:>5}  {state:<7}  "
            f"{row.packet.kind:<10}  {row.size:>6}  {_printable(row.key)}\n"
        )
    return 0


def purge_command(args: argparse.Namespace) -> int:
    _filters_need_dead(args, "purge")
    what = "dead letter" if args.dead else "packet"
    only = _dead_filter(args)
    if not args.yes:
        which = f"every {what}" if only.everything else "the dead letters the filters select"
        raise UsageError(
            f"purge deletes {which} in {args.path}; run it again with --yes to do so", code="usage"
        )
    from schnitzel_stream.state.sqlite_queue import purge_queue

    removed = purge_queue(args.path, dead=args.dead, only=only)
    sys.stdout.write(f"removed {removed} {what}s from {args.path}\n")
    return 0


def requeue_command(args: argparse.Namespace) -> int:
    only = _dead_filter(args)
    if not args.yes:
        which = "every dead letter" if only.everything else "the dead letters the filters select"
        raise UsageError(
            f"requeue-dead moves {which} of {args.path} back into the queue; "
            "stop the service and run it again with --yes to do so",
            code="usage",
        )
    from schnitzel_stream.state.sqlite_queue import requeue_dead

    moved = requeue_dead(args.path, only)
    sys.stdout.write(f"moved {moved} dead letters back into {args.path}\n")
    return 0
