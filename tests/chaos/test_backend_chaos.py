"""Backend chaos: a backend that misbehaves in every way for a minute, and a 10 s outage.

The durable HTTP lane (with the tap of ``_durable.py``) runs for ``scaled(60, 20)`` seconds
against the backend subprocess, which answers a seeded random mix: 200, 500, 503 and 429
(both with ``Retry-After``), responses slower than the sink's read timeout (the backend keeps
them, so the retry is a duplicate), and refused connections (the listening socket closes for
half a second). In the middle, one outage of ``scaled(10, 5)`` seconds answers every request
with 502, the status a load balancer gives for a dead backend; 502 is not in the random mix,
so the outage's requests are exactly the 502 records.

The sink keeps the shipped ``retry_budget_per_sec`` but gets a read timeout of 1 s and a
backoff of 20..100 ms: backoff alone would then allow ~20 requests/s, so the budget is what
stands between the outage and a retry storm. The budget is a token bucket (``_retry.py``)
of ``rate`` tokens per second holding at most ``burst = rate`` tokens; while the backend
fails, every request spends one, and the very first failure of an episode is free. So in
any window of T seconds the client sends at most ``burst + rate·T + 1`` requests. The backend
records each a moment after the client spent its token; on a loaded machine that delay varies
by up to ``JITTER_SEC``, which can shift one more request into a window, so the bound asserted
is ``burst + rate·(T + JITTER_SEC) + 1``, for T = 1 s (the busiest second) and for the whole
outage. Without the budget the backoff would allow about 20 requests/s.

Then the backend heals, the run stops gracefully and a drain delivers the backlog: every
committed (tapped) event must have reached the backend.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.chaos._durable import (
    TAP_WINDOW,
    Accounting,
    DurableLane,
    process_accepted_keys,
    producible,
    reference_config,
    retrying,
)
from tests.chaos._figures import Figures, scaled

if TYPE_CHECKING:
    from tests.support.http_backend import BackendProcess

pytest_plugins = ["tests.support.http_backend"]

DURATION = scaled(60, 20)
OUTAGE = scaled(10, 5)
BUDGET = float(reference_config("backend")["retry_budget_per_sec"])
BURST = max(1.0, BUDGET)  # RetryBudget's default burst
READ_TIMEOUT = 1.0
CHAOS_HTTP = {"timeout_sec": READ_TIMEOUT, "retry_backoff_sec": 0.02, "retry_backoff_max_sec": 0.1}
MIX = {"200": 10.0, "500": 1.0, "503": 1.0, "429": 1.0, "slow": 1.0, "refuse": 1.0}
REFUSE_SEC = 0.5
JITTER_SEC = 0.2


def _budget_bound(seconds: float) -> float:
    """The most requests the retry budget lets through in ``seconds`` (see the module docstring)."""
    return BURST + BUDGET * (seconds + JITTER_SEC) + 1


def _max_in_window(times: list[float], width: float) -> int:
    """The most events in any half-open window of ``width`` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - width:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _control(backend: BackendProcess, **changes: Any) -> None:
    retrying(lambda: backend.control(**changes))  # the backend may be refusing right now


def test_backend_chaos_and_an_outage_lose_nothing_and_cause_no_retry_storm(
    tmp_path: Path, figures: Figures, http_backend_process: BackendProcess
) -> None:
    seed = random.randrange(1 << 30)
    figures.add("seed", seed)
    backend = http_backend_process
    backend.control(seed=seed, weights=MIX, slow_sec=READ_TIMEOUT * 2, retry_after=0.5, refuse_sec=REFUSE_SEC)
    lane = DurableLane.create(tmp_path, backend.url, http=CHAOS_HTTP)
    with lane.start(label="chaos") as proc:
        proc.wait_for_stderr(" started: ", timeout=60)
        before = DURATION * 0.4
        assert proc.runs_for(before), proc.stderr()
        # An outage must not overlap a random refusal: the refusal's timer would reopen the
        # listening socket in the middle of it. So no refusals for a moment first.
        _control(backend, weights={**MIX, "refuse": 0})
        assert proc.runs_for(REFUSE_SEC + 0.5), proc.stderr()
        _control(backend, outage={"seconds": OUTAGE, "mode": "502"})
        assert proc.runs_for(OUTAGE), proc.stderr()
        _control(backend, weights=MIX)
        assert proc.runs_for(max(0.0, DURATION - before - OUTAGE)), proc.stderr()

        _control(backend, weights={"200": 1})
        proc.wait_until(lambda: len(lane.queued()) <= 5, timeout=120, what="the backlog delivered")
        stopped = proc.stop()
    assert stopped.returncode == 0, stopped.describe()
    lane.drain()
    assert lane.queued() == [], "the drain left rows in the queue"
    records = retrying(backend.records)
    stats = retrying(backend.stats)
    acc = Accounting.of(lane.tapped(), process_accepted_keys(backend))

    outage = [float(r["t"]) for r in records if r["action"] == "502"]
    outage_rate = len(outage) / OUTAGE
    busiest = _max_in_window(outage, 1.0)
    figures.add("requests", stats["requests"])
    figures.add("answers", dict(sorted(stats["status"].items())))
    figures.add("outage_requests", len(outage))
    figures.add("outage_req_per_s", round(outage_rate, 2))
    figures.add("outage_max_per_s", busiest)
    figures.add("budget_per_s", BUDGET)
    figures.add("committed", acc.committed)
    figures.add("received", len(acc.received))
    figures.add("duplicates", acc.duplicates)
    figures.add("lost", len(acc.lost))

    # Every kind of fault really happened.
    assert {"200", "500", "503", "429", "slow", "refuse"} <= set(stats["status"]), stats["status"]
    assert outage, "no request reached the backend during the outage"

    assert not acc.lost, f"{len(acc.lost)} committed events never reached the backend: {sorted(acc.lost)[:5]}"
    assert all(producible(key) for key in acc.received), sorted(k for k in acc.received if not producible(k))
    # The one run ended gracefully: the tap saw every commit unless the stop ran out of time.
    assert len(acc.untapped) <= TAP_WINDOW * ("stop timeout" in stopped.stderr), sorted(acc.untapped)

    # No retry storm: the token bucket's bound, over the busiest second and the whole outage.
    assert busiest <= _budget_bound(1.0), sorted(outage)
    assert len(outage) <= _budget_bound(OUTAGE), len(outage)
