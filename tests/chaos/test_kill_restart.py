"""Kill and restart: SIGKILL the durable HTTP lane at random moments; nothing committed is lost.

``ops/graphs/synthetic_to_http_durable.yaml`` (with the tap of ``_durable.py``) runs through the
CLI against the backend subprocess, which fails one request in ten with a 500. The runtime is
killed with SIGKILL ``scaled(20, 6)`` times and restarted on the same state directory each
time, as a service manager would: a quarter of the kills land in the first second after the
process starts (imports, opening the queue, resetting leases), the rest at a random moment up
to 2.5 s after the graph started. A final run stops gracefully once the backlog is delivered,
and a run of the delivering half drains what is left.

The claims, and why each bound holds:

- **Zero lost**: every tapped key (so every committed event) was accepted by the backend.
- **Duplicates come only from the in-flight window.** A key is accepted twice only if, when a
  run ended, the backend had accepted it but the queue had not acknowledged it yet (``D``, read
  from the queue file and the backend after each kill); the next consumer re-leases it. So
  ``duplicates ≤ Σ|D|``. The rows a run adds to ``D`` are rows it had leased and not acked,
  and the source never holds more than its ``limit`` in flight; the one request the sink has
  in flight is one of them. We assert each run adds at most ``limit + 1`` (the lease window
  plus the sink's in-flight request, counted separately to be safe).
- **Untapped events are few**: received - tapped <= ``TAP_WINDOW`` per abrupt end (see
  ``_durable.py``).
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.chaos._durable import (
    TAP_WINDOW,
    Accounting,
    DurableLane,
    delivered_unacked,
    process_accepted_keys,
    producible,
    reference_config,
)
from tests.chaos._figures import Figures, scaled

if TYPE_CHECKING:
    from tests.support.http_backend import BackendProcess

pytest_plugins = ["tests.support.http_backend"]

KILLS = scaled(20, 6)
LIMIT = int(reference_config("dequeue")["limit"])
#: Rows one run can leave delivered but unacknowledged: the lease window plus the sink's request.
IN_FLIGHT_WINDOW = LIMIT + 1
FAST_HTTP = {
    "timeout_sec": 2,
    "retry_backoff_sec": 0.05,
    "retry_backoff_max_sec": 0.5,
    "retry_budget_per_sec": 20,
}


def test_sigkill_at_random_moments_loses_no_committed_event(
    tmp_path: Path, figures: Figures, http_backend_process: BackendProcess
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    figures.add("seed", seed)
    started = time.monotonic()
    backend = http_backend_process
    backend.control(seed=seed, weights={"200": 9, "500": 1})
    lane = DurableLane.create(tmp_path, backend.url, http=FAST_HTTP)
    windows: list[set[str]] = []
    abrupt_ends = 0
    early_kills = 0
    for n in range(KILLS):
        with lane.start(label=f"kill-{n:02d}") as proc:
            if rng.random() < 0.25:
                early_kills += 1
                delay = rng.uniform(0.0, 1.0)
            else:
                proc.wait_for_stderr(" started: ", timeout=60)
                delay = rng.uniform(0.0, 2.5)
            assert proc.runs_for(delay), f"the runtime exited by itself:\n{proc.stderr()}"
            proc.kill()
        abrupt_ends += 1
        time.sleep(0.5)  # a request cut by the kill is recorded (or not) by now
        windows.append(delivered_unacked(lane.queued(), process_accepted_keys(backend)))

    # The last restart runs until the backlog is delivered, then stops gracefully.
    with lane.start(label="final") as proc:
        proc.wait_for_stderr(" started: ", timeout=60)
        proc.wait_until(lambda: len(lane.queued()) <= 5, timeout=120, what="the backlog delivered")
        stopped = proc.stop()
    assert stopped.returncode == 0, stopped.describe()
    abrupt_ends += "stop timeout" in stopped.stderr
    windows.append(delivered_unacked(lane.queued(), process_accepted_keys(backend)))

    lane.drain()
    assert lane.queued() == [], "the drain left rows in the queue"
    acc = Accounting.of(lane.tapped(), process_accepted_keys(backend))

    added = [len(w - prev) for prev, w in zip([set[str](), *windows], windows, strict=False)]
    figures.add("kills", KILLS)
    figures.add("early_kills", early_kills)
    figures.add("committed", acc.committed)
    figures.add("received", len(acc.received))
    figures.add("duplicates", acc.duplicates)
    figures.add("lost", len(acc.lost))
    figures.add("untapped", len(acc.untapped))
    figures.add("max_unacked_at_kill", max(added))
    figures.add("seconds", round(time.monotonic() - started, 1))

    assert acc.committed >= KILLS, "too few events were committed for the kills to mean anything"
    assert not acc.lost, f"{len(acc.lost)} committed events never reached the backend: {sorted(acc.lost)[:5]}"
    assert all(producible(key) for key in acc.received), sorted(k for k in acc.received if not producible(k))
    assert len(acc.untapped) <= TAP_WINDOW * abrupt_ends, sorted(acc.untapped)
    assert max(added) <= IN_FLIGHT_WINDOW, added
    assert acc.duplicates <= sum(len(w) for w in windows), (acc.duplicates, [len(w) for w in windows])
