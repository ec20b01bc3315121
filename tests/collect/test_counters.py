"""harness.collect.counters: a counter's growth over its samples, restarts counted from zero."""

from __future__ import annotations

import numpy as np
import pytest

from harness.collect.counters import increase


@pytest.mark.parametrize(("values", "grown"), [
    ([], 0.0),
    ([5.0], 0.0),  # one sample: no growth seen yet
    ([1.0, 4.0, 4.0, 10.0], 9.0),
    ([10.0, 12.0, 3.0, 5.0], 7.0),  # a restart after 12: 2, then 3 from zero, then 2
    ([10.0, 0.0], 0.0),  # restarted and nothing counted since
])
def test_increase_counts_a_restart_from_zero(values: list[float], grown: float) -> None:
    assert increase(values) == grown
    assert increase(np.array(values, dtype=float)) == grown
    assert isinstance(increase(np.array(values, dtype=float)), float)
