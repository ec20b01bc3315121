"""Counters read from consecutive scrapes: how much one grew, a restart counted as Prometheus'
`increase()` counts it (a drop means the counter began again from zero, so its new value is all
growth), without Prometheus' extrapolation to the window's edges."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["increase"]


def increase(values: Iterable[float]) -> float:
    """The growth over ``values``, one counter's samples in time order."""
    total = 0.0
    previous: float | None = None
    for current in values:
        if previous is not None:
            total += current - previous if current >= previous else current
        previous = current
    return float(total)
