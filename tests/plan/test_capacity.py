"""The plan of a recorded step run, checked against numbers worked out by hand (steprun.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.plan.build import plan_run
from harness.plan.capacity import (
    CapacityPlan,
    EnvironmentPlan,
    fit_cpu,
    interpolate_rps,
    replicas_for,
)
from harness.plan.stages import StageLoad, stage_loads
from tests.plan.steprun import step_result, write_step_run


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> CapacityPlan:
    folder = write_step_run(tmp_path_factory.mktemp("step") / "step-run")
    return plan_run(folder, growth=1.5)


def test_stage_table_is_read_off_the_settled_part() -> None:
    stages = stage_loads(step_result())
    assert [s.users for s in stages] == [50, 100, 200, 400, 600]
    assert [s.rps for s in stages] == [100.0, 200.0, 360.0, 420.0, 400.0]
    assert [s.p95_ms for s in stages] == [80.0, 120.0, 180.0, 450.0, 900.0]
    assert [s.replicas for s in stages] == [2, 2, 3, 4, 4]
    assert [s.rps_per_replica for s in stages] == [50.0, 100.0, 120.0, 105.0, 100.0]
    assert [round(s.cpu_percent_per_replica, 6) for s in stages] == [20, 30, 34, 45, 50]
    assert (stages[0].start, stages[0].end) == (40.0, 100.0)
    assert not any(s.exact for s in stages)


def test_knee(plan: CapacityPlan) -> None:
    knee = plan.knee
    assert knee.stage is not None and knee.stage.users == 400
    assert knee.cause == "p95 above the SLO"
    assert knee.last_good is not None and knee.last_good.users == 200
    assert knee.capacity_rps == 360.0
    assert knee.crossing_users == pytest.approx(200 + 70 / 270 * 200)  # 251.85
    assert knee.crossing_rps == pytest.approx(360 + 70 / 270 * 60)


def test_errors_alone_make_a_knee(tmp_path: Path) -> None:
    folder = write_step_run(tmp_path / "r")
    plan = plan_run(folder, max_error_percent=5.0, projected_rps=100)
    assert plan.knee.stage is not None and plan.knee.stage.users == 400  # p95 still first
    strict = plan_run(folder, projected_rps=100)
    assert strict.knee.stage is not None and strict.knee.stage.users == 400


def test_rps_per_replica_at_the_hpa_target(plan: CapacityPlan) -> None:
    cpu = plan.cpu
    assert cpu.stages == (0, 1, 2)
    assert cpu.target_percent == 35.0  # 70 % of 500m
    assert cpu.intercept_percent == pytest.approx(10.0)
    assert cpu.slope_percent_per_rps == pytest.approx(0.2)
    assert cpu.rps_at_target == pytest.approx(125.0)


def test_replicas_for_the_projected_load(plan: CapacityPlan) -> None:
    assert plan.current_rps == 360.0  # the peak scenario's 200 users
    assert plan.projected_rps == pytest.approx(540.0)
    assert plan.replicas_exact == pytest.approx(5.4)
    envs = {e.target: e for e in plan.environments}
    assert set(envs) == {"base", "overlays/production", "overlays/staging",
                         "overlays/development", "compose"}
    base, prod = envs["base"], envs["overlays/production"]
    def row(e: EnvironmentPlan) -> tuple[int, int, int | None, bool | None]:
        return (e.min_replicas, e.max_replicas, e.replicas_needed, e.fits)

    assert row(base) == (2, 10, 6, True)
    assert row(prod) == (3, 5, 6, False)
    assert prod.replicas == 5  # what it would run: clamped to maxReplicas
    assert (envs["overlays/staging"].max_replicas, envs["overlays/staging"].fits) == (2, False)
    assert not envs["overlays/development"].autoscaled


def test_database_connections(plan: CapacityPlan) -> None:
    prod = next(e for e in plan.environments if e.target == "overlays/production")
    # (6 replicas + maxSurge 1) x DB_POOL_MAX 7 = 49 against 100 - 3 reserved - 10 headroom = 87
    assert prod.db_connections_needed == 49
    assert prod.db_connections_budget == 87
    assert prod.db_fits


def test_redis_memory(plan: CapacityPlan) -> None:
    prod = next(e for e in plan.environments if e.target == "overlays/production")
    assert plan.ticket_read_share == pytest.approx(0.4)
    # 540 req/s x 0.4 ticket reads x 30 s TTL = 6480 keys x (495 + 100) bytes
    assert prod.redis_bytes_needed == pytest.approx(6480 * 595)
    assert prod.redis_fits


def test_monthly_cost_of_production(plan: CapacityPlan) -> None:
    prod = next(e for e in plan.environments if e.target == "overlays/production")
    costs = {c.item: c.monthly for c in prod.costs}
    # 5 pods x (0.5 vCPU x 0.04048 + 0.5 GiB x 0.004445) x 730 h
    assert costs["5 app pods (0.5 vCPU, 0.5 GiB requested)"] == pytest.approx(81.99, abs=0.01)
    assert costs["Kubernetes control plane"] == 73.0
    assert costs["PostgreSQL db.t3.large"] == pytest.approx(105.85)
    assert costs["Redis cache.t3.medium"] == pytest.approx(49.64)
    assert prod.monthly_total == pytest.approx(81.99 + 73.0 + 105.85 + 49.64, abs=0.02)


def test_projected_rps_and_growth_are_exclusive(tmp_path: Path) -> None:
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="not both"):
        plan_run(write_step_run(tmp_path / "r"), projected_rps=10, growth=2)


def test_helpers_by_hand() -> None:
    assert replicas_for(540, 125, 0.25) == 6
    assert replicas_for(100, 125, 0.25) == 1 and replicas_for(100, 125, 0.25, 2) == 2
    assert replicas_for(500, 125, 0.0) == 4  # exactly 4.0 stays 4
    stages = stage_loads(step_result())
    assert interpolate_rps(stages, 150) == pytest.approx(280.0)
    assert interpolate_rps(stages, 25) == pytest.approx(50.0)
    assert interpolate_rps(stages, 900) is None


def test_fit_through_the_origin_with_one_stage() -> None:
    one = StageLoad(0, "s", 10, 0, 60, 100.0, 1, 2, 3, 0.0, 6000, 2.0, 0.5, False)
    model = fit_cpu([one], 35.0)  # 25 % of a core at 50 req/s per replica
    assert model.method.startswith("through the origin")
    assert model.slope_percent_per_rps == pytest.approx(0.5)
    assert model.rps_at_target == pytest.approx(70.0)
    assert math.isclose(model.intercept_percent, 0.0)


def test_notes_when_the_replicas_never_reached_the_target() -> None:
    from harness.plan.capacity import _diagnostics, find_knee

    def stage(i: int, users: int, rps: float, p95: float, cpu_cores: float) -> StageLoad:
        return StageLoad(i, f"s{i}", users, 0, 60, rps, 1, p95, p95, 0.0, 100, 2.0, cpu_cores,
                         True)

    # 2 replicas at 10 %, 15 %, then the knee at 20 % of a core: far below the 35 % target
    stages = [stage(0, 50, 100, 50, 0.2), stage(1, 100, 200, 90, 0.3),
              stage(2, 200, 260, 400, 0.4)]
    knee = find_knee(stages, 250, 0.1)
    cpu = fit_cpu(stages[:2], 35.0)
    notes = _diagnostics(knee, cpu, stages[:2])
    assert cpu.rps_at_target == pytest.approx(300.0)  # 5 % + 0.1 % x rps: (35 - 5) / 0.1
    assert any("extrapolated" in n and "100 req/s per replica" in n for n in notes)
    assert any("bottleneck was elsewhere" in n and "20 % of a core" in n for n in notes)
    assert _diagnostics(find_knee(stages[:2], 250, 0.1), fit_cpu(stages[:2], 10.0),
                        stages[:2]) == []


def _stage(i: int, users: int, rps: float, p95: float, *, saturated: int = 0,
           errors: float = 0.0, generator_cpu: float | None = 40.0) -> StageLoad:
    return StageLoad(i, f"step-{users}", users, 0, 60, rps, 1, p95, p95, errors, 100, 2.0, 0.5,
                     True, saturated_intervals=saturated, generator_cpu_percent=generator_cpu)


def test_a_saturated_generator_alone_is_no_knee_and_says_why() -> None:
    from harness.plan.capacity import GENERATOR_SATURATED, find_knee

    stages = [_stage(0, 100, 80, 20), _stage(1, 200, 160, 30),
              _stage(2, 400, 300, 40, saturated=3, generator_cpu=97.0)]
    knee = find_knee(stages, 250, 0.1)
    assert not knee.found and knee.untrusted
    assert knee.stage is stages[2] and knee.cause == GENERATOR_SATURATED
    assert knee.last_good is stages[1] and knee.capacity_rps == 160
    assert "no knee of the system" in knee.why_not
    assert "400 users" in knee.why_not and "97 % of its core" in knee.why_not
    assert "200 users, carried 160 req/s at p95 30 ms" in knee.why_not
    assert "--workers" in knee.why_not and "lagged" not in knee.why_not  # busy, at 97 %
    starved = find_knee([_stage(0, 100, 80, 20), _stage(1, 400, 300, 40, saturated=1,
                                                          generator_cpu=17.0)], 250, 0.1)
    assert "17 % of its core): its event loop lagged while it had CPU to spare" in starved.why_not


def test_a_slow_stage_with_a_saturated_generator_is_a_knee_without_a_crossing() -> None:
    from harness.plan.capacity import _diagnostics, find_knee

    stages = [_stage(0, 100, 80, 20), _stage(1, 200, 160, 400, saturated=1)]
    knee = find_knee(stages, 250, 0.1)
    assert knee.found and knee.untrusted and knee.why_not == ""
    assert knee.cause == "p95 above the SLO and load generator saturated"
    assert knee.crossing_users is None and knee.crossing_rps is None  # partly the generator's
    notes = _diagnostics(knee, fit_cpu(stages[:1], 35.0), stages[:1])
    assert any("at or below it" in n for n in notes)


def test_errors_make_a_knee_before_the_generator_saturates() -> None:
    from harness.plan.capacity import find_knee

    stages = [_stage(0, 100, 80, 20), _stage(1, 200, 160, 30, errors=0.5),
              _stage(2, 400, 300, 40, saturated=2)]
    knee = find_knee(stages, 250, 0.1)
    assert knee.found and not knee.untrusted and knee.cause == "errors"
    assert knee.stage is stages[1]


def test_no_knee_says_how_far_the_run_went() -> None:
    from harness.plan.capacity import find_knee

    knee = find_knee([_stage(0, 100, 80, 20), _stage(1, 800, 631, 37, generator_cpu=61.0)],
                     250, 0.1)
    assert knee.stage is None and not knee.found
    assert knee.why_not.startswith("no knee: every stage stayed within the SLO")
    assert "up to 800 users (631 req/s, p95 37 ms" in knee.why_not
    assert "61 % of its core" in knee.why_not and "step higher" in knee.why_not
    assert find_knee([], 250, 0.1).why_not == "no knee: the run has no stage with requests"


def test_stage_table_reads_the_generator_per_stage(tmp_path: Path) -> None:
    from dataclasses import replace

    result = step_result()
    timeline = tuple(replace(p, generator_cpu=50.0 + p.t / 10, saturated=p.t > 280)
                     for p in result.timeline)
    stages = stage_loads(replace(result, timeline=timeline))
    assert [s.saturated_intervals > 0 for s in stages] == [False, False, True, True, True]
    assert stages[0].generator_cpu_percent == pytest.approx(
        max(50.0 + p.t / 10 for p in result.timeline if 40 < p.t <= 100))
