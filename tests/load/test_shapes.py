import pytest

from harness.config.model import Stage
from harness.load.shapes import plan_stages, stage_at, target_at, windows

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


def test_windows_are_contiguous():
    result = windows(plan_stages(STAGES, (1,)))
    assert [(w.start, w.end, w.steady) for w in result] == [(0, 10, False), (10, 30, True)]
    assert stage_at(plan_stages(STAGES, ()), 15) == 1


def test_rate_stages_get_the_concurrency_to_keep_their_rate():
    stages = [Stage(duration=10, users=5), Stage(name="open", duration=20, rate=300)]
    plans = plan_stages(stages, steady_indexes=(1,), generators=2)
    assert (plans[0].rate, plans[0].users) == (None, 5)
    assert (plans[1].rate, plans[1].users) == (300.0, 300)
    assert plans[1].spawn_rate >= 300  # every user within a second
    assert target_at(plans, 15) == (300, plans[1].spawn_rate)
    assert [w.rate for w in windows(plans)] == [None, 300.0]
    assert plan_stages([Stage(duration=5, rate=2)], (), generators=3)[0].users == 30
