"""Latency histograms cheap enough to fill once per packet: one list increment, no lock.

An observation of ``ns`` nanoseconds lands in bucket ``ns.bit_length()``: bucket ``b`` holds
``2**(b-1) <= ns < 2**b``. So the cumulative count at ``le = 2**b`` ns is exact, not an
estimate (an observation of exactly ``2**b`` ns, one value in billions, counts one bucket
up), and filling it costs one ``int.bit_length()`` and one list increment (no ``bisect``,
no float). The exposition shows every third power of two from 1.024 µs to 17.2 s
(:data:`EXPOSED_BITS`): a factor of eight between bounds, which ``histogram_quantile``
interpolates within; the finer buckets stay in memory for :meth:`HistogramSnapshot.quantile`.

Each histogram has one writer (the thread that owns it, or writers under the owner's lock);
readers on other threads (a scrape, the status line) copy the list, and may see a count one
observation behind the sum. A scrape tolerates that; nothing waits on a lock for it.
"""

from __future__ import annotations

__all__ = ["BUCKETS", "EXPOSED_BITS", "HistogramSnapshot", "LatencyHistogram"]

#: ``int.bit_length()`` of a non-negative 64-bit nanosecond count is at most 64.
BUCKETS = 65
#: The ``le`` bounds exposed, as powers of two nanoseconds: 2**10 ns (1.024 µs) .. 2**34 ns (17.2 s),
#: a factor of eight apart (each bound is one more sample per node in every scrape).
EXPOSED_BITS: tuple[int, ...] = tuple(range(10, 35, 3))


class LatencyHistogram:
    """Counts of observations per power-of-two bucket, plus their sum in nanoseconds."""

    __slots__ = ("counts", "sum_ns")

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.sum_ns = 0

    def observe_ns(self, ns: int) -> None:
        ns = max(ns, 0)  # a clock that went backwards (perf_counter never does; be safe anyway)
        self.counts[min(ns.bit_length(), BUCKETS - 1)] += 1
        self.sum_ns += ns

    def observe_sec(self, seconds: float) -> None:
        self.observe_ns(int(seconds * 1e9))

    def snapshot(self) -> HistogramSnapshot:
        return HistogramSnapshot(tuple(self.counts), self.sum_ns)


class HistogramSnapshot:
    """A copy of a histogram's buckets (``counts[b]``: observations of bit length ``b``).

    Not a NamedTuple (its ``count`` would shadow tuple.count) nor a dataclass (node modules
    import this one, and ``validate`` imports no dataclass machinery).
    """

    __slots__ = ("counts", "sum_ns")

    def __init__(self, counts: tuple[int, ...], sum_ns: int) -> None:
        self.counts = counts
        self.sum_ns = sum_ns

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HistogramSnapshot):
            return NotImplemented
        return (self.counts, self.sum_ns) == (other.counts, other.sum_ns)

    def __hash__(self) -> int:
        return hash((self.counts, self.sum_ns))

    def __repr__(self) -> str:
        return f"HistogramSnapshot(counts={self.counts!r}, sum_ns={self.sum_ns!r})"

    @classmethod
    def empty(cls) -> HistogramSnapshot:
        return cls((0,) * BUCKETS, 0)

    @property
    def count(self) -> int:
        return sum(self.counts)

    @property
    def sum_seconds(self) -> float:
        return self.sum_ns / 1e9

    def cumulative(self) -> list[tuple[float, int]]:
        """``(le in seconds, observations <= le)`` for each exposed bound, then ``(inf, total)``."""
        out: list[tuple[float, int]] = []
        running = 0
        previous = 0
        for bits in EXPOSED_BITS:
            running += sum(self.counts[previous : bits + 1])
            previous = bits + 1
            out.append(((1 << bits) / 1e9, running))
        out.append((float("inf"), running + sum(self.counts[previous:])))
        return out

    def quantile(self, q: float) -> float | None:
        """An upper bound in seconds for the ``q`` quantile (within a factor of two); None if empty."""
        total = self.count
        if total == 0:
            return None
        rank = q * total
        seen = 0
        for bits, n in enumerate(self.counts):
            seen += n
            if seen >= rank and n:
                return (1 << bits) / 1e9
        return (1 << (BUCKETS - 1)) / 1e9
