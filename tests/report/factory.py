"""RunResults for the report tests: passed, failed, interrupted (partial) and empty runs.

`make_result(kind, ...)` builds a realistic, deterministic result: three stages (ramp-up, a steady
stage, ramp-down), a timeline every `step` seconds, per-replica CPU and memory, checks, errors,
endpoints (one with a password to scrub) and an optional `extra` section.
"""

from __future__ import annotations

import math
import random

from harness.load.latency import LatencySummary
from harness.report.results import (
    ErrorRow,
    ReplicaPoint,
    RequestStats,
    RunResult,
    RunStatus,
    ServerSummary,
    StageRow,
    TimelinePoint,
)
from harness.verify.check import CheckResult, Verdict, Window

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


def stages(duration: float) -> tuple[StageRow, ...]:
    ramp = duration * 0.2
    return (
        StageRow(0, "ramp-up", 0.0, ramp, 50, False),
        StageRow(1, "peak", ramp, duration - ramp, 100, True),
        StageRow(2, "ramp-down", duration - ramp, duration, 20, False),
    )


def users_at(t: float, rows: tuple[StageRow, ...]) -> int:
    for row in rows:
        if row.start <= t < row.end:
            return row.users
    return rows[-1].users


def timeline(
    until: float, step: float, rows: tuple[StageRow, ...], slow: bool
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


def checks(failed: bool, duration: float, steady: StageRow) -> tuple[CheckResult, ...]:
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
            ErrorRow("POST /api/tickets", "HTTPError('503 Service Unavailable')", 41),
            ErrorRow("GET /api/search", "ConnectionResetError(104, 'Connection reset by peer')", 7),
            ErrorRow("PATCH /api/tickets/{id}", "HTTPError('409 Conflict') | retried", 3),
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
        extra_sections = {
            "scaling": {
                "decisions": [
                    {"t": 15.0, "from": 2, "to": 3, "reason": "cpu 82 % > 77 %"},
                    {"t": 45.0, "from": 3, "to": 5, "reason": "cpu 91 % > 77 %"},
                ],
                "replicas": [{"t": float(t), "replicas": 2 + t // 30} for t in range(0, 150, 15)],
                "hpa": {"min": 2, "max": 10, "cpu_target_percent": 70},
            },
            "pools": {"postgres_max": 50, "redis_max": 20, "acquire_timeout_s": 5.0},
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
    )
