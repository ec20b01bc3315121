"""The run's series: cumulative counts and histograms, SLO bounds as buckets, run labels and
tags on every series, names clean under promtool's metric lint."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from harness.config.model import GroupObjective, LatencyObjective, SloSpec
from harness.load.latency import encode, new_histogram, record_all
from harness.load.records import GeneratorSample, Interval, NameInterval, StagePlan
from harness.publish.series import FaultWindow, RunLabels, RunSeries, latency_buckets

STAGES = (StagePlan(0, "ramp", 0.0, 10.0, 10, False), StagePlan(1, "hold", 10.0, 20.0, 10,
                                                                     True, rate=5.0))


def _interval(start: float, latencies_us: list[int], failures: int = 0,
              corrected: bool = False) -> Interval:
    encoded = encode(record_all(new_histogram(), latencies_us))
    return Interval(start, start + 1.0, 10,
                    (NameInterval("GET /api/tickets", len(latencies_us), failures, encoded,
                                  encoded if corrected else None),),
                    (GeneratorSample("local", 40.0, 2.5, 3.0, cpu_wait_percent=6.5),))


def _series(**tags: str) -> RunSeries:
    return RunSeries(RunLabels("r1", "smoke", "embedded", tags),
                     buckets=latency_buckets(SloSpec()), stages=STAGES,
                     faults=(FaultWindow("kill-replica-1", "kill-replica", 11.0, 11.0),))


def _samples(series: RunSeries) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    registry = CollectorRegistry()
    registry.register(series)
    text = generate_latest(registry).decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(samples: dict, name: str, **labels: str) -> float:
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def test_buckets_hold_every_slo_bound() -> None:
    spec = SloSpec(latency=LatencyObjective(p95_ms=180, p99_ms=420),
                   groups={"search": GroupObjective(requests=("GET /s",), p95_ms=333)})
    buckets = latency_buckets(spec)
    assert {0.18, 0.42, 0.333} <= set(buckets)
    assert list(buckets) == sorted(set(buckets))


def test_counts_and_histograms_are_cumulative() -> None:
    series = _series(env="ci")
    series.observe(_interval(0.0, [1_000, 20_000, 300_000], failures=1), started_at=1e9,
                   replicas=3)
    series.observe(_interval(1.0, [2_000, 600_000]), started_at=1e9, replicas=4)
    samples = _samples(series)
    assert _value(samples, "harness_requests_total", result="success") == 4
    assert _value(samples, "harness_requests_total", result="failure") == 1
    assert _value(samples, "harness_request_duration_seconds_count") == 5
    assert _value(samples, "harness_request_duration_seconds_bucket", le="0.0025") == 2
    assert _value(samples, "harness_request_duration_seconds_bucket", le="0.25") == 3
    assert _value(samples, "harness_request_duration_seconds_bucket", le="0.5") == 4  # SLO p99
    assert _value(samples, "harness_request_duration_seconds_bucket", le="+Inf") == 5
    assert _value(samples, "harness_request_duration_seconds_sum") == pytest.approx(0.923, 1e-3)
    assert _value(samples, "harness_replicas") == 4
    assert _value(samples, "harness_users") == 10
    assert _value(samples, "harness_achieved_requests_per_second") == 2
    assert _value(samples, "harness_generator_cpu_ratio", generator="local") == 0.4
    assert _value(samples, "harness_generator_loop_lag_seconds") == pytest.approx(0.0025)
    assert _value(samples, "harness_generator_cpu_wait_ratio") == pytest.approx(0.065)
    assert _value(samples, "harness_stage_index", stage="ramp") == 0
    assert _value(samples, "harness_run_start_time_seconds") == 1e9
    assert not any(n == "harness_run_end_time_seconds" for n, _ in samples)
    assert not any(n.startswith("harness_request_intended") for n, _ in samples)


def test_open_model_stage_fault_and_end() -> None:
    series = _series()
    series.observe(_interval(10.5, [5_000], corrected=True), started_at=1e9)
    series.finish(1e9 + 20)
    samples = _samples(series)
    assert _value(samples, "harness_stage_index", stage="hold") == 1
    assert _value(samples, "harness_intended_requests_per_second") == 5.0
    assert _value(samples, "harness_request_intended_duration_seconds_count") == 1
    assert _value(samples, "harness_fault_active", fault="kill-replica-1") == 1.0
    assert _value(samples, "harness_run_end_time_seconds") == 1e9 + 20
    series.observe(_interval(13.0, [5_000]), started_at=1e9)
    assert _value(_samples(series), "harness_fault_active", fault="kill-replica-1") == 0.0


def test_every_series_carries_the_run_and_its_tags() -> None:
    series = _series(env="staging", team="sre")
    series.observe(_interval(0.0, [1_000]), started_at=1e9)
    samples = _samples(series)
    assert samples
    for _, labels in samples:
        assert {("run_id", "r1"), ("scenario", "smoke"), ("env", "staging"),
                ("team", "sre")} <= labels
    assert _value(samples, "harness_run_info", stack="embedded") == 1


def test_names_pass_promtool_metric_lint() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is required (Debian package `prometheus`)")
    series = _series(env="ci")
    series.observe(_interval(10.5, [1_000, 300_000], failures=1, corrected=True),
                   started_at=1e9, replicas=3)
    series.finish(1e9 + 20)
    registry = CollectorRegistry()
    registry.register(series)
    done = subprocess.run([promtool, "check", "metrics"], input=generate_latest(registry),
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    # the lint can fail: a counter without _total is reported
    bad = b"# HELP x_requests R.\n# TYPE x_requests counter\nx_requests 1\n"
    done = subprocess.run([promtool, "check", "metrics"], input=bad, capture_output=True,
                          timeout=60)
    assert done.returncode != 0
