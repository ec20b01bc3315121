"""RunResults for the report tests: passed, failed, interrupted (partial) and empty runs.

`make_result(kind, ...)` builds a realistic, deterministic result: three stages (ramp-up, a steady
stage, ramp-down), a timeline every `step` seconds, per-replica CPU and memory, checks, errors,
endpoints (one with a password to scrub) and optional `extra` sections: the autoscaler's scaling
section, server connections and per-replica pools in the shapes the pipeline writes, and a section
with no dedicated view (shown as a generic table).
"""

from __future__ import annotations

import math
import random

from harness.config.k8s import HpaMetricTarget, HpaSpec, Resources, ScalingRules
from harness.load.latency import LatencySummary, new_histogram, record_all
from harness.load.records import StagePlan
from harness.report.distribution import EndpointPoint, percentile_curve
from harness.report.results import (
    ErrorCount,
    ReplicaPoint,
    RequestStats,
    RunResult,
    RunStatus,
    ServerSummary,
    TimelinePoint,
)
from harness.stack.autoscaler import DEFAULT_TOLERANCE
from harness.stack.trace import ScalingTrace
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.headroom import Headroom, Limit, MemoryTrend, SteadyState

STARTED_AT = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
SECRET = "s3cr3t-pa55"
TOKEN = "tok-abcdef123456"

REQUEST_NAMES = (
    "GET /api/tickets",
    "GET /api/tickets/{id}",
    "POST /api/tickets",
    "PATCH /api/tickets/{id}",
    "POST /api/tickets/{id}/comments",
    "GET /api/search",
)


