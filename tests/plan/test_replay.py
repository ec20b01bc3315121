"""harness.plan.replay: recorded utilization through the same HPA with other settings.

Traces are built by hand: `syncs` every 15 s with a total CPU demand spread over the run's
replicas, as the live loop records them.
"""

from __future__ import annotations

import pytest

from harness.config.k8s import load_scaling
from harness.plan.replay import (
    Breach,
    ReplaySetting,
    breaches_of,
    replay,
    run_outcome,
    startup_seconds,
)
from harness.stack.autoscaler import Autoscaler, PodSample
from harness.stack.trace import ScalingTrace, SyncSample
from tests.report.factory import make_result

SCALING = load_scaling()
REQUEST = 500  # millicores, the bundled Deployment's


def make_trace(demand: list[float], *, replicas: int = 2, startup: float = 5.0,
               window: int = 300) -> ScalingTrace:
    """The run as the live loop would record it: its own Autoscaler over `demand` (total
    millicores per sync), new replicas ready `startup` seconds after the sync that added them."""
    hpa = SCALING.hpa
    hpa = type(hpa)(**{**hpa.__dict__, "scale_down": type(hpa.scale_down)(
        **{**hpa.scale_down.__dict__, "stabilization_window_seconds": window})})
    autoscaler = Autoscaler(hpa, SCALING.deployment.requests)
    pods = {f"r{i}": (-1000.0, -1000.0) for i in range(replicas)}  # name: started, ready at
    syncs = []
    for k, total in enumerate(demand):
        t = 15.0 * (k + 1)
        ready = [n for n, (_, at) in pods.items() if at <= t]
        samples = tuple(
            PodSample(name, at <= t, total / len(ready) if at <= t else 30.0, 1e8,
                      started_at=started, ready_changed_at=at if at <= t else started,
                      cpu_window_start=t - 15.0)
            for name, (started, at) in pods.items())
        syncs.append(SyncSample(t, len(pods), samples))
        decision = autoscaler.decide(t, len(pods), samples)
        while len(pods) < decision.applied:
            pods[f"r{len(pods)}"] = (t, t + startup)
        while len(pods) > decision.applied:
            pods.popitem()
    return ScalingTrace(hpa, SCALING.deployment.requests, 15.0, 0.1, (1, 33),
                        autoscaler.decisions, (), tuple(syncs))


def test_total_demand_is_conserved_across_replica_counts() -> None:
    trace = make_trace([1400.0] * 8)  # 140 % of two requests
    run = run_outcome(trace)
    assert run.peak_replicas == 4
    same = replay(trace, ReplaySetting())
    assert same.replicas == run.replicas  # the run's own settings give the run's own counts
    # Five replicas share 1400m: 280m = 56 % each, under 70 % and within no band: 5 -> 4.
    fixed = replay(trace, ReplaySetting(min_replicas=5, max_replicas=5))
    assert {r for _, r in fixed.replicas} == {5}
    assert fixed.seconds_above_target == 0.0


@pytest.mark.parametrize(
    ("target", "peak"),
    [(50, 6), (60, 5), (70, 4), (80, 4), (90, 4)],
)
def test_a_lower_target_means_more_replicas(target: int, peak: int) -> None:
    # 140 % at 2 replicas: ceil(2 x 140 / target); at 90 %, 4 replicas run at 70 %.
    trace = make_trace([1400.0] * 8)
    assert replay(trace, ReplaySetting(cpu_target=target)).peak_replicas == peak


def test_replica_minutes_time_above_target_and_events() -> None:
    trace = make_trace([1400.0] + [500.0] * 23, window=60)
    outcome = replay(trace, ReplaySetting(scale_down_window=60))
    # The first sync at 140 % -> 4; 500m on 4 is 25 %: down to 2 once the 4 of 15 s has left
    # the 60 s window (at 75 s: the window excludes its oldest instant).
    assert [r for _, r in outcome.replicas][:6] == [4, 4, 4, 4, 2, 2]
    assert outcome.scale_events == 2
    assert outcome.seconds_above_target == 15.0  # only the first interval was above 70 %
    counts = [r for _, r in outcome.replicas]
    assert outcome.replica_minutes == pytest.approx(sum(counts) * 15 / 60)
    assert replay(trace, ReplaySetting(scale_down_window=300)).replica_minutes > \
        outcome.replica_minutes


def test_new_replicas_start_after_the_runs_own_startup_time() -> None:
    trace = make_trace([1400.0] * 6, startup=20.0)
    assert startup_seconds(trace) == 20.0
    assert startup_seconds(make_trace([100.0] * 3)) == 15.0  # none started: one sync period
    outcome = replay(trace, ReplaySetting(cpu_target=50))
    # Unready replicas are set aside, so no second scale-up while they start.
    assert [r for _, r in outcome.replicas][:3] == [6, 6, 6]


def test_breaches_where_the_replay_had_fewer_replicas() -> None:
    trace = make_trace([1400.0] * 8)
    late = Breach(60.0, 75.0, "p95 over")  # the run had 4 replicas by then
    early = Breach(0.0, 10.0, "before any sync")
    more = replay(trace, ReplaySetting(cpu_target=50), (late, early))
    fewer = replay(trace, ReplaySetting(max_replicas=3), (late, early))
    assert (more.breaches, more.breaches_with_fewer) == (2, 0)
    assert (fewer.breaches, fewer.breaches_with_fewer) == (2, 1)


def test_a_trace_without_samples_cannot_be_replayed() -> None:
    empty = ScalingTrace(SCALING.hpa, SCALING.deployment.requests, 15.0, 0.1, (1, 33), (), ())
    with pytest.raises(ValueError, match="no per-replica samples"):
        replay(empty, ReplaySetting())


def test_breaches_of_a_run_come_from_sliding_checks_and_intervals() -> None:
    result = make_result("failed", duration=300.0)
    found = breaches_of(result)
    assert found, "the failed run's late intervals are over its p95"
    assert all(b.end <= 300.0 and b.start < b.end for b in found)
    assert min(b.start for b in found) >= 0.6 * 300  # the factory slows the last 30 %
