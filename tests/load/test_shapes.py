import pytest

from harness.config.model import Stage
from harness.load.shapes import plan_stages, stage_at, target_at

STAGES = [Stage(duration=10, users=5, spawn_rate=1), Stage(name="hold", duration=20, users=50)]


def test_plans_name_unnamed_stages_and_mark_steady():
    plans = plan_stages(STAGES, steady_indexes=(1,))
    assert [p.name for p in plans] == ["stage 1", "hold"]
    assert [p.steady for p in plans] == [False, True]


@pytest.mark.parametrize(
    ("elapsed", "expected"), [(0, (5, 1.0)), (9.99, (5, 1.0)), (10, (50, 10.0)), (29.9, (50, 10.0)),
                              (30, None), (100, None)]
)
def test_target_follows_the_stages_and_stops(elapsed, expected):
    assert target_at(plan_stages(STAGES, ()), elapsed) == expected


def test_stages_are_laid_end_to_end():
    result = plan_stages(STAGES, (1,))
    assert [(w.start, w.end, w.steady) for w in result] == [(0, 10, False), (10, 30, True)]
    assert stage_at(plan_stages(STAGES, ()), 15) == 1


def test_rate_stages_get_the_concurrency_to_keep_their_rate():
    stages = [Stage(duration=10, users=5), Stage(name="open", duration=20, rate=300)]
    plans = plan_stages(stages, steady_indexes=(1,), generators=2)
    assert (plans[0].rate, plans[0].users) == (None, 5)
    assert (plans[1].rate, plans[1].users) == (300.0, 300)
    assert plans[1].spawn_rate >= 300  # every user within a second
    assert target_at(plans, 15) == (300, plans[1].spawn_rate)
    assert [w.rate for w in plans] == [None, 300.0]
    assert plan_stages([Stage(duration=5, rate=2)], (), generators=3)[0].users == 30


def test_calibrated_stages_take_their_rate_from_the_calibration():
    stages = [Stage(duration=10, users=5), Stage(duration=20, utilization_of_target=1.5)]
    plans = plan_stages(stages, (1,), rates={1: 420.0})
    assert (plans[1].rate, plans[1].utilization_of_target, plans[1].users) == (420.0, 1.5, 420)
    assert plans[1].duration == 20
    with pytest.raises(ValueError, match="calibrated rate"):
        plan_stages(stages, (1,))
