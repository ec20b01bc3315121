"""What a run publishes while and after it runs: its series by remote write (`--remote-write`),
and Grafana annotations (GRAFANA_URL and GRAFANA_TOKEN set). Neither can cost the run more than a
notice: every failure ends up in `close()`'s notes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from harness.config.model import RunOptions, Scenario, SloSpec
from harness.faults.records import FaultEvent
from harness.load.records import Interval, StagePlan
from harness.publish.annotations import GrafanaAnnotations
from harness.publish.remote_write import RemoteWrite, snapshot
from harness.publish.series import FaultWindow, RunLabels, RunSeries, latency_buckets

__all__ = ["RunPublisher"]

OnInterval = Callable[[Interval, float], None]


class RunPublisher:
    def __init__(self, series: RunSeries, *, remote: RemoteWrite | None = None,
                 annotations: GrafanaAnnotations | None = None,
                 replicas: Callable[[], int] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.series = series
        self.remote = remote
        self.annotations = annotations
        self._replicas = replicas
        self._clock = clock
        self._origin: float | None = None  # epoch seconds of the load's start

    @classmethod
    def for_run(cls, options: RunOptions, scenario: Scenario, slo: SloSpec,
                stages: Sequence[StagePlan], *, environ: Mapping[str, str],
                replicas: Callable[[], int] | None = None,
                clock: Callable[[], float] = time.time) -> RunPublisher:
        from harness.config.faults import fault_end
        from harness.faults.injector import fault_names

        labels = RunLabels(options.run_id, scenario.name, options.stack, dict(options.tags))
        faults = tuple(FaultWindow(name, fault.kind, fault.at, fault_end(fault))
                       for name, fault in zip(fault_names(scenario.faults), scenario.faults,
                                              strict=True))
        series = RunSeries(labels, buckets=latency_buckets(slo), stages=stages, faults=faults)
        remote = RemoteWrite(options.remote_write) if options.remote_write else None
        annotations = GrafanaAnnotations.from_environ(environ, labels)
        return cls(series, remote=remote, annotations=annotations, replicas=replicas,
                   clock=clock)

    @property
    def active(self) -> bool:
        return self.remote is not None or self.annotations is not None

    def start(self) -> None:
        if self.remote is not None:
            self.remote.start()

    def wrap(self, on_interval: OnInterval) -> OnInterval:
        """`on_interval`, then a snapshot of the series queued for remote write."""
        if not self.active:
            return on_interval

        def publish(interval: Interval, cpu: float) -> None:
            on_interval(interval, cpu)
            if self._origin is None:  # the load generator's clock, from its first interval
                self._origin = self._clock() - interval.end
            if self.remote is None:
                return
            replicas = self._replicas() if self._replicas is not None else None
            self.series.observe(interval, started_at=self._origin, replicas=replicas)
            if self.remote is not None:
                self.remote.push(snapshot(self.series, self._origin + interval.end))

        return publish

    def close(self, *, ended_at: float,
              fault_events: Sequence[FaultEvent] = ()) -> list[str]:
        """Flush the last series (with the run's end) and post the annotations; the notes say
        what could not be published."""
        notes: list[str] = []
        if self.remote is not None:
            if self._origin is not None:
                self.series.finish(ended_at)
                self.remote.push(snapshot(self.series, max(ended_at, self._origin)))
            notes += self.remote.close().notes()
        if self.annotations is not None and self._origin is not None:  # only once load ran
            notes += self.annotations.post_run(
                started_at=self._origin, ended_at=ended_at, stages=self.series.stages,
                fault_events=fault_events)
        return notes
