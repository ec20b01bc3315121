"""The run's client-side metrics as Prometheus series, accumulated interval by interval.

`RunSeries` is a prometheus_client Collector: the same families feed remote write
(harness.publish.remote_write) and the text exposition the tests lint with promtool. Counters and
histograms are cumulative over the run, as a scraped exporter's would be, so `rate()` and
`histogram_quantile()` work on them unchanged. Every series carries `run_id`, `scenario` and the
run's tags.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric

from harness.config.model import SloSpec
from harness.load.latency import decode
from harness.load.records import Interval, StagePlan

__all__ = ["FaultWindow", "RunLabels", "RunSeries", "latency_buckets"]

# Upper bounds (seconds) of the latency buckets; the SLO's bounds are added to these so that
# "requests under the objective" is a bucket, not an interpolation.
BASE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.75,
                1.0, 2.5, 5.0, 10.0)


def latency_buckets(slo: SloSpec) -> tuple[float, ...]:
    """The base buckets plus every latency bound of the SLO spec (overall and per group)."""
    bounds = {slo.latency.p95_ms, slo.latency.p99_ms}
    for group in slo.groups.values():
        bounds |= {group.p95_ms, group.p99_ms}
    return tuple(sorted(set(BASE_BUCKETS) | {b / 1000.0 for b in bounds if b is not None}))


@dataclass(frozen=True)
class RunLabels:
    run_id: str
    scenario: str
    stack: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return ["run_id", "scenario", *sorted(self.tags)]

    @property
    def values(self) -> list[str]:
        return [self.run_id, self.scenario, *(self.tags[k] for k in sorted(self.tags))]


@dataclass(frozen=True)
class FaultWindow:
    """A scheduled fault, in seconds since the load started (end == start for a kill)."""

    name: str
    kind: str
    start: float
    end: float


@dataclass
class _Histogram:
    buckets: list[int]
    count: int = 0
    total_seconds: float = 0.0


class RunSeries:
    """Cumulative client-side series of one run; `observe` each interval, then `collect`."""

    def __init__(self, labels: RunLabels, *, buckets: Sequence[float],
                 stages: Sequence[StagePlan], faults: Sequence[FaultWindow] = ()) -> None:
        self.labels = labels
        self.bounds = tuple(buckets)
        self.stages = tuple(stages)
        self.faults = tuple(faults)
        self.started_at: float | None = None  # epoch seconds of the load's start
        self.ended_at: float | None = None
        self._requests: dict[tuple[str, str], int] = {}
        self._latency: dict[str, _Histogram] = {}
        self._corrected: dict[str, _Histogram] = {}
        self._last: Interval | None = None
        self._replicas: int | None = None

    def observe(self, interval: Interval, *, started_at: float,
                replicas: int | None = None) -> None:
        self.started_at = started_at
        self._last = interval
        self._replicas = replicas
        for name in interval.names:
            ok = self._requests.get((name.name, "success"), 0)
            self._requests[(name.name, "success")] = ok + name.requests - name.failures
            failed = self._requests.get((name.name, "failure"), 0)
            self._requests[(name.name, "failure")] = failed + name.failures
            self._add(self._latency, name.name, name.histogram)
            if name.corrected:
                self._add(self._corrected, name.name, name.corrected)

    def finish(self, ended_at: float) -> None:
        self.ended_at = ended_at

    def _add(self, into: dict[str, _Histogram], request: str, encoded: str) -> None:
        histogram = decode(encoded)
        target = into.setdefault(request, _Histogram([0] * len(self.bounds)))
        for item in histogram.get_recorded_iterator():
            seconds = item.value_iterated_to / 1e6
            count = item.count_added_in_this_iter_step
            for index, bound in enumerate(self.bounds):
                if seconds <= bound:
                    target.buckets[index] += count
                    break
            target.count += count
            target.total_seconds += seconds * count

    # ------------------------------------------------------------------ the families

    def _stage(self, elapsed: float) -> StagePlan | None:
        for stage in self.stages:
            if stage.start <= elapsed < stage.end:
                return stage
        return self.stages[-1] if self.stages and elapsed >= self.stages[-1].end else None

    def collect(self) -> Iterator[Metric]:
        names, values = self.labels.names, self.labels.values
        info = GaugeMetricFamily(
            "harness_run_info", "The load test run: 1 while its series are published.",
            labels=[*names, "stack"])
        info.add_metric([*values, self.labels.stack], 1.0)
        yield info
        if self.started_at is not None:
            yield _gauge("harness_run_start_time_seconds",
                         "When the run's load started, in seconds since the epoch.",
                         names, values, self.started_at)
        if self.ended_at is not None:
            yield _gauge("harness_run_end_time_seconds",
                         "When the run's load ended, in seconds since the epoch.",
                         names, values, self.ended_at)
        requests = CounterMetricFamily(
            "harness_requests", "Requests the load generator completed or gave up on, by "
            "request name and result (failure: an error status, a timeout or no answer).",
            labels=[*names, "request", "result"])
        for (request, result), count in sorted(self._requests.items()):
            requests.add_metric([*values, request, result], float(count))
        yield requests
        yield self._histogram_family(
            "harness_request_duration_seconds",
            "Response time from the request's actual send, by request name.",
            self._latency)
        if self._corrected:
            yield self._histogram_family(
                "harness_request_intended_duration_seconds",
                "Response time from the request's intended send (coordinated-omission "
                "corrected; arrival-rate stages only), by request name.", self._corrected)
        yield from self._interval_gauges(names, values)

    def _histogram_family(self, name: str, help_text: str,
                          histograms: Mapping[str, _Histogram]) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, help_text, labels=[*self.labels.names, "request"])
        for request, h in sorted(histograms.items()):
            cumulative, running = [], 0
            for bound, count in zip(self.bounds, h.buckets, strict=True):
                running += count
                cumulative.append((_le(bound), float(running)))
            cumulative.append(("+Inf", float(h.count)))
            family.add_metric([*self.labels.values, request], cumulative, h.total_seconds)
        return family

    def _interval_gauges(self, names: list[str], values: list[str]) -> Iterator[Metric]:
        interval = self._last
        if interval is None:
            return
        length = max(interval.end - interval.start, 1e-9)
        yield _gauge("harness_users", "Simulated users (the concurrency of an arrival-rate "
                     "stage).", names, values, float(interval.users))
        yield _gauge("harness_achieved_requests_per_second",
                     "Requests completed per second over the last interval.", names, values,
                     interval.requests / length)
        stage = self._stage(interval.end)
        if stage is not None and stage.rate is not None:
            yield _gauge("harness_intended_requests_per_second",
                         "The arrival rate the current stage asks for (open model).",
                         names, values, float(stage.rate))
        if stage is not None:
            family = GaugeMetricFamily("harness_stage_index", "The scenario stage running now "
                                       "(its index; the stage label names it).",
                                       labels=[*names, "stage"])
            family.add_metric([*values, stage.name], float(stage.index))
            yield family
        if self._replicas is not None:
            yield _gauge("harness_replicas", "App replicas the harness sees serving.",
                         names, values, float(self._replicas))
        faults = GaugeMetricFamily("harness_fault_active", "1 while a scheduled fault is in "
                                   "effect (kills: the interval they happen in).",
                                   labels=[*names, "fault", "kind"])
        for fault in self.faults:
            active = fault.start <= interval.end and (
                interval.end < fault.end or interval.start <= fault.start)
            faults.add_metric([*values, fault.name, fault.kind], 1.0 if active else 0.0)
        if self.faults:
            yield faults
        cpu = GaugeMetricFamily("harness_generator_cpu_ratio", "The load generator's CPU over "
                                "the last interval, as a fraction of its one core.",
                                labels=[*names, "generator"])
        lag = GaugeMetricFamily("harness_generator_loop_lag_seconds", "How late the load "
                                "generator's event loop ran a timer (p99 over the interval).",
                                labels=[*names, "generator"])
        wait = GaugeMetricFamily("harness_generator_cpu_wait_ratio", "How much of the last "
                                 "interval the load generator's event loop waited for a core "
                                 "(ready to run, not running).", labels=[*names, "generator"])
        for sample in interval.generators:
            cpu.add_metric([*values, sample.generator], sample.cpu_percent / 100.0)
            lag.add_metric([*values, sample.generator], sample.loop_lag_p99_ms / 1000.0)
            if sample.cpu_wait_percent is not None:
                wait.add_metric([*values, sample.generator], sample.cpu_wait_percent / 100.0)
        if interval.generators:
            yield cpu
            yield lag
        if wait.samples:
            yield wait


def _gauge(name: str, help_text: str, names: list[str], values: list[str],
           value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=names)
    family.add_metric(values, value)
    return family


def _le(bound: float) -> str:
    """A bucket bound as Prometheus' own clients print it (0.25, 1.0, 10.0)."""
    return repr(float(bound)) if math.isfinite(bound) else "+Inf"
