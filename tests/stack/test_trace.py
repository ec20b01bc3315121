"""harness.stack.trace: the scaling trace written to results.json and read back unchanged."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from harness.config.k8s import load_scaling
from harness.stack.autoscaler import Autoscaler, PodSample
from harness.stack.trace import ReplicaCount, ScalingTrace, SyncSample, TraceError, read_trace

SCALING = load_scaling()


def trace() -> ScalingTrace:
    autoscaler = Autoscaler(SCALING.hpa, SCALING.deployment.requests, kubernetes_version=(1, 32))
    pods = (PodSample("r1", True, 600.0, 1e8, started_at=1.0, ready_changed_at=2.0,
                      cpu_window_start=100.0),
            PodSample("r2", False, None, 9e7, started_at=110.0, ready_changed_at=110.0))
    decision = autoscaler.decide(115.0, 2, pods)
    return ScalingTrace(SCALING.hpa, SCALING.deployment.requests, 15.0, 0.1, (1, 32),
                        (decision,), (ReplicaCount(100.0, 2, 2, 2), ReplicaCount(116.0, 3, 2, 3)),
                        (SyncSample(115.0, 2, pods),))


def test_a_trace_survives_results_json() -> None:
    original = trace()
    section = json.loads(json.dumps(original.section(origin=100.0)))
    assert section["decisions"][0]["time"] == 15.0
    assert section["replicas"][1] == {"t": 16.0, "replicas": 3, "ready": 2, "desired": 3}
    back = read_trace(section)
    assert back.hpa == original.hpa
    assert back.requests == original.requests
    assert back.kubernetes_version == (1, 32)
    assert back.counts[1] == ReplicaCount(16.0, 3, 2, 3)
    assert back.syncs[0].pods[0] == replace(original.syncs[0].pods[0], started_at=-99.0,
                                            ready_changed_at=-98.0, cpu_window_start=0.0)
    assert back.decisions[0] == replace(original.decisions[0], time=15.0)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        pytest.param([], "not a mapping", id="not-a-mapping"),
        pytest.param({"decisions": []}, "not a scaling section", id="no-hpa"),
        pytest.param({"hpa": {"min_replicas": 2}}, "older harness", id="old-shape"),
    ],
)
def test_a_malformed_section_is_a_trace_error(section: object, message: str) -> None:
    with pytest.raises(TraceError, match=message):
        read_trace(section)


def test_a_bad_number_in_a_sample_is_a_trace_error() -> None:
    section = trace().section(origin=0.0)
    section["syncs"][0]["pods"][0]["cpu_millicores"] = -5
    with pytest.raises(TraceError, match="usage must be finite"):
        read_trace(section)
