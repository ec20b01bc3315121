"""The significance tests behind a regression verdict, from SciPy and statsmodels.

- `mann_whitney_greater`: one-sided Mann-Whitney U (Wilcoxon rank-sum) test that the candidate's
  per-window values tend to be larger than the baseline's (scipy.stats.mannwhitneyu). Small
  samples get the exact null distribution — SciPy's exact method without ties, an exhaustive
  permutation distribution with them — larger ones the normal approximation with the tie and
  continuity corrections.
- `proportion_greater`: one-sided two-proportion z-test with the pooled variance
  (statsmodels' proportions_ztest), for error rates, where the samples are counts of failed
  requests rather than per-window values.
- `holm_adjust`: Holm-Bonferroni adjusted p-values (statsmodels' multipletests), so that testing
  sixteen metrics at once keeps the chance of any false alarm at alpha, not sixteen times it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

__all__ = ["EXACT_SPLITS", "holm_adjust", "mann_whitney_greater", "proportion_greater"]

# Up to this many ways to split the pooled sample the exact distribution is enumerated
# (C(16, 8) = 12,870 covers eight windows a side); beyond it the normal approximation is close.
EXACT_SPLITS = 20_000


def mann_whitney_greater(candidate: Sequence[float], baseline: Sequence[float]) -> float:
    """p-value of H1 "candidate values are stochastically larger than baseline values".

    Returns 1.0 when either side is empty or every value is equal (nothing to tell apart).
    """
    x = np.asarray(candidate, dtype=float)
    y = np.asarray(baseline, dtype=float)
    if len(x) == 0 or len(y) == 0:
        return 1.0
    pooled = np.concatenate([x, y])
    if np.all(pooled == pooled[0]):
        return 1.0
    method: str | stats.PermutationMethod = "asymptotic"
    if math.comb(len(pooled), len(x)) <= EXACT_SPLITS:
        ties = len(np.unique(pooled)) < len(pooled)
        method = stats.PermutationMethod(n_resamples=np.inf) if ties else "exact"
    result = stats.mannwhitneyu(x, y, alternative="greater", method=method)
    return float(min(1.0, result.pvalue))


def proportion_greater(failures: int, total: int, base_failures: int, base_total: int) -> float:
    """p-value of H1 "the candidate's failure proportion is larger than the baseline's"."""
    if total <= 0 or base_total <= 0:
        return 1.0
    pooled = (failures + base_failures) / (total + base_total)
    if pooled <= 0.0 or pooled >= 1.0:  # no variance: nothing to tell apart
        return 1.0
    _z, p = proportions_ztest([failures, base_failures], [total, base_total],
                              alternative="larger")
    return float(p)


def holm_adjust(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's step-down adjusted p-values: compare each with alpha as it is."""
    if not p_values:
        return {}
    keys = sorted(p_values)
    _reject, adjusted, _sidak, _bonferroni = multipletests(
        [p_values[k] for k in keys], method="holm")
    return {k: float(p) for k, p in zip(keys, adjusted, strict=True)}
