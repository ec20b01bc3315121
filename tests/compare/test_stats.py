"""The significance tests against exact permutation p-values and textbook numbers."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from harness.compare.stats import holm_adjust, mann_whitney_greater, proportion_greater


def normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def exact_p_greater(x: list[float], y: list[float]) -> float:
    """P(U >= observed U) over every split of the pooled values (ties counted half)."""
    def u_stat(a: list[float], b: list[float]) -> float:
        return sum(1.0 if ai > bj else 0.5 if ai == bj else 0.0 for ai in a for bj in b)

    pooled = x + y
    observed = u_stat(x, y)
    hits = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(x)):
        a = [pooled[i] for i in chosen]
        b = [pooled[i] for i in range(len(pooled)) if i not in chosen]
        total += 1
        hits += u_stat(a, b) >= observed - 1e-12
    return hits / total


@pytest.mark.parametrize("seed", range(6))
def test_mann_whitney_close_to_the_exact_permutation_p(seed: int) -> None:
    rng = random.Random(seed)
    shift = rng.choice([0.0, 0.5, 1.0])
    x = [round(rng.gauss(shift, 1.0), 1) for _ in range(7)]  # rounding makes ties
    y = [round(rng.gauss(0.0, 1.0), 1) for _ in range(7)]
    # Small samples get the exact distribution, ties or not (the hand-written normal
    # approximation this replaced was only within 0.03 of it).
    assert mann_whitney_greater(x, y) == pytest.approx(exact_p_greater(x, y), abs=1e-9)


def test_mann_whitney_exact_without_ties() -> None:
    x, y = [3.1, 4.2, 5.3, 6.4], [1.0, 2.0, 3.0, 4.0]
    assert mann_whitney_greater(x, y) == pytest.approx(exact_p_greater(x, y), abs=1e-12)


def test_mann_whitney_large_samples_use_the_normal_approximation() -> None:
    rng = random.Random(7)
    x = [rng.gauss(0.3, 1.0) for _ in range(40)]
    y = [rng.gauss(0.0, 1.0) for _ in range(40)]
    u = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in x for b in y)
    z = (u - 800.0 - 0.5) / math.sqrt(40 * 40 * 81 / 12.0)
    assert mann_whitney_greater(x, y) == pytest.approx(normal_sf(z), rel=1e-6)


def test_mann_whitney_direction() -> None:
    low, high = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0, 9.0, 10.0, 11.0, 12.0]
    assert mann_whitney_greater(high, low) < 0.01
    assert mann_whitney_greater(low, high) > 0.99


def test_mann_whitney_degenerate_inputs() -> None:
    assert mann_whitney_greater([], [1.0, 2.0]) == 1.0
    assert mann_whitney_greater([3.0, 3.0], [3.0, 3.0, 3.0]) == 1.0


def test_proportion_test_matches_the_z_formula() -> None:
    # 60 of 1000 against 40 of 1000: pooled 0.05, z = 0.02 / sqrt(0.05 * 0.95 * 0.002) = 2.052
    z = 0.02 / math.sqrt(0.05 * 0.95 * 0.002)
    assert proportion_greater(60, 1000, 40, 1000) == pytest.approx(normal_sf(z))
    assert proportion_greater(60, 1000, 40, 1000) == pytest.approx(0.0201, abs=5e-4)
    assert proportion_greater(0, 1000, 0, 1000) == 1.0
    assert proportion_greater(5, 0, 1, 10) == 1.0


def test_holm_adjustment_by_hand() -> None:
    # sorted: a 0.01 x 3 = 0.03; b 0.02 x 2 = 0.04; c 0.04 x 1 = 0.04 (never below the one before)
    assert holm_adjust({"c": 0.04, "a": 0.01, "b": 0.02}) == pytest.approx(
        {"a": 0.03, "b": 0.04, "c": 0.04})
    assert holm_adjust({"a": 0.5, "b": 0.9}) == {"a": 1.0, "b": 1.0}
    assert holm_adjust({}) == {}
