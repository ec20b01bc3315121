import pytest

from harness.calibrate.rates import CpuTarget, rate_for, stage_rates
from harness.config.model import Stage

TARGET = CpuTarget(target_percent=70, request_cores=0.5, min_replicas=2, max_replicas=10)


def test_the_rate_is_x_times_target_times_request_times_replicas_over_cpu_per_request():
    # 1.4 x 0.35 core x 2 replicas / 1.2 ms = 816.7 requests/s
    assert rate_for(1.4, 2, 0.0012, TARGET) == pytest.approx(816.667, abs=1e-3)
    assert TARGET.target_cores == pytest.approx(0.35)
    with pytest.raises(ValueError):
        rate_for(1.0, 2, 0.0, TARGET)


@pytest.mark.parametrize(
    ("stages", "replicas"),
    [
        # 1.45x on 2 replicas: ceil(2.9) = 3 for the next stage, sized on 3
        ([Stage(duration=60, utilization_of_target=1.45), Stage(duration=60,
                                                                 utilization_of_target=1.45)],
         [2, 3]),
        # within the tolerance: no change
        ([Stage(duration=60, utilization_of_target=1.05), Stage(duration=60,
                                                                 utilization_of_target=1.0)],
         [2, 2]),
        # a scale-down only once the stage outlasts the stabilization window; never below min
        ([Stage(duration=60, utilization_of_target=3.0), Stage(duration=200,
                                                                utilization_of_target=0.3),
          Stage(duration=400, utilization_of_target=0.3), Stage(duration=10, users=5)],
         [2, 6, 6, 2]),
        # a closed-model stage leaves the count as it was; the max caps a scale-up
        ([Stage(duration=60, users=50), Stage(duration=60, utilization_of_target=9.0),
          Stage(duration=60, utilization_of_target=1.0)], [2, 2, 10]),
    ],
)
def test_each_stage_is_sized_on_the_replicas_the_hpa_formula_leaves_it(stages, replicas):
    rates = stage_rates(stages, replicas=2, cpu_per_request=0.001, target=TARGET)
    assert [r.replicas for r in rates] == replicas
    for stage, rate in zip(stages, rates, strict=True):
        if stage.utilization_of_target is not None:
            assert rate.rate == pytest.approx(
                stage.utilization_of_target * 0.35 * rate.replicas / 0.001, abs=1e-3)
            assert rate.expected_ratio == pytest.approx(stage.utilization_of_target)
        else:
            assert (rate.rate, rate.expected_ratio) == (None, None)


def test_a_fixed_rate_stage_shows_what_it_means_in_target_units():
    rates = stage_rates([Stage(duration=60, rate=700)], replicas=2, cpu_per_request=0.001,
                        target=TARGET)
    assert rates[0].expected_ratio == pytest.approx(1.0)
    assert rates[0].utilization_of_target is None
