"""``schnitzel-stream queue stats|peek|purge|requeue-dead PATH``: look into a durable queue file.

``stats`` and ``peek`` open the file read-only: they never lease, quarantine or change it,
so they are safe next to a running service. A missing or corrupt file is a one-line error
(exit 1); ``purge`` without ``--yes`` is a usage error (exit 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from schnitzel_stream.errors import UsageError


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "queue",
        help="inspect or purge a durable queue file",
        description="Inspect a durable SQLite queue file (stats, peek) or empty it (purge). stats and peek "
        "open the file read-only and are safe to run while a service uses it.",
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
        "--dead", action="store_true", help="show the dead letters (packets a receiver rejected for good)"
    )
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
    purge.set_defaults(handler=purge_command)

    requeue = actions.add_parser(
        "requeue-dead",
        help="move every dead letter back into the queue (needs --yes)",
        description="Move the dead letters (packets a receiver rejected for good, for example with a 4xx "
        "answer) back into the queue, so they are delivered again once the cause is fixed. Stop the "
        "service first. Refuses to run without --yes.",
    )
    requeue.add_argument("path", metavar="PATH", help="the queue file")
    requeue.add_argument("--yes", action="store_true", help="really move the dead letters back")
    requeue.set_defaults(handler=requeue_command)


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
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def stats_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.state.sqlite_queue import inspect_queue

    found = inspect_queue(args.path)
    if args.format == "json":
        sys.stdout.write(json.dumps(found.as_dict(), indent=2) + "\n")
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


def peek_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.state.sqlite_queue import peek_queue

    rows = peek_queue(args.path, args.limit, dead=args.dead)
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
        sys.stdout.write(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
        return 0
    if not rows:
        sys.stdout.write("there are no dead letters\n" if args.dead else "the queue is empty\n")
        return 0
    sys.stdout.write(
        f"{'seq':>8}  {'enqueued':<20}  {'tries':>5}  {'state':<7}  {'kind':<10}  {'bytes':>6}  key\n"
    )
    for row in rows:
        state = "leased" if row.lease_until > now else "ready"
        sys.stdout.write(
            f"{row.seq:>8}  {_iso(row.enqueued_at):<20}  {row.attempts:>5}  {state:<7}  "
            f"{row.packet.kind:<10}  {row.size:>6}  {row.key}\n"
        )
    return 0


def purge_command(args: argparse.Namespace) -> int:
    what = "dead letter" if args.dead else "packet"
    if not args.yes:
        raise UsageError(
            f"purge deletes every {what} in {args.path}; run it again with --yes to do so",
            code="usage",
        )
    from schnitzel_stream.state.sqlite_queue import purge_queue

    removed = purge_queue(args.path, dead=args.dead)
    sys.stdout.write(f"removed {removed} {what}s from {args.path}\n")
    return 0


def requeue_command(args: argparse.Namespace) -> int:
    if not args.yes:
        raise UsageError(
            f"requeue-dead moves every dead letter of {args.path} back into the queue; "
            "stop the service and run it again with --yes to do so",
            code="usage",
        )
    from schnitzel_stream.state.sqlite_queue import requeue_dead

    moved = requeue_dead(args.path)
    sys.stdout.write(f"moved {moved} dead letters back into {args.path}\n")
    return 0
