"""``schnitzel-stream top``: a live view of a running graph, read from its metrics endpoint."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from typing import TYPE_CHECKING, Any

from schnitzel_stream.cli import _common

if TYPE_CHECKING:
    from rich.table import Table

    from schnitzel_stream.runtime._top import TopView

#: The port the docs and the deployment template suggest for --metrics-addr.
DEFAULT_ADDR = f"{_common.LOOPBACK}:9321"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Show a running graph's nodes with their packet rates, inbox depths, drops and errors, and "
        "per node its queue depth and oldest age, dead letters, retries, camera frame rate and frame "
        "age, refreshed every interval. It reads the graph's metrics endpoint (run --metrics-addr). "
        "On a terminal it is a live table until Ctrl-C; otherwise it prints plain lines, one block per "
        "refresh (one block by default). Exit 1 when the endpoint cannot be read."
    )
    parser.add_argument(
        "--addr",
        type=_common.host_port,
        default=argparse.SUPPRESS,
        metavar="HOST:PORT",
        help=f"the graph's --metrics-addr (default {DEFAULT_ADDR})",
    )
    parser.add_argument(
        "--interval",
        type=_positive_float,
        default=1.0,
        metavar="S",
        help="seconds between refreshes (default 1)",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        metavar="N",
        help="stop after N refreshes (default: forever on a terminal, 1 otherwise)",
    )
    parser.set_defaults(handler=top_command)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.05 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0.05 and 3600, not {text}")
    return value


def top_command(args: argparse.Namespace) -> int:
    from schnitzel_stream.runtime import _top

    host, port = getattr(args, "addr", None) or _common.host_port(DEFAULT_ADDR)
    url = f"http://[{host}]:{port}/metrics" if ":" in host else f"http://{host}:{port}/metrics"
    live = sys.stdout.isatty()
    count = args.count if args.count is not None else (0 if live else 1)
    previous = _top.fetch(url)
    # The first screen waits one interval, so that it already has rates.
    time.sleep(args.interval)
    refresh = functools.partial(_top.fetch, url)
    if not live:
        return _plain(refresh, previous, args.interval, count)
    return _live(refresh, previous, args.interval, count, url)


def _plain(refresh: Any, previous: Any, interval: float, count: int) -> int:
    from schnitzel_stream.runtime import _top

    shown = 0
    while True:
        current = refresh()
        sys.stdout.write("\n".join(_top.plain_lines(_top.view(previous, current))) + "\n")
        sys.stdout.flush()
        shown += 1
        if count and shown >= count:
            return 0
        previous = current
        time.sleep(interval)


def _live(refresh: Any, previous: Any, interval: float, count: int, url: str) -> int:
    from rich.console import Console
    from rich.live import Live

    from schnitzel_stream.errors import SchnitzelError
    from schnitzel_stream.runtime import _top

    console = Console()
    shown = 0
    with Live(console=console, auto_refresh=False, transient=False) as screen:
        while True:
            try:
                current = refresh()
            except SchnitzelError as error:
                screen.update(
                    f"{error.summary()}; retrying every {interval:g}s (Ctrl-C to quit)", refresh=True
                )
            else:
                screen.update(_table(_top.view(previous, current), url), refresh=True)
                previous = current
            shown += 1
            if count and shown >= count:
                return 0
            time.sleep(interval)


def _table(view: TopView, url: str) -> Table:
    from rich.table import Table
    from rich.text import Text

    from schnitzel_stream.runtime._top import rate_text, shown

    state = ("alive" if view.alive else "NOT ALIVE") + (", ready" if view.ready else ", not ready")
    table = Table(title=Text(f"{url}  uptime {view.uptime:.0f}s  {state}"), expand=False)
    for heading, justify in (
        ("node", "left"),
        ("plugin", "left"),
        ("in/s", "right"),
        ("out/s", "right"),
        ("inbox", "right"),
        ("dropped", "right"),
        ("errors", "right"),
        ("", "left"),
    ):
        table.add_column(heading, justify=justify)  # type: ignore[arg-type]
    for row in view.nodes:
        # Text, not markup: a node id like "[red]x" must show as written.
        table.add_row(
            Text(shown(row.node)),
            Text(shown(row.plugin)),
            "" if row.kind == "source" else rate_text(row.in_rate),
            rate_text(row.out_rate),
            "" if row.kind == "source" else f"{row.inbox}/{row.capacity}",
            str(row.dropped) if row.dropped else "",
            Text(str(row.errors), style="red") if row.errors else "",
            Text(shown(", ".join(view.notes.get(row.node, [])))),
        )
    return table
