"""Build the RunResult from what the stages handed on (load, scrapes, checks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from harness.calibrate.probe import Calibration
from harness.collect.scrape import Scrape
from harness.collect.series import ServerSeries, counter_increase, histogram_quantile
from harness.config.model import Scenario, SloSpec
from harness.load.aggregate import aggregate, in_window, per_name, timeline
from harness.load.health import summarize_generators
from harness.load.records import LoadResult
from harness.report.distribution import endpoint_p95, percentile_curves
from harness.report.results import (
    ReplicaPoint,
    RunResult,
    RunStatus,
    ServerSummary,
)
from harness.status import ExitStatus
from harness.verify.check import CheckResult
from harness.verify.headroom import Headroom
from harness.verify.slo import steady_window

__all__ = ["assemble", "server_summary"]


def server_summary(series: ServerSeries) -> ServerSummary:
    def ms(value: float | None) -> float | None:
        return round(value * 1000.0, 3) if value is not None else None

    hits = counter_increase(series, "servicedesk_cache_requests_total", {"result": "hit"})
    misses = counter_increase(series, "servicedesk_cache_requests_total", {"result": "miss"})
    lookups = hits + misses
    return ServerSummary(
        scrapes=series.scrapes,
        failed_scrapes=series.failed,
        requests=counter_increase(series, "servicedesk_http_requests_total"),
        p95_ms=ms(histogram_quantile(series, "servicedesk_http_request_duration_seconds", 0.95)),
        cache_hit_percent=round(100.0 * hits / lookups, 3) if lookups else None,
        db_query_p95_ms=ms(
            histogram_quantile(series, "servicedesk_db_query_duration_seconds", 0.95)
        ),
        max_in_flight=series.gauge_max("servicedesk_http_requests_in_flight"),
        max_pool_in_use=series.gauge_max("servicedesk_db_pool_connections_in_use"),
        tickets_created=counter_increase(series, "servicedesk_tickets_created_total"),
        sla_breaches=counter_increase(series, "servicedesk_sla_breaches_total"),
    )


def assemble(
    *,
    run_id: str,
    scenario: Scenario,
    slo: SloSpec,
    stack: str,
    status: RunStatus,
    exit_status: ExitStatus,
    started_at: float,
    ended_at: float,
    load: LoadResult | None,
    scrapes: Sequence[Scrape],
    checks: Sequence[CheckResult],
    endpoints: Mapping[str, str],
    notes: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    headroom: Headroom | None = None,
    calibration: Calibration | None = None,
) -> RunResult:
    intervals = load.intervals if load else ()
    origin = load.started_at if load else started_at
    series = ServerSeries(scrapes, origin) if scrapes else None
    replicas: tuple[ReplicaPoint, ...] = ()
    if series is not None:
        frame = series.replica_resources()
        replicas = tuple(
            ReplicaPoint(round(float(row.t), 3), str(row.replica), round(float(row.cpu_percent), 2),
                         round(float(row.rss_mb), 2))
            for row in frame.itertuples(index=False)
        )
    groups = {
        name: aggregate(intervals, frozenset(group.requests).__contains__)
        for name, group in sorted(slo.groups.items())
    }
    steady = None
    curves: dict[str, list[tuple[float, float]]] = {}
    if load is not None and intervals:
        window = steady_window(load)
        held = in_window(intervals, window.start, window.end)
        steady = aggregate(held)
        curves = percentile_curves(held, {n: g.requests for n, g in slo.groups.items()})
    return RunResult(
        run_id=run_id,
        scenario=scenario.name,
        scenario_description=scenario.description,
        stack=stack,
        status=status,
        exit_status=int(exit_status),
        started_at=round(started_at, 3),
        ended_at=round(ended_at, 3),
        checks=tuple(checks),
        totals=aggregate(intervals),
        per_request=per_name(intervals),
        groups=groups,
        stages=tuple(
            replace(s, start=round(s.start, 3), end=round(s.end, 3))
            for s in (load.stages if load else ())
        ),
        timeline=timeline(intervals),
        replicas=replicas,
        server=server_summary(series) if series is not None else None,
        errors=tuple(sorted(load.errors if load else (), key=lambda e: -e.occurrences)),
        endpoints=dict(endpoints),
        notes=tuple(notes),
        extra=dict(extra or {}),
        calibration=calibration,
        generator=summarize_generators(
            intervals, load.workers, load.stages[-1].end if load.stages else None
        ) if load and intervals else None,
        tags=dict(sorted((tags or {}).items())),
        steady=steady,
        headroom=headroom,
        latency_curves=curves,
        endpoint_p95=endpoint_p95(intervals),
        load_started_at=round(load.started_at, 3) if load is not None else None,
    )
