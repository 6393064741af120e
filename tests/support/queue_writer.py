"""A producer process for the crash test: enqueue until killed, reporting each commit.

Run as ``python tests/support/queue_writer.py PATH --mode durable|group --round N``. It
prints ``ready`` once the queue is open, then ``committed <seq> <key>`` for every packet whose
commit has returned, flushing stdout each time, so every reported line is a promise the file
must keep after ``kill -9``:

- ``durable`` (``commit_every: 1``): a line right after each ``enqueue()`` returns;
- ``group`` (``commit_every: 50``): lines only after an explicit ``flush()`` returns, for the
  packets of that group. Packets committed by the count or the interval in between are not
  reported: they may survive, but nothing promised them.

It also leases a few rows now and then and never acknowledges them, like a consumer that
dies mid-delivery: after the kill those leases must not hide the rows.
"""

from __future__ import annotations

import argparse
import random
import sys

from schnitzel_stream.packet import Packet
from schnitzel_stream.state.sqlite_queue import QueueOptions, SqliteQueue

#: Stops a writer that nobody kills, so a broken test can never leave it running for long.
MAX_PACKETS = 20_000


def packet(round_no: int, index: int) -> Packet:
    return Packet.new(
        "event",
        "cam-crash",
        {"event": "motion", "round": round_no, "index": index, "score": 0.75, "box": [1, 2, 3, 4]},
        meta={"idempotency_key": f"r{round_no}-{index}"},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--mode", choices=("durable", "group"), required=True)
    parser.add_argument("--round", type=int, default=0)
    args = parser.parse_args(argv)
    if args.mode == "durable":
        options = QueueOptions()
    else:
        options = QueueOptions(commit_every=50, commit_interval_ms=20)
    queue = SqliteQueue(args.path, options)
    leaser = SqliteQueue(args.path, consumer=True)
    rng = random.Random(args.round)
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    unreported: list[tuple[int, str]] = []
    for index in range(MAX_PACKETS):
        item = packet(args.round, index)
        seq = queue.enqueue(item)
        if args.mode == "durable":
            out.write(f"committed {seq} {item.idempotency_key}\n")
            out.flush()
        else:
            unreported.append((seq or 0, item.idempotency_key))
            if rng.random() < 0.08:
                queue.flush()
                out.write("".join(f"committed {s} {key}\n" for s, key in unreported))
                out.flush()
                unreported.clear()
        if index % 25 == 24:
            leaser.lease(5, lease_sec=3600)
    queue.close()
    leaser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
