"""Exact latency: HdrHistograms in microseconds with 3 significant digits.

Locust rounds response times into buckets and cannot merge percentiles across workers;
HdrHistograms merge exactly, so every percentile the harness reports comes from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

__all__ = [
    "HIGHEST_US",
    "LatencySummary",
    "decode",
    "encode",
    "merge",
    "new_histogram",
    "summarize",
]

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: nothing slower is a response
SIGNIFICANT_DIGITS = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


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


def summarize(histogram: HdrHistogram) -> LatencySummary:
    count = histogram.get_total_count()
    if count == 0:
        return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    values = histogram.get_percentile_to_value_dict([50, 90, 95, 99, 99.9])
    ms = 1000.0
    return LatencySummary(
        count=count,
        min_ms=histogram.get_min_value() / ms,
        mean_ms=round(histogram.get_mean_value() / ms, 3),
        p50_ms=values[50] / ms,
        p90_ms=values[90] / ms,
        p95_ms=values[95] / ms,
        p99_ms=values[99] / ms,
        p999_ms=values[99.9] / ms,
        max_ms=histogram.get_max_value() / ms,
    )