def latency(p50: float, scale: float = 1.0, count: int = 1000) -> LatencySummary:
    if count == 0:
        return LatencySummary(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    p50 *= scale
    return LatencySummary(
        count=count,
        min_ms=round(p50 * 0.2, 3),
        mean_ms=round(p50 * 1.3, 3),
        p50_ms=p50,
        p90_ms=round(p50 * 2.5, 3),
        p95_ms=round(p50 * 3.1, 3),
        p99_ms=round(p50 * 6.0, 3),
        p999_ms=round(p50 * 11.0, 3),
        max_ms=round(p50 * 20.0, 3),
    )


def stats(requests: int, failures: int, seconds: float, p50: float) -> RequestStats:
    return RequestStats(
        requests=requests,
        failures=failures,
        rps=round(requests / seconds, 3) if seconds else 0.0,
        error_percent=round(100.0 * failures / requests, 3) if requests else 0.0,
        latency=latency(p50, count=requests),
    )


def stages(duration: float) -> tuple[StagePlan, ...]:
    ramp = duration * 0.2
    return (
        StagePlan(0, "ramp-up", 0.0, ramp, 50, False),
        StagePlan(1, "peak", ramp, duration - ramp, 100, True),
        StagePlan(2, "ramp-down", duration - ramp, duration, 20, False),
    )


def users_at(t: float, rows: tuple[StagePlan, ...]) -> int:
    for row in rows:
        if row.start <= t < row.end:
            return row.users
    return rows[-1].users


def timeline(
    until: float, step: float, rows: tuple[StagePlan, ...], slow: bool
) -> tuple[TimelinePoint, ...]:
    rnd = random.Random(7)
    points = []
    t = step
    while t <= until + 1e-9:
        users = users_at(t - step / 2, rows)
        p50 = 18 + users * 0.08 + rnd.uniform(-2, 2)
        late = slow and t > until * 0.7
        factor = 4.0 if late else 1.0
        points.append(
            TimelinePoint(
                t=round(t, 3),
                users=users,
                rps=round(users * 1.9 + rnd.uniform(-8, 8), 3),
                error_percent=round(max(0.0, rnd.gauss(0.3, 0.2)) + (2.5 if late else 0), 3),
                p50_ms=round(p50, 3),
                p95_ms=round(p50 * 3.1 * factor, 3),
                p99_ms=round(p50 * 6.0 * factor + rnd.uniform(0, 30), 3),
            )
        )
        t += step
    return tuple(points)


def replica_points(until: float, step: float, count: int) -> tuple[ReplicaPoint, ...]:
    points = []
    t = 0.0
    while t <= until + 1e-9:
        for i in range(count):
            wave = math.sin(t / 40 + i)
            points.append(
                ReplicaPoint(
                    t=round(t, 3),
                    replica=f"replica-{i}",
                    cpu_percent=round(45 + 20 * wave + i * 3, 3),
                    rss_mb=round(110 + i * 6 + t * 0.01, 3),
                )
            )
        t += step
    return tuple(points)


def checks(failed: bool, duration: float, steady: StagePlan) -> tuple[CheckResult, ...]:
    steady_window = Window(steady.start, steady.end, "steady state")
    p99_observed = 690.0 if failed else 240.0
    return (
        CheckResult(
            id="slo.latency.p95",
            title="p95 latency, all requests",
            verdict=Verdict.PASS,
            observed=92.4,
            threshold=500.0,
            unit="ms",
            comparison="<=",
            window=steady_window,
            evidence="p95 was 92.4 ms over 27,000 requests in the steady state (limit 500 ms).",
        ),
        CheckResult(
            id="slo.latency.p99",
            title="p99 latency, all requests",
            verdict=Verdict.FAIL if failed else Verdict.PASS,
            observed=p99_observed,
            threshold=300.0,
            unit="ms",
            comparison="<=",
            window=Window(duration * 0.7, duration, "sliding 60s"),
            evidence=(
                f"p99 reached {p99_observed:g} ms in the sliding 60 s window ending at "
                f"{duration:g} s (limit 300 ms); <worst> window & all."
            ),
        ),
        CheckResult(
            id="slo.error-rate",
            title="Error rate",
            verdict=Verdict.FAIL if failed else Verdict.PASS,
            observed=2.8 if failed else 0.31,
            threshold=1.0,
            unit="%",
            comparison="<=",
            window=steady_window,
            evidence="Failed requests over all requests in the steady state.",
        ),
        CheckResult(
            id="slo.throughput.min",
            title="Minimum throughput",
            verdict=Verdict.PASS,
            observed=188.2,
            threshold=50.0,
            unit="req/s",
            comparison=">=",
            window=steady_window,
            evidence="188.2 req/s on average over the steady state.",
        ),
        CheckResult(
            id="slo.group.write.p95",
            title="p95 latency, write requests",
            verdict=Verdict.PASS,
            observed=140.0,
            threshold=800.0,
            unit="ms",
            comparison="<=",
            window=steady_window,
            evidence="p95 of POST/PATCH requests.",
        ),
        CheckResult(
            id="pool.max-in-use",
            title="PostgreSQL pool never exhausted",
            verdict=Verdict.SKIPPED,
            observed=None,
            threshold=50.0,
            unit="connections",
            comparison="<=",
            window=None,
            evidence="",
            reason="the embedded stack uses SQLite: no connection pool to observe",
        ),
    )


def hpa_section(**rules: ScalingRules) -> dict:
    """extra["scaling"]["hpa"] as ScalingTrace.section writes it: HPA 2-10 on cpu 70 % and memory
    80 %, a sync every 15 s, the default behavior unless `rules` (scale_up, scale_down) say."""
    hpa = HpaSpec(2, 10, (HpaMetricTarget("cpu", 70), HpaMetricTarget("memory", 80)),
                  has_behavior=bool(rules), name="servicedesk", target_name="servicedesk", **rules)
    trace = ScalingTrace(hpa, Resources(500, 512 * 2**20), 15.0, DEFAULT_TOLERANCE, (1, 33), (), ())
    return trace.section(0.0)["hpa"]


HPA = hpa_section()
CPU_PER_USER = 0.029  # cores
POOL_MAX = 50


def _proposal(metric: str, utilization: int, target: int, current: int) -> dict:
    ratio = utilization / target
    if 0.9 <= ratio <= 1.1:
        replicas, reason = current, "within-tolerance"
    else:
        replicas = max(1, math.ceil(ratio * current))
        reason = "scale-up" if replicas > current else "scale-down"
    return {
        "metric": metric, "utilization_percent": utilization, "target_percent": target,
        "ratio": round(ratio, 4), "replicas": replicas, "reason": reason,
        "ready_pods": current, "unready_pods": 0, "missing_pods": 0,
        "message": f"ceil({ratio:.3f} x {current} ready pods)",
    }


def scaling_section(until: float, rows: tuple[StagePlan, ...], sync: float = 15.0) -> dict:
    """extra["scaling"] as ReplicaAutoscaler.section writes it: a sync every 15 s, CPU that
    follows the users, a policy-limited scale-up, then a scale-down held by stabilization."""
    rnd = random.Random(11)
    current = 3
    counts = [{"t": -0.8, "replicas": current}]
    decisions = []
    recommendations: list[tuple[float, int]] = []
    t = sync - 0.8
    while t <= until:
        cores = users_at(t, rows) * CPU_PER_USER * (1 + rnd.uniform(-0.05, 0.05))
        cpu = int(cores * 1000 * 100 / (current * 500))
        memory = int(30 + rnd.uniform(-2, 2))
        per_metric = [_proposal("cpu", cpu, 70, current), _proposal("memory", memory, 80, current)]
        recommended = max(m["replicas"] for m in per_metric)
        recommendations.append((t, recommended))
        held = max(r for at, r in recommendations if at > t - HPA["scale_down_window_seconds"])
        desired = held if recommended < current else recommended
        limit = max(current + 4, current * 2)
        applied = max(HPA["min_replicas"], min(desired, limit, HPA["max_replicas"]))
        if applied > current:
            reason = "limited-by-policy" if applied < desired else "scale-up"
        elif applied < current:
            reason = "scale-down"
        elif recommended < current:
            reason = "stabilized"
        else:
            reason = "within-tolerance"
        decisions.append({
            "time": round(t, 3), "current": current, "recommended": recommended,
            "desired": desired, "applied": applied, "reason": reason,
            "message": f"recommended {recommended}, stabilized {desired}, applied {applied}",
            "per_metric": per_metric,
        })
        current = applied
        counts.append({"t": round(t, 3), "replicas": current})
        t += sync
    return {"hpa": dict(HPA), "decisions": decisions, "replicas": counts}


def replicas_at(t: float, scaling: dict) -> int:
    count = scaling["replicas"][0]["replicas"]
    for point in scaling["replicas"]:
        if point["t"] <= t:
            count = point["replicas"]
    return count


def connections_section(until: float, rows: tuple[StagePlan, ...], scaling: dict) -> dict:
    """extra["connections"]: pg_stat_activity every 2 s, ten connections per replica's pool."""
    rnd = random.Random(13)
    samples = []
    t = -0.6
    while t <= until:
        total = 3 + 10 * replicas_at(t, scaling) + rnd.randint(0, 2)
        active = min(total, int(users_at(t, rows) * 0.12 + rnd.uniform(0, 3)))
        samples.append({"t": round(t, 3), "total": total, "active": active,
                        "idle": total - active})
        t += 2.0
    return {"samples": samples, "failed_samples": 1, "max_connections": 100, "reserved": 3}


def pools_section(until: float, rows: tuple[StagePlan, ...], replicas: int, waits: bool) -> dict:
    """extra["pools"]: each replica's pool gauges every 5 s; `waits`: a pool too small at peak."""
    rnd = random.Random(17)
    samples = []
    t = 0.0
    while t <= until + 1e-9:
        users = users_at(t, rows)
        for i in range(replicas):
            in_use = int(users * (0.45 if waits else 0.12) / replicas * 3 + rnd.uniform(0, 4))
            in_use = min(in_use, POOL_MAX)
            waiting = (max(0, int(users * 0.2 - 12 + rnd.uniform(-3, 3)))
                       if waits and users >= 100 else 0)
            size = max(10, in_use)
            samples.append({"t": round(t, 3), "replica": f"replica-{i}", "in_use": in_use,
                            "idle": size - in_use, "waiting": waiting, "size": size,
                            "max": POOL_MAX})
        t += 5.0
    return {"samples": samples}


# What `harness.verify.headroom` would give for a 120 req/s steady state over 3 replicas.
HEADROOM = Headroom(
    SteadyState(60.0, 270.0, 120.0, 3.0, 0.0015, 180 * 2**20, 0.0025, 0.3, 4.0,
                MemoryTrend(1024.0, 0.41, 120, 45.0, 12.0)),
    (
        Limit("hpa.cpu", "HPA scale-up on CPU (above 77 % of request)", 770.0, 6.417,
              "1.50 ms of CPU per request, 3 replicas of 500m"),
        Limit("hpa.memory", "HPA scale-up on memory (above 88 % of request)", None, None,
              "memory does not grow with the request rate"),
        Limit("pool.saturation", "A replica's pool saturated (all 7 of DB_POOL_MAX in use)",
              8400.0, 70.0, "Little's law: a request holds a connection 2.50 ms"),
        Limit("hpa.memory.trend", "A trend far beyond the run", 90000.0, 750.0, "a trend",
              extrapolated=True),
    ),
)


def make_result(
    kind: str = "passed",
    *,
    duration: float = 300.0,
    step: float = 2.0,
    replicas: int = 3,
    replica_step: float = 5.0,
    extra: bool = True,
) -> RunResult:
    """kind: "passed", "failed", "interrupted" (partial, stopped at 40 %) or "empty"."""
    rows = stages(duration)
    status = {
        "passed": RunStatus.PASSED,
        "failed": RunStatus.FAILED,
        "interrupted": RunStatus.INTERRUPTED,
        "empty": RunStatus.INTERRUPTED,
    }[kind]
    exit_status = {"passed": 0, "failed": 1, "interrupted": 130, "empty": 130}[kind]
    until = {"passed": duration, "failed": duration, "interrupted": duration * 0.4, "empty": 0}[
        kind
    ]
    points = timeline(until, step, rows, slow=kind == "failed") if until else ()
    replica_series = replica_points(until, replica_step, replicas) if until else ()
    total_requests = int(sum(p.rps * step for p in points))
    total_failures = int(sum(p.rps * step * p.error_percent / 100 for p in points))
    per_request = {}
    if total_requests:
        weights = (0.3, 0.25, 0.1, 0.1, 0.1, 0.15)
        medians = (22, 12, 35, 30, 28, 61)
        for name, weight, p50 in zip(REQUEST_NAMES, weights, medians, strict=True):
            n = int(total_requests * weight)
            per_request[name] = stats(n, int(total_failures * weight), until, p50)
    groups = (
        {
            "read": stats(int(total_requests * 0.7), 3, until, 20),
            "write": stats(int(total_requests * 0.3), 1, until, 32),
        }
        if total_requests
        else {}
    )
    result_checks = (
        () if kind in ("interrupted", "empty") else checks(kind == "failed", duration, rows[1])
    )
    errors = (
        (
            ErrorCount("POST /api/tickets", "HTTPError('503 Service Unavailable')", 41),
            ErrorCount(
                "GET /api/search", "ConnectionResetError(104, 'Connection reset by peer')", 7
            ),
            ErrorCount("PATCH /api/tickets/{id}", "HTTPError('409 Conflict') | retried", 3),
        )
        if total_requests
        else ()
    )
    notes = [
        "The embedded stack runs the seed's Development profile: SQLite and an in-memory cache.",
        f"Connected to postgresql://harness:{SECRET}@127.0.0.1:5432/servicedesk for seeding.",
    ]
    if kind == "interrupted":
        notes.append("Interrupted by SIGINT during stage 'peak'.")
    extra_sections: dict = {}
    if extra and kind != "empty":
        scaling = scaling_section(until, rows)
        extra_sections = {
            "scaling": scaling,
            "connections": connections_section(until, rows, scaling),
            "pools": pools_section(until, rows, replicas, waits=kind == "failed"),
            "cache": {"redis_max_connections": 20, "retries": 3, "errors": 0},
        }
    return RunResult(
        run_id=f"20260921-141320-{kind}",
        scenario="peak",
        scenario_description="Business-hours peak: agents triage and customers open tickets.",
        stack="embedded",
        status=status,
        exit_status=exit_status,
        started_at=STARTED_AT,
        ended_at=STARTED_AT + until + 12.5,
        checks=result_checks,
        totals=stats(total_requests, total_failures, until, 24)
        if total_requests
        else stats(0, 0, 0, 0),
        per_request=per_request,
        groups=groups,
        stages=rows,
        timeline=points,
        replicas=replica_series,
        server=(
            ServerSummary(
                scrapes=60,
                failed_scrapes=1,
                requests=float(total_requests),
                p95_ms=88.0,
                cache_hit_percent=93.5,
                db_query_p95_ms=4.2,
                max_in_flight=37.0,
                max_pool_in_use=None,
                tickets_created=812.0,
                sla_breaches=3.0,
            )
            if total_requests
            else None
        ),
        errors=errors,
        endpoints={
            "app": "http://127.0.0.1:8101",
            "metrics": "http://127.0.0.1:8101/api/metrics",
            "database": f"postgresql://harness:{SECRET}@127.0.0.1:5432/servicedesk",
            "cache": f"redis://{TOKEN}@127.0.0.1:6379/0",
            "grafana": f"http://127.0.0.1:3000/?token={TOKEN}&orgId=1",
        },
        notes=tuple(notes),
        extra=extra_sections,
        steady=stats(int(total_requests * 0.6), int(total_failures * 0.5), duration * 0.6, 26)
        if total_requests else None,
        headroom=HEADROOM if kind == "failed" else None,
        latency_curves=curves(slow=kind == "failed") if total_requests else {},
        endpoint_p95={
            name: [EndpointPoint(p.t, round(p.p95_ms * (0.6 + 0.2 * i), 3), int(p.rps))
                   for p in points[::5]]
            for i, name in enumerate(REQUEST_NAMES[:3])
        } if points else {},
        load_started_at=STARTED_AT + 12.0 if points else None,
    )


def curves(slow: bool) -> dict[str, list[tuple[float, float]]]:
    """Percentile curves as assemble writes them, from synthetic HdrHistograms."""
    rnd = random.Random(19)
    found = {}
    for name, median in (("all requests", 24_000), ("read", 20_000), ("write", 32_000)):
        values = [int(rnd.lognormvariate(math.log(median), 0.6 if slow else 0.4))
                  for _ in range(5000)]
        found[name] = percentile_curve(record_all(new_histogram(), values))
    return found
