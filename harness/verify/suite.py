"""Every check a run gets, chosen by what the run had: SLO always; autoscaling when the local
autoscaler ran; pooling when the app exported its pool; server connections when the harness ran
the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from harness.collect.instruments import Evidence
from harness.collect.series import ServerSeries
from harness.config.model import SloSpec
from harness.faults.records import FaultEvent
from harness.load.aggregate import aggregate, in_window
from harness.load.records import LoadResult
from harness.stack.controller import ReplicaEvent
from harness.verify.autoscaling import LoadPlanned, autoscaling_checks
from harness.verify.check import CheckResult
from harness.verify.drift import drift_check
from harness.verify.headroom import Headroom, annotate
from harness.verify.pooling import PoolSettings, ServerConnections, pooling_checks
from harness.verify.slo import slo_checks, steady_window

__all__ = ["run_checks"]


def _steady_p95(load: LoadResult) -> float | None:
    window = steady_window(load)
    stats = aggregate(in_window(load.intervals, window.start, window.end))
    return stats.latency.p95_ms if stats.requests else None


def _noted(check: CheckResult, note: str, load: LoadResult) -> CheckResult:
    if check.id == "load.requests":  # every request counts for "load reached the system"
        requests = sum(i.requests for i in load.intervals)
        failures = sum(i.failures for i in load.intervals)
        return replace(check, observed=float(requests),
                       evidence=f"{requests} requests sent, {failures} failed")
    if check.id.startswith("slo."):
        return replace(check, evidence=f"{check.evidence} ({note})")
    return check


def run_checks(
    load: LoadResult,
    slo: SloSpec,
    evidence: Evidence,
    *,
    app_settings: Mapping[str, str],
    startup_budget: float,
    max_connections: tuple[int, int] | None = None,
    cache_is_remote: bool = False,
    fault_events: Sequence[FaultEvent] = (),
    fault_origin: float | None = None,
    replica_events: Sequence[ReplicaEvent] | None = None,
    bundled_settings: Mapping[str, str] | None = None,
    headroom: Headroom | None = None,
    planned: LoadPlanned | None = None,
) -> tuple[CheckResult, ...]:
    judged, note = load, ""
    if fault_events:  # each request judged once: in its fault's window, or against the SLO
        from harness.verify.faults import without_fault_windows

        judged, note = without_fault_windows(load, fault_events, slo, origin=fault_origin)
    checks = [*slo_checks(judged, slo), drift_check(judged, slo.latency.p95_ms)]
    if note:
        checks = [_noted(c, note, load) for c in checks]
    scaler = evidence.scaling
    if scaler is not None and scaler.decisions:
        checks += autoscaling_checks(
            scaler.decisions, scaler.counts, scaler.hpa, origin=load.started_at,
            duration=load.duration, sync_period=scaler.sync_period_seconds,
            startup_budget=startup_budget,
            tolerance=(scaler.hpa.scale_up.tolerance if scaler.hpa.scale_up.tolerance is not None
                       else scaler.tolerance),
            load=judged, slo=slo, planned=planned,
        )
    series = ServerSeries(evidence.scrapes, load.started_at)
    if not series.metric("servicedesk_db_pool_size").empty:
        server = None
        if max_connections is not None and evidence.connections:
            limit, reserved = max_connections
            server = ServerConnections(
                max_connections=limit, reserved=reserved,
                peak=max(r.value.total for r in evidence.connections),
                samples=len(evidence.connections),
            )
        checks += pooling_checks(
            series,
            PoolSettings.from_app_settings(app_settings),
            window=steady_window(load),
            latency_p95_ms=_steady_p95(load),
            max_replicas=scaler.hpa.max_replicas if scaler is not None else None,
            server=server,
            cache_is_remote=cache_is_remote,
        )
    # Faults: what each cost and how the stack came back; replica deaths (needs a controller).
    if fault_events:
        from harness.verify.faults import fault_checks, fault_spans, rejudged_outside_faults

        spans = fault_spans(load, fault_events, slo, origin=fault_origin)
        shift = (fault_origin or load.started_at) - load.started_at
        checks = [rejudged_outside_faults(c, series, spans, shift) for c in checks]

        checks += fault_checks(load, fault_events, slo, series=series, origin=fault_origin,
                               replica_events=replica_events or (), app_settings=app_settings,
                               bundled_settings=bundled_settings, startup_budget=startup_budget)
    from harness.verify.health import generators_check, metrics_reachable_check, replica_exit_check

    generators = generators_check(load)
    if generators is not None:
        checks.append(generators)
    if replica_events is not None:
        checks.append(replica_exit_check(replica_events, load.started_at, load.duration))
    if replica_events is not None or evidence.scrapes:
        # also for a stack the harness did not start: a target whose /api/metrics fails must
        # say so, not leave the server-side checks silently empty
        checks.append(metrics_reachable_check(evidence.scrapes, load.started_at, load.duration))
    return annotate(checks, headroom)
