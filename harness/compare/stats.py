"""The significance tests behind a regression verdict (numpy only).

- `mann_whitney_greater`: one-sided Mann-Whitney U (Wilcoxon rank-sum) test that the candidate's
  per-window values tend to be larger than the baseline's. Normal approximation with the tie
  correction and a continuity correction; fine from about five samples a side, which is why the
  comparison asks for at least `MIN_WINDOWS` windows on each side.
- `proportion_greater`: one-sided two-proportion z-test (pooled), for error rates, where the
  samples are counts of failed requests rather than per-window values.
- `holm_adjust`: Holm-Bonferroni adjusted p-values, so that testing sixteen metrics at once
  keeps the chance of any false alarm at alpha, not sixteen times it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["holm_adjust", "mann_whitney_greater", "normal_sf", "proportion_greater"]


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _ranks(values: np.ndarray) -> tuple[np.ndarray, float]:
    """Average ranks (1-based) and the tie term sum(t^3 - t) over groups of ties."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=float)
    sorted_values = values[order]
    ties = 0.0
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and sorted_values[j + 1] == sorted_values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        size = j - i + 1
        ties += size**3 - size
        i = j + 1
    return ranks, ties


def mann_whitney_greater(candidate: Sequence[float], baseline: Sequence[float]) -> float:
    """p-value of H1 "candidate values are stochastically larger than baseline values".

    Returns 1.0 when either side is empty or every value is equal (nothing to tell apart).
    """
    x = np.asarray(candidate, dtype=float)
    y = np.asarray(baseline, dtype=float)
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return 1.0
    ranks, ties = _ranks(np.concatenate([x, y]))
    u = float(ranks[:n1].sum()) - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    mean = n1 * n2 / 2.0
    variance = n1 * n2 / 12.0 * ((n + 1) - ties / (n * (n - 1))) if n > 1 else 0.0
    if variance <= 0:
        return 1.0
    z = (u - mean - 0.5) / math.sqrt(variance)  # continuity correction towards the null
    return normal_sf(z)


def proportion_greater(failures: int, total: int, base_failures: int, base_total: int) -> float:
    """p-value of H1 "the candidate's failure proportion is larger than the baseline's"."""
    if total <= 0 or base_total <= 0:
        return 1.0
    p1, p2 = failures / total, base_failures / base_total
    pooled = (failures + base_failures) / (total + base_total)
    variance = pooled * (1.0 - pooled) * (1.0 / total + 1.0 / base_total)
    if variance <= 0:
        return 1.0
    return normal_sf((p1 - p2) / math.sqrt(variance))


def holm_adjust(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values: compare each with alpha as it is."""
    ordered = sorted(p_values.items(), key=lambda item: (item[1], item[0]))
    m = len(ordered)
    adjusted: dict[str, float] = {}
    running = 0.0
    for rank, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[key] = running
    return adjusted
