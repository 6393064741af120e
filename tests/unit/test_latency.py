"""Latency histograms: power-of-two buckets filled with one increment, exposed cumulatively."""

from __future__ import annotations

from schnitzel_stream.latency import BUCKETS, EXPOSED_BITS, HistogramSnapshot, LatencyHistogram


def test_an_observation_lands_in_the_bucket_of_its_bit_length() -> None:
    histogram = LatencyHistogram()
    for ns in (0, 1, 1023, 1024, 5_000, 2_000_000_000):
        histogram.observe_ns(ns)
    counts = histogram.snapshot().counts
    assert counts[0] == 1  # 0 ns
    assert counts[1] == 1  # 1 ns
    assert counts[10] == 1  # 1023 ns < 2**10
    assert counts[11] == 1  # 1024 ns = 2**10 counts one bucket up
    assert counts[13] == 1  # 5 µs
    assert counts[31] == 1  # 2 s
    assert histogram.sum_ns == 0 + 1 + 1023 + 1024 + 5_000 + 2_000_000_000


def test_cumulative_buckets_are_exact_below_each_bound_and_end_with_the_total() -> None:
    histogram = LatencyHistogram()
    values = [500, 3_000, 3_000, 70_000, 900_000_000, 40_000_000_000]
    for ns in values:
        histogram.observe_ns(ns)
    cumulative = histogram.snapshot().cumulative()
    assert [le for le, _ in cumulative[:-1]] == [(1 << b) / 1e9 for b in EXPOSED_BITS]
    for le, count in cumulative[:-1]:
        assert count == sum(1 for v in values if v < le * 1e9), le
    assert cumulative[-1] == (float("inf"), len(values))
    counts = [count for _, count in cumulative]
    assert counts == sorted(counts)  # cumulative: never decreasing


def test_negative_and_huge_values_stay_in_range() -> None:
    histogram = LatencyHistogram()
    histogram.observe_ns(-5)
    histogram.observe_ns(1 << 80)
    counts = histogram.snapshot().counts
    assert len(counts) == BUCKETS
    assert counts[0] == 1 and counts[-1] == 1


def test_quantile_is_an_upper_bound_within_a_factor_of_two() -> None:
    histogram = LatencyHistogram()
    for _ in range(99):
        histogram.observe_sec(0.001)
    histogram.observe_sec(0.5)
    snapshot = histogram.snapshot()
    p50 = snapshot.quantile(0.5)
    p100 = snapshot.quantile(1.0)
    assert p50 is not None and 0.001 <= p50 < 0.002
    assert p100 is not None and 0.5 <= p100 < 1.0
    assert HistogramSnapshot.empty().quantile(0.5) is None
    assert snapshot.count == 100
