from __future__ import annotations

import pytest

from harness.config.model import LatencyObjective, SloSpec
from harness.errors import ConfigError
from harness.provision.objectives import (
    BURN_WINDOWS,
    check_period,
    number,
    objectives,
    prometheus_duration,
)


def test_objectives_follow_the_spec() -> None:
    found = objectives(SloSpec(availability_percent=99.5,
                               latency=LatencyObjective(p95_ms=250, p99_ms=500)))
    assert [(o.slo, o.kind, o.target, o.threshold_seconds) for o in found] == [
        ("availability", "errors", 0.995, None),
        ("latency-p95", "latency", 0.95, 0.25),
        ("latency-p99", "latency", 0.99, 0.5),
    ]
    assert [o.budget for o in found] == [0.005, 0.05, 0.01]


def test_a_missing_percentile_gives_no_objective() -> None:
    found = objectives(SloSpec(latency=LatencyObjective(p95_ms=300, p99_ms=None)))
    assert [o.slo for o in found] == ["availability", "latency-p95"]


def test_burn_factors_are_the_workbook_table_for_30_days() -> None:
    period = 30 * 86400
    assert [(w.severity, prometheus_duration(w.long_seconds), prometheus_duration(w.short_seconds),
             w.factor(period)) for w in BURN_WINDOWS] == [
        ("page", "1h", "5m", 14.4),
        ("page", "6h", "30m", 6.0),
        ("ticket", "1d", "2h", 3.0),
        ("ticket", "3d", "6h", 1.0),
    ]


def test_burn_factors_scale_with_the_period() -> None:
    assert [w.factor(28 * 86400) for w in BURN_WINDOWS] == [13.44, 5.6, 2.8, 0.933333333]


def test_a_period_shorter_than_the_longest_window_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        check_period(SloSpec(compliance_period=2 * 86400))
    assert "compliance_period" in str(caught.value)
    assert "3d" in str(caught.value)


@pytest.mark.parametrize(("seconds", "text"), [
    (300, "5m"), (1800, "30m"), (3600, "1h"), (7200, "2h"), (86400, "1d"), (259200, "3d"),
    (2592000, "30d"), (90, "90s"), (5400, "90m"),
])
def test_prometheus_duration(seconds: int, text: str) -> None:
    assert prometheus_duration(seconds) == text


def test_prometheus_duration_refuses_fractions() -> None:
    with pytest.raises(ValueError):
        prometheus_duration(1.5)


@pytest.mark.parametrize(("value", "text"), [
    (14.4 * 0.005, "0.072"), (1 - 0.995, "0.005"), (6.0, "6"), (0.25, "0.25"), (1000.0, "1000"),
])
def test_number_prints_what_people_write(value: float, text: str) -> None:
    assert number(value) == text
