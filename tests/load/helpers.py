"""Synthetic intervals for tests of aggregation and checks."""

from __future__ import annotations

from collections.abc import Sequence

from harness.load.latency import encode, new_histogram
from harness.load.records import Interval, NameInterval


def interval(start: float, end: float, names: dict[str, Sequence[float]], failures=None,
             users: int = 10) -> Interval:
    """`names` maps a request name to its latencies in ms."""
    entries = []
    for name, values in sorted(names.items()):
        histogram = new_histogram()
        for value in values:
            histogram.record_value(max(1, int(value * 1000)))
        entries.append(NameInterval(name, len(values), (failures or {}).get(name, 0),
                                    encode(histogram)))
    return Interval(start, end, users, tuple(entries))
