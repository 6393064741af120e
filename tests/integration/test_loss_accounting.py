"""Loss accounting for the durable HTTP lane (issue 3, item 7): nothing committed goes missing.

``ops/graphs/synthetic_to_http_durable.yaml`` runs through the CLI (``python -m
schnitzel_stream --graph ...``) against the real local backend, which answers a mix of 200,
500, 503 and 429 (both with ``Retry-After``) and has one short outage of refused connections.
The runtime is killed once with SIGKILL and restarted on the same state directory, as a
service manager would; the restarted run is stopped gracefully, and a final run of the
delivering half drains the queue.

What was committed comes from a tap behind the queue sink (see ``tests/chaos/_durable.py``):
every tapped key was committed before it was tapped. Then:

- tapped ⊆ received: zero lost;
- received ⊆ what the detector can produce, and each body matches its key;
- received - tapped ≤ the tap window per abrupt end: events committed while the kill hit,
  before they reached the tap;
- duplicates (the backend counts keys it had already accepted) ≤ the rows the backend had
  accepted but the queue had not yet acknowledged when a run ended: only those come again.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.chaos._durable import (
    KEY_PATTERN,
    TAP_WINDOW,
    Accounting,
    DurableLane,
    delivered_unacked,
    producible,
)

if TYPE_CHECKING:
    from ops.ci.test_backend import LocalBackend

pytest_plugins = ["tests.support.http_backend"]

#: Fast retries so the test takes seconds: backoff 50 ms..0.5 s, a generous budget.
FAST_HTTP = {
    "timeout_sec": 2,
    "retry_backoff_sec": 0.05,
    "retry_backoff_max_sec": 0.5,
    "retry_budget_per_sec": 20,
}
FAULTS = {"200": 6.0, "500": 1.0, "503": 1.0, "429": 1.0}
OUTAGE_SEC = 1.5


def test_backend_receives_exactly_the_committed_keys_across_faults_and_a_kill(
    tmp_path: Path, http_backend: LocalBackend
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    backend = http_backend
    backend.control({"seed": seed, "weights": FAULTS, "retry_after": 0.2})
    lane = DurableLane.create(tmp_path, backend.url, http=FAST_HTTP)
    windows: list[int] = []  # per ended run: rows accepted by the backend but not acknowledged

    # Run 1: faults and an outage, then SIGKILL at a random moment while events flow.
    with lane.start(label="killed") as proc:
        proc.wait_until(
            lambda: len(lane.tapped()) >= 20 and len(backend.accepted_keys()) >= 5,
            timeout=45,
            what="events committed and delivered",
        )
        backend.outage(OUTAGE_SEC, "refuse")
        assert proc.runs_for(OUTAGE_SEC + rng.uniform(0.2, 1.5)), proc.stderr()
        proc.kill()
        killed_run_log = proc.stderr()
    time.sleep(0.5)  # a request cut by the kill is recorded (or not) by now
    windows.append(len(delivered_unacked(lane.queued(), backend.accepted_keys())))

    # Run 2: the restart; faults go on, then the backend heals and the run stops gracefully.
    with lane.start(label="restarted") as proc:
        before = len(lane.tapped())
        proc.wait_until(
            lambda: len(lane.tapped()) >= before + 20, timeout=45, what="events after the restart"
        )
        backend.control({"weights": {"200": 1.0}})
        proc.wait_until(lambda: len(lane.queued()) <= 5, timeout=45, what="the backlog delivered")
        stopped = proc.stop()
    assert stopped.returncode == 0, stopped.describe()
    windows.append(len(delivered_unacked(lane.queued(), backend.accepted_keys())))

    lane.drain()
    assert lane.queued() == [], "the drain left rows in the queue"

    accepted = backend.accepted_keys()
    records = backend.records()
    stats = backend.stats()

    acc = Accounting.of(lane.tapped(), accepted)
    abrupt_ends = 1 + ("stop timeout" in stopped.stderr)
    print(
        f"\nloss accounting (seed {seed}): committed={acc.committed} tapped={len(acc.tapped)} "
        f"received={len(acc.received)} lost={len(acc.lost)} untapped={len(acc.untapped)} "
        f"duplicates={acc.duplicates} windows={windows} requests={stats['requests']} "
        f"answers={stats['status']}",
        file=sys.stderr,
    )

    # The faults really happened, and both runs committed events (two camera run tokens).
    assert {"500", "503", "429"} <= set(stats["status"]), stats["status"]
    assert stats["outages"] >= 1
    assert "is failing" in killed_run_log, "the sink never saw the backend fail"
    tokens = {m["token"] for key in acc.tapped if (m := KEY_PATTERN.match(key))}
    assert len(tokens) == 2, tokens

    assert not acc.lost, f"{len(acc.lost)} committed events never reached the backend: {sorted(acc.lost)[:5]}"
    assert all(producible(key) for key in acc.received), sorted(k for k in acc.received if not producible(k))
    for record in records:
        if record.accepted:
            (key,) = record.keys
            match = KEY_PATTERN.match(key)
            assert match is not None and record.body["frame_index"] == int(match["frame"]), record
    assert len(acc.untapped) <= TAP_WINDOW * abrupt_ends, sorted(acc.untapped)
    assert acc.duplicates <= sum(windows), (acc.duplicates, windows)
