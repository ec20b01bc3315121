"""Exact latency: HdrHistograms in microseconds with 3 significant digits.

Locust rounds response times into buckets and cannot merge percentiles across workers;
HdrHistograms merge exactly, so every percentile the harness reports comes from here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from hdrh.histogram import HdrHistogram

__all__ = [
    "HIGHEST_US",
    "LatencySummary",
    "decode",
    "encode",
    "merge",
    "new_histogram",
    "record_all",
    "summarize",
]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: nothing slower is a response
SIGNIFICANT_DIGITS = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_all(histogram: HdrHistogram, values: Sequence[int]) -> HdrHistogram:
    """Record many values at once: what `record_value` does one by one, computed for the whole
    batch with numpy (a generator keeps plain ints per interval, ~0.1 µs each, and records them
    here when it reports, instead of paying ~3 µs of Python per response). Values above
    HIGHEST_US count as HIGHEST_US rather than being dropped."""
    if not len(values):
        return histogram
    v = np.clip(np.asarray(values, dtype=np.int64), LOWEST_US, HIGHEST_US)
    h = histogram
    # HdrHistogram's own counts index: bucket from the highest set bit, then the sub-bucket
    bit_length = np.frexp((v | h.sub_bucket_mask).astype(np.float64))[1].astype(np.int64)
    bucket = bit_length - h.unit_magnitude - (h.sub_bucket_half_count_magnitude + 1)
    sub_bucket = v >> (bucket + h.unit_magnitude)
    index = ((bucket + 1) << h.sub_bucket_half_count_magnitude) + (
        sub_bucket - h.sub_bucket_half_count
    )
    counts = np.ctypeslib.as_array(h.counts)
    counts[: h.counts_len] += np.bincount(index, minlength=h.counts_len).astype(counts.dtype)
    h.total_count += int(v.size)
    h.min_value = min(h.min_value, int(v.min()))
    h.max_value = max(h.max_value, int(v.max()))
    return h


def encode(histogram: HdrHistogram) -> str:
    """The compressed, base64 HdrHistogram encoding (interoperable with other HDR libraries)."""
    return histogram.encode().decode("ascii")


def decode(encoded: str) -> HdrHistogram:
    return HdrHistogram.decode(encoded.encode("ascii"))


def merge(histograms: Iterable[HdrHistogram | str]) -> HdrHistogram:
    """One histogram holding every value of the given ones (exact, not an average)."""
    total = new_histogram()
    for item in histograms:
        total.add(decode(item) if isinstance(item, str) else item)
    return total


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles in milliseconds, from an HdrHistogram."""

    count: int
    min_ms: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    def percentile(self, name: str) -> float:
        return float(getattr(self, f"{name}_ms"))


@functools.lru_cache(maxsize=1)
def _buckets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every counts index of the harness's histograms: the lowest value, the highest
    equivalent value (what HdrHistogram reports for a percentile) and the median (its mean)."""
    histogram = new_histogram()
    lowest = [histogram.get_value_from_index(i) for i in range(histogram.counts_len)]
    highest = [histogram.get_highest_equivalent_value(v) for v in lowest]
    # The middle of each bucket's range, as HdrHistogram's own median equivalent value.
    median = [low + ((high - low + 1) >> 1) for low, high in zip(lowest, highest, strict=True)]
    return (np.array(lowest, dtype=np.float64), np.array(highest, dtype=np.float64),
            np.array(median, dtype=np.float64))


_PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def summarize(histogram: HdrHistogram) -> LatencySummary:
    """The same numbers HdrHistogram's own percentile, min, max and mean give, computed over
    the counts array at once (its Python loops cost ~10 ms per call; this, well under 1 ms)."""
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    count = int(counts.sum())
    if count == 0:
        return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    lowest, highest, median = _buckets()
    cumulative = np.cumsum(counts, dtype=np.int64)
    targets = [max(int(q * count / 100 + 0.5), 1) for q in _PERCENTILES]
    indexes = np.searchsorted(cumulative, targets, side="left")
    values = dict(zip(_PERCENTILES, (float(highest[i]) for i in indexes), strict=True))
    used = np.flatnonzero(counts)
    ms = 1000.0
    return LatencySummary(
        count=count,
        min_ms=float(lowest[used[0]]) / ms,
        mean_ms=round(float(np.dot(counts[used], median[used])) / count / ms, 3),
        p50_ms=values[50.0] / ms,
        p90_ms=values[90.0] / ms,
        p95_ms=values[95.0] / ms,
        p99_ms=values[99.0] / ms,
        p999_ms=values[99.9] / ms,
        max_ms=float(highest[used[-1]]) / ms,
    )
