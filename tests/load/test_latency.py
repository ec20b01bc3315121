from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.load.latency import (
    CountsEncoder,
    counts_index,
    decode,
    encode,
    merge,
    new_histogram,
    record_all,
    summarize,
)

latencies = st.lists(st.integers(min_value=1, max_value=60_000_000), min_size=0, max_size=300)


@settings(max_examples=60, deadline=None)
@given(st.lists(latencies, min_size=1, max_size=6))
def test_merging_worker_histograms_equals_recording_everything_in_one(workers):
    whole = new_histogram()
    parts = []
    for values in workers:
        part = new_histogram()
        for value in values:
            part.record_value(value)
            whole.record_value(value)
        parts.append(encode(part))
    merged = merge(parts)
    assert merged.get_total_count() == whole.get_total_count()
    assert bytes(merged.counts) == bytes(whole.counts)  # every bucket, so every percentile
    assert summarize(merged) == summarize(whole)


def test_encoding_round_trips():
    histogram = new_histogram()
    for value in (1000, 2000, 3000, 250_000):
        histogram.record_value(value)
    again = decode(encode(histogram))
    assert again.get_total_count() == 4
    assert again.get_max_value() == histogram.get_max_value()


def test_summary_is_in_milliseconds_with_three_significant_digits():
    histogram = new_histogram()
    for _ in range(99):
        histogram.record_value(10_000)  # 10 ms
    histogram.record_value(51_234)  # 51.234 ms
    summary = summarize(histogram)
    assert summary.count == 100
    assert abs(summary.p50_ms - 10.0) <= 10.0 * 0.001  # 3 significant digits
    assert abs(summary.max_ms - 51.234) <= 51.234 * 0.001
    assert summary.percentile("p95") == summary.p95_ms


def test_empty_summary_is_zero():
    assert summarize(new_histogram()).count == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=3_000_000_000), min_size=1, max_size=200))
def test_summary_gives_exactly_what_hdrhistogram_itself_gives(values):
    histogram = new_histogram()
    for value in values:
        histogram.record_value(value)
    summary = summarize(histogram)
    expected = histogram.get_percentile_to_value_dict([50, 90, 95, 99, 99.9])
    assert [summary.p50_ms, summary.p90_ms, summary.p95_ms, summary.p99_ms, summary.p999_ms] == [
        expected[q] / 1000.0 for q in (50, 90, 95, 99, 99.9)
    ]
    assert summary.min_ms == histogram.get_min_value() / 1000.0
    assert summary.max_ms == histogram.get_max_value() / 1000.0
    assert summary.mean_ms == round(histogram.get_mean_value() / 1000.0, 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(min_value=1, max_value=3_600_000_000),
                          st.sampled_from([1, 2047, 2048, 2049, 3_600_000_000])), max_size=300))
def test_recording_a_batch_equals_recording_one_by_one(values):
    one_by_one = new_histogram()
    for value in values:
        one_by_one.record_value(value)
    batch = record_all(new_histogram(), values)
    assert bytes(batch.counts) == bytes(one_by_one.counts)
    assert (batch.total_count, batch.min_value, batch.max_value) == (
        one_by_one.total_count, one_by_one.min_value, one_by_one.max_value)
    assert encode(batch) == encode(one_by_one)


def test_bucket_medians_are_hdrhistograms_own_median_equivalents() -> None:
    from harness.load.latency import _buckets, new_histogram

    lowest, _highest, median = _buckets()
    histogram = new_histogram()
    for index in range(0, len(lowest), 97):
        assert median[index] == histogram._hdr_median_equiv_value(int(lowest[index]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=-5, max_value=4_000_000_000), max_size=200),
                min_size=1, max_size=4))
def test_one_encoder_encodes_every_interval_as_a_fresh_histogram_would(intervals):
    encoder = CountsEncoder()
    for values in intervals:
        fresh = new_histogram()
        for value in values:
            fresh.record_value(min(max(value, 1), 3_600_000_000))
        assert encoder.encode(Counter(counts_index(v) for v in values)) == encode(fresh)
