"""Reading the scaling, connections and pools sections; the sentences and rows made from them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.config.k8s import DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP
from harness.report.scaling import (
    DEFAULT_TOLERANCE,
    decision_rows,
    decisions_summary,
    read_capacity,
    read_connections,
    read_pools,
    read_scaling,
    scaling_sentences,
)
from tests.report.factory import hpa_section

# extra["scaling"] of a real `harness run --stack local --scenario smoke --duration 20s` (the HPA
# part as the trace writes it today): the first sync before the load started, cpu not yet
# measured, nothing scaled
SMOKE = {
    "hpa": hpa_section(),
    "decisions": [
        {"applied": 3, "current": 3, "desired": 3, "message": "not every metric is available",
         "per_metric": [
             {"message": "no metrics for any ready pod", "metric": "cpu", "missing_pods": 3,
              "ratio": None, "ready_pods": 0, "reason": "no-metrics", "replicas": None,
              "target_percent": 70, "unready_pods": 0, "utilization_percent": None},
             {"message": "ceil(0.125 x 3 ready pods)", "metric": "memory", "missing_pods": 0,
              "ratio": 0.125, "ready_pods": 3, "reason": "scale-down", "replicas": 1,
              "target_percent": 80, "unready_pods": 0, "utilization_percent": 10}],
         "reason": "no-metrics", "recommended": 1, "time": -0.779},
        {"applied": 3, "current": 3, "desired": 3,
         "message": "recommended 1, stabilized 3, applied 3",
         "per_metric": [
             {"message": "ceil(0.014 x 3 ready pods)", "metric": "cpu", "missing_pods": 0,
              "ratio": 0.0142857, "ready_pods": 3, "reason": "scale-down", "replicas": 1,
              "target_percent": 70, "unready_pods": 0, "utilization_percent": 1},
             {"message": "ceil(0.125 x 3 ready pods)", "metric": "memory", "missing_pods": 0,
              "ratio": 0.125, "ready_pods": 3, "reason": "scale-down", "replicas": 1,
              "target_percent": 80, "unready_pods": 0, "utilization_percent": 10}],
         "reason": "stabilized", "recommended": 1, "time": 14.222},
    ],
    "replicas": [{"replicas": 3, "t": -0.78}, {"replicas": 3, "t": -0.779},
                 {"replicas": 3, "t": 14.222}],
}


def test_reads_a_real_runs_scaling_section():
    scaling = read_scaling({"scaling": SMOKE})
    assert scaling is not None
    assert scaling.hpa.min_replicas == 2 and scaling.hpa.max_replicas == 10
    assert scaling.hpa.targets == {"cpu": 70.0, "memory": 80.0}
    assert scaling.hpa.tolerance_up == scaling.hpa.tolerance_down == DEFAULT_TOLERANCE
    assert scaling.hpa.band("cpu") == pytest.approx((63.0, 77.0))
    assert scaling.hpa.band("memory") == pytest.approx((72.0, 88.0))
    assert scaling.hpa.band("requests") is None
    assert scaling.metrics == ("cpu", "memory")
    first = scaling.decisions[0]
    assert (first.time, first.current, first.applied, first.reason) == (-0.779, 3, 3, "no-metrics")
    assert first.per_metric[0].utilization_percent is None
    assert scaling.peak_replicas == 3
    assert scaling.first_scale_up is None
    assert scaling.reasons == {"no-metrics": 1, "stabilized": 1}


def test_decision_rows_say_the_change_and_each_metric():
    rows = decision_rows(read_scaling({"scaling": SMOKE}))
    assert rows[0] == {
        "time": "-0.8 s", "replicas": "3", "recommended": "1", "reason": "no-metrics",
        "metrics": "cpu — (no metrics for any ready pod)\nmemory 10 % of 80 % → 1",
        "message": "not every metric is available", "change": "",
    }
    assert rows[1]["metrics"] == "cpu 1 % of 70 % → 1\nmemory 10 % of 80 % → 1"


def test_a_scale_up_row_and_the_summary(result_factory):
    scaling = read_scaling(result_factory("passed").extra)
    rows = decision_rows(scaling)
    assert (rows[0]["time"], rows[0]["replicas"], rows[0]["change"]) == ("14.2 s", "3 → 5", "up")
    assert decisions_summary(scaling) == (
        "20 decisions; the replica count changed 2 times (3 → 5 at 14.2 s, 5 → 9 at 74.2 s); "
        "by reason: stabilized 10, within-tolerance 8, scale-up 2."
    )
    assert decisions_summary(read_scaling({"scaling": SMOKE})) == (
        "2 decisions; the replica count never changed; by reason: no-metrics 1, stabilized 1."
    )


def test_many_changes_are_listed_up_to_a_few():
    decisions = [
        {**SMOKE["decisions"][1], "time": 15.0 * i, "current": 2 + i % 2, "applied": 3 - i % 2,
         "reason": "scale-up" if i % 2 == 0 else "scale-down"}
        for i in range(9)
    ]
    scaling = read_scaling({"scaling": {**SMOKE, "decisions": decisions}})
    summary = decisions_summary(scaling, listed=2)
    assert summary.startswith("9 decisions; the replica count changed 9 times "
                              "(2 → 3 at 0 s, 3 → 2 at 15 s and 7 more); ")


def test_scaling_sentences_for_the_summary(result_factory):
    sentences = scaling_sentences(read_scaling(result_factory("passed").extra))
    assert sentences[0] == "Replicas: 3 at the start, at most 9 (HPA 2–10)."
    assert sentences[1] == "First scale-up at 14.2 s (3 → 5)."
    assert sentences[3] == "Targets (% of request): cpu 70 %, memory 80 %, tolerance 10 %."
    capped = {**SMOKE, "replicas": [{"t": 0.0, "replicas": 2}, {"t": 15.0, "replicas": 10}],
              "decisions": [{**SMOKE["decisions"][1], "time": 15.0, "current": 2, "applied": 10,
                             "reason": "clamped-max"}]}
    sentences = scaling_sentences(read_scaling({"scaling": capped}))
    assert sentences[0] == ("Replicas: 2 at the start, at most 10 (HPA 2–10): the HPA's maximum "
                            "was reached.")
    assert sentences[1] == "First scale-up at 15 s (2 → 10, clamped-max)."


def test_a_tolerance_from_the_section_replaces_the_default():
    one = read_scaling({"scaling": {**SMOKE, "hpa": {**SMOKE["hpa"], "tolerance": 0.05}}})
    assert one.hpa.band("cpu") == pytest.approx((66.5, 73.5))
    per_direction = hpa_section(scale_up=replace(DEFAULT_SCALE_UP, tolerance=0.2),
                                scale_down=replace(DEFAULT_SCALE_DOWN, tolerance=0.1))
    assert per_direction["tolerance"] == {"up": 0.2, "down": 0.1}
    two = read_scaling({"scaling": {**SMOKE, "hpa": per_direction}})
    assert two.hpa.band("cpu") == pytest.approx((63.0, 84.0))


def test_replica_counts_fall_back_to_the_decisions():
    scaling = read_scaling({"scaling": {**SMOKE, "replicas": []}})
    assert [(c.t, c.replicas) for c in scaling.counts()] == [(-0.779, 3), (14.222, 3)]


@pytest.mark.parametrize("section", [
    None,
    "scaling",
    {"decisions": [{"t": 15.0, "from": 2, "to": 3}]},  # another shape
    {"decisions": [{"time": "soon", "current": 2, "applied": 3}]},
    {"hpa": {"targets": ["cpu"]}, "decisions": SMOKE["decisions"]},
    {"hpa": SMOKE["hpa"], "decisions": [], "replicas": []},  # nothing to show
])
def test_other_shapes_are_not_read_as_scaling(section):
    assert read_scaling({"scaling": section} if section is not None else {}) is None


def test_connections_and_their_limit(result_factory):
    connections = read_connections(result_factory("failed"))
    assert connections is not None
    assert (connections.max_connections, connections.reserved, connections.limit) == (100, 3, 97.0)
    assert connections.peak == max(s["total"] for s in
                                   result_factory("failed").extra["connections"]["samples"])
    assert connections.failed_samples == 1
    assert connections.full_scale is None  # no pool.connection-budget check in the factory


def test_connections_in_another_shape_are_not_read(result_factory):
    result = result_factory("passed")
    for section in ({"samples": []}, {"samples": [{"t": 1.0}]}, {"peak": 12}, [1, 2]):
        assert read_connections(replace(result, extra={"connections": section})) is None


def test_pools_and_their_peaks(result_factory):
    pools = read_pools(result_factory("failed"))
    assert pools is not None
    assert pools.replicas == ("replica-0", "replica-1", "replica-2")
    assert pools.pool_max == 50.0
    assert pools.peak_in_use == 48 and pools.peak_waiting == 10
    bad = replace(result_factory("passed"), extra={"pools": {"postgres_max": 50}})
    assert read_pools(bad) is None


def test_capacity_names_the_sections_it_shows(result_factory):
    result = result_factory("passed")
    assert read_capacity(result).shown == {"scaling", "connections", "pools"}
    odd = replace(result, extra={**result.extra, "pools": {"postgres_max": 50}})
    assert read_capacity(odd).shown == {"scaling", "connections"}
    assert read_capacity(result_factory("empty")).shown == frozenset()
