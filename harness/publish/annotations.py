"""Grafana annotations for a run: the run as a region, each stage's start, each injected fault
(as a region from injection to lift), posted through Grafana's HTTP API (`POST /api/annotations`)
when GRAFANA_URL and GRAFANA_TOKEN are set.

They are organisation annotations tagged `harness`, `run_id:<id>`, `scenario:<name>` and each
run tag as `KEY:VALUE`; the generated dashboards show them through a tag-filtered annotation
query, so every panel marks when a test ran. Connection failures are retried by httpx's
transport; whatever still fails is a notice in the report, never a failed run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from harness.errors import DependencyError
from harness.faults.records import FaultEvent
from harness.load.records import StagePlan
from harness.provision.credentials import GrafanaCredentials
from harness.provision.grafana import GrafanaClient
from harness.publish.series import RunLabels

__all__ = ["ANNOTATION_TAG", "Annotation", "GrafanaAnnotations", "run_annotations"]

ANNOTATION_TAG = "harness"  # what the dashboards' annotation query filters on
RETRIES = 4  # connection attempts beyond the first (httpx transport retries: 0, 0.5, 1, 2 s)


@dataclass(frozen=True)
class Annotation:
    time: float  # epoch seconds
    text: str
    tags: tuple[str, ...]
    time_end: float | None = None  # a region when set

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"time": int(round(self.time * 1000)), "text": self.text,
                                "tags": list(self.tags)}
        if self.time_end is not None and self.time_end > self.time:
            data["timeEnd"] = int(round(self.time_end * 1000))
        return data


def _base_tags(labels: RunLabels) -> tuple[str, ...]:
    return (ANNOTATION_TAG, f"run_id:{labels.run_id}", f"scenario:{labels.scenario}",
            *(f"{k}:{v}" for k, v in sorted(labels.tags.items())))


def run_annotations(labels: RunLabels, *, started_at: float, ended_at: float,
                    stages: Sequence[StagePlan],
                    fault_events: Sequence[FaultEvent] = ()) -> list[Annotation]:
    """The run's annotations, in time order (stage times are relative to `started_at`)."""
    base = _base_tags(labels)
    tagged = "".join(f", {k}={v}" for k, v in sorted(labels.tags.items()))
    notes = [Annotation(started_at, f"Load test {labels.run_id} ({labels.scenario} on "
                        f"{labels.stack}{tagged})", (*base, "run"), ended_at)]
    for stage in stages:
        if started_at + stage.start > ended_at:
            break
        load = f"{stage.rate:g} req/s" if stage.rate is not None else f"{stage.users} users"
        notes.append(Annotation(started_at + stage.start,
                                f"Stage {stage.index + 1} {stage.name}: {load}",
                                (*base, "stage")))
    for event in fault_events:
        if not event.happened or event.injected_at is None:
            continue
        notes.append(Annotation(event.injected_at, f"Fault {event.name} ({event.kind})"
                                + (f": {event.detail}" if event.detail else ""),
                                (*base, "fault", f"kind:{event.kind}"), event.cleared_at))
    return sorted(notes, key=lambda a: a.time)


class GrafanaAnnotations:
    def __init__(self, credentials: GrafanaCredentials, labels: RunLabels, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.credentials = credentials
        self.labels = labels
        self._transport = transport

    @classmethod
    def from_environ(cls, environ: Mapping[str, str],
                     labels: RunLabels) -> GrafanaAnnotations | None:
        credentials = GrafanaCredentials.from_environ(environ)
        return cls(credentials, labels) if credentials is not None else None

    def post_run(self, *, started_at: float, ended_at: float, stages: Sequence[StagePlan],
                 fault_events: Sequence[FaultEvent] = ()) -> list[str]:
        """Post every annotation; the notes say how many could not be posted, and why."""
        annotations = run_annotations(self.labels, started_at=started_at, ended_at=ended_at,
                                      stages=stages, fault_events=fault_events)
        transport = self._transport or httpx.HTTPTransport(retries=RETRIES)
        failed: list[str] = []
        with GrafanaClient(self.credentials, transport=transport, timeout=10.0) as client:
            for annotation in annotations:
                try:
                    client.annotate(annotation.body())
                except DependencyError as exc:
                    failed.append(str(exc))
        if not failed:
            return []
        return [f"Grafana annotations: {len(failed)} of {len(annotations)} could not be posted "
                f"({failed[0]})."]
