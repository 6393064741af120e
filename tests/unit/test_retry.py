"""Backoff (full jitter, cap, no overflow) and RetryBudget (token bucket on an injected clock)."""

from __future__ import annotations

import random
import threading

import pytest

from schnitzel_stream.nodes._retry import Backoff, RetryBudget


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("attempt", [0, 1, 2, 3, 5, 8])
def test_backoff_draws_stay_within_full_jitter_bounds(attempt: int) -> None:
    backoff = Backoff(base=0.5, cap=10.0, rng=random.Random(attempt))
    ceiling = min(10.0, 0.5 * 2**attempt)
    draws = [backoff.delay(attempt) for _ in range(2000)]
    assert all(0.0 <= d <= ceiling for d in draws)
    # Full jitter spreads over the whole range, not just near the ceiling.
    assert min(draws) < 0.05 * ceiling
    assert max(draws) > 0.95 * ceiling


def test_backoff_ceiling_doubles_then_stops_at_the_cap() -> None:
    backoff = Backoff(base=0.25, cap=3.0)
    assert [backoff.ceiling(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize("attempt", [64, 1100, 10**6, 10**18])
def test_backoff_does_not_overflow_at_huge_attempts(attempt: int) -> None:
    backoff = Backoff(base=1.0, cap=30.0, rng=random.Random(1))
    assert backoff.ceiling(attempt) == 30.0
    assert 0.0 <= backoff.delay(attempt) <= 30.0


def test_backoff_with_zero_base_never_waits() -> None:
    backoff = Backoff(base=0.0, cap=5.0)
    assert backoff.delay(10) == 0.0
    assert backoff.ceiling(-3) == 0.0


def test_budget_spends_its_burst_then_refills_at_its_rate() -> None:
    clock = FakeClock()
    budget = RetryBudget(rate=2.0, burst=3.0, clock=clock)
    assert [budget.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert budget.denied == 1
    assert budget.wait_time() == pytest.approx(0.5)
    clock.now += 0.5
    assert budget.try_acquire()
    assert not budget.try_acquire()
    clock.now += 100.0  # a long quiet spell saves up at most `burst` tokens
    assert sum(budget.try_acquire() for _ in range(10)) == 3


def test_budget_burst_defaults_to_the_rate_and_is_at_least_one() -> None:
    clock = FakeClock()
    assert RetryBudget(rate=5.0, clock=clock).burst == 5.0
    slow = RetryBudget(rate=0.2, clock=clock)
    assert slow.burst == 1.0
    assert slow.try_acquire() and not slow.try_acquire()
    assert slow.wait_time() == pytest.approx(5.0)


def test_budget_with_zero_rate_is_disabled() -> None:
    budget = RetryBudget(rate=0.0, clock=FakeClock())
    assert all(budget.try_acquire() for _ in range(1000))
    assert budget.wait_time() == 0.0


class FakeWait:
    """A wait on the fake clock: it moves the clock on instead of sleeping."""

    def __init__(self, clock: FakeClock, stop: threading.Event | None = None, stop_after: int = 0) -> None:
        self.clock = clock
        self.stop = stop
        self.stop_after = stop_after
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waits.append(seconds)
        self.clock.now += seconds
        if self.stop is not None and len(self.waits) >= self.stop_after:
            self.stop.set()
            return True
        return False


def test_wait_for_token_waits_for_the_refill() -> None:
    clock = FakeClock()
    budget = RetryBudget(rate=20.0, burst=1.0, clock=clock)
    stop = threading.Event()
    wait = FakeWait(clock)
    assert budget.wait_for_token(stop, wait)
    assert wait.waits == []  # the burst token: no wait
    assert budget.wait_for_token(stop, wait)
    assert sum(wait.waits) == pytest.approx(0.05, abs=0.002)  # one token per 50 ms (and a 1 ms floor)
    assert budget.waits == len(wait.waits) >= 1


def test_wait_for_token_ends_when_stopped() -> None:
    clock = FakeClock()
    budget = RetryBudget(rate=0.01, burst=1.0, clock=clock)
    stop = threading.Event()
    assert budget.wait_for_token(stop, FakeWait(clock))
    wait = FakeWait(clock, stop, stop_after=1)
    assert not budget.wait_for_token(stop, wait)  # the next token is 100 s away; stopped first
    assert len(wait.waits) == 1


def test_wait_for_token_with_the_event_itself_returns_when_it_is_set() -> None:
    budget = RetryBudget(rate=0.001, burst=1.0)
    stop = threading.Event()
    assert budget.wait_for_token(stop)
    stop.set()
    assert not budget.wait_for_token(stop)  # set already: no wait for a token 1000 s away
