"""Change points of a metric across stored runs (E-Divisive means, Apache Otava)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.compare.changepoints import (
    MIN_RUNS,
    find_change_points,
    history_change_points,
    history_view,
    rule_kind,
)
from harness.compare.store import StoredRun
from harness.compare.verdict import DEFAULT_RULES, Rule

P95 = DEFAULT_RULES["p95"]


def nights(levels: list[float], *, noise: float = 0.04, seed: int = 0,
           base: float = 40.0) -> list[float]:
    """Night-to-night values: each level times a log-normal noise factor (4 %: this machine)."""
    rng = np.random.default_rng(seed)
    return [base * level * float(rng.lognormal(0.0, noise)) for level in levels]


def ids(n: int) -> list[str]:
    return [f"run-{i + 1:02d}" for i in range(n)]


def found(values: list[float], rule: Rule = P95, metric: str = "latency.all.p95"
          ) -> list[tuple[int, bool, bool]]:
    return [(c.index, c.worse, c.provisional)
            for c in find_change_points(metric, ids(len(values)), values, rule)]


@pytest.mark.parametrize("seed", range(8))
def test_last_four_runs_20_percent_slower_start_a_segment_at_the_ninth(seed: int) -> None:
    values = nights([1.0] * 8 + [1.2] * 4, seed=seed)
    points = find_change_points("latency.all.p95", ids(12), values, P95)
    assert [(c.index, c.run_id, c.worse, c.provisional) for c in points] == [
        (8, "run-09", True, False)]
    assert points[0].change == pytest.approx(0.2, abs=0.06)
    assert points[0].p_value < 0.001


@pytest.mark.parametrize("seed", range(8))
def test_noise_alone_is_no_change(seed: int) -> None:
    assert found(nights([1.0] * 16, seed=seed)) == []


@pytest.mark.parametrize(("levels", "noise", "expected"), [
    # one noisy night in the middle (+40 %): the next nights are back, no change
    ([1.0] * 6 + [1.4] + [1.0] * 5, 0.03, []),
    # only the newest run is slower: a change, but provisional until the next run agrees
    ([1.0] * 11 + [1.35], 0.03, [(11, True, True)]),
    # a quiet machine: a 4 % step is significant, but below p95's minimum effect (7.5 %)
    ([1.0] * 8 + [1.04] * 8, 0.005, []),
    # faster is a change too, not a worse one
    ([1.0] * 8 + [0.75] * 6, 0.03, [(8, False, False)]),
], ids=["one-noisy-night", "newest-run-only", "below-min-effect", "faster"])
def test_table(levels: list[float], noise: float, expected: list[tuple[int, bool, bool]]) -> None:
    assert found(nights(levels, noise=noise, seed=3)) == expected


def test_throughput_falling_is_worse() -> None:
    values = nights([1.0] * 8 + [0.7] * 5, noise=0.02, seed=1, base=90.0)
    assert found(values, DEFAULT_RULES["throughput"], "throughput") == [(8, True, False)]


def test_a_step_under_the_absolute_floor_is_no_change() -> None:
    # error rate 0.1 % → 0.3 %: clear, but under the rule's 0.5 percentage points
    values = nights([1.0] * 8 + [3.0] * 6, noise=0.02, seed=2, base=0.1)
    assert found(values, DEFAULT_RULES["error-rate"], "error-rate") == []


def test_too_few_runs_give_no_change_points() -> None:
    assert found([10.0] * (MIN_RUNS - 3) + [20.0, 20.0]) == []


def test_rule_kinds() -> None:
    assert [rule_kind(m) for m in ("latency.read.p95", "latency.all.p99", "throughput",
                                   "error-rate", "cpu-per-request", "pool-wait")] == [
        "p95", "p99", "throughput", "error-rate", "cpu-per-request", "pool-wait"]


def _stored(run_id: str, day: int, p95: float | None, status: str = "passed",
            scenario: str = "nightly") -> StoredRun:
    return StoredRun(run_id=run_id, scenario=scenario, stack="embedded",
                     started_at=1_790_000_000.0 + day * 86_400, status=status,
                     metrics={"latency.all.p95": p95})


def test_history_leaves_out_partial_runs_and_runs_without_the_metric() -> None:
    values = nights([1.0] * 8 + [1.2] * 4, seed=5)
    runs = [_stored(f"n{i}", i, v) for i, v in enumerate(values)]
    runs.insert(3, _stored("broken", 3, 500.0, status="interrupted"))
    runs.insert(5, _stored("no-p95", 5, None))
    history = history_change_points(runs, ["latency.all.p95"])["latency.all.p95"]
    assert "broken" not in history.run_ids and "no-p95" not in history.run_ids
    assert [c.run_id for c in history.change_points] == ["n8"]
    assert history.segment_of("n10") == (8, 12) and history.segment_of("n2") == (0, 8)


def test_history_view_places_the_candidate_among_the_stored_runs() -> None:
    values = nights([1.0] * 8 + [1.2] * 4, seed=6)
    stored = [_stored(f"n{i}", i, v) for i, v in enumerate(values) if i != 8]
    stored.append(_stored("other", 20, 999.0, scenario="peak"))
    view = history_view(_stored("n8", 8, values[8]), stored, ["latency.all.p95"])
    assert view.runs == 12
    assert [c.metric for c in view.starts] == ["latency.all.p95"]
    document = view.to_json()
    assert document["starts_segment"] == ["latency.all.p95"]
    assert document["change_points"][0]["run_id"] == "n8"
