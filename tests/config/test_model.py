from pathlib import Path

import pytest

from harness.config.model import (
    GroupObjective,
    LatencyObjective,
    RunOptions,
    Scenario,
    SloOverrides,
    SloSpec,
    StackName,
)


def scenario(**changes):
    data = {
        "name": "s",
        "description": "d",
        "stages": [{"duration": 60, "users": 10}, {"duration": 240, "users": 50, "steady": True}],
    }
    data.update(changes)
    return Scenario.model_validate(data)


def test_scaling_keeps_the_shape():
    scaled = scenario().scaled_to(30)
    assert [s.duration for s in scaled.stages] == pytest.approx([6, 24])
    assert [s.users for s in scaled.stages] == [10, 50]


def test_without_marked_stages_all_but_the_first_are_steady():
    plain = scenario(stages=[{"duration": 1, "users": 1}, {"duration": 1, "users": 2},
                             {"duration": 1, "users": 3}])
    assert plain.steady_stage_indexes() == (1, 2)
    assert scenario(stages=[{"duration": 1, "users": 1}]).steady_stage_indexes() == (0,)


def test_overrides_change_only_what_they_name():
    spec = SloSpec(groups={"read": GroupObjective(requests=("GET /x",), p95_ms=100)})
    changed = SloOverrides(latency=LatencyObjective(p99_ms=900),
                           availability_percent=99.0).apply(spec)
    assert changed.latency.p95_ms == spec.latency.p95_ms
    assert changed.latency.p99_ms == 900
    assert changed.max_error_percent == pytest.approx(1.0)
    assert changed.groups == spec.groups


def test_app_settings_keys_must_be_variable_names():
    with pytest.raises(ValueError):
        scenario(app_settings={"db-pool": "2"})
    assert scenario(app_settings={"DB_POOL_MAX": "2"}).app_settings == {"DB_POOL_MAX": "2"}


def test_a_stage_in_target_units_is_calibrated_and_needs_nothing_else():
    calibrated = scenario(stages=[{"duration": 60, "utilization_of_target": 1.4}], replicas=2)
    assert calibrated.calibrated and calibrated.stages[0].calibrated
    assert calibrated.replicas == 2
    assert not scenario().calibrated
    with pytest.raises(ValueError, match="one of users"):
        scenario(stages=[{"duration": 60}])
    with pytest.raises(ValueError, match="not rate and utilization_of_target"):
        scenario(stages=[{"duration": 60, "rate": 5, "utilization_of_target": 1.4}])


@pytest.mark.parametrize(
    ("value", "release"),
    [(None, (1, 33)), ("1.32", (1, 32)), ("1.23", (1, 23)), ("1.35", (1, 35)),
     ("1.22", None), ("1.x", None), (1.32, None), ("v1.32", None)],
)
def test_the_kubernetes_version_the_autoscaler_emulates(value, release):
    autoscaling = {} if value is None else {"kubernetes_version": value}
    if release is None:
        with pytest.raises(ValueError, match="kubernetes_version"):
            scenario(autoscaling=autoscaling)
    else:
        assert scenario(autoscaling=autoscaling).autoscaling.kubernetes_release == release


def test_only_the_stacks_whose_replicas_the_harness_runs_say_so() -> None:
    assert {s for s in StackName if s.runs_replicas} == {StackName.embedded, StackName.local}
    assert RunOptions(stack="local", report_dir=Path("/tmp"), run_id="x").stack.runs_replicas
