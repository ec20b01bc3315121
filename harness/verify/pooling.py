"""Connection-pooling checks: pool size against its max, acquire waits and timeouts, server
connections against max_connections, the static connection budget, and cache errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial

from harness.collect.series import ServerSeries, counter_increase, histogram_quantile
from harness.verify.check import CheckResult, Verdict, Window, judged

__all__ = ["PoolSettings", "ServerConnections", "pooling_checks"]

WAIT_SHARE = 0.10  # of the steady-state p95 request latency
WAIT_FLOOR_MS = 2.0


@dataclass(frozen=True)
class PoolSettings:
    """The effective settings of the run (ConfigMap keys, with the scenario's overrides)."""

    pool_max: int
    acquire_timeout: float
    redis_max_retries: int

    @classmethod
    def from_app_settings(cls, settings: Mapping[str, str]) -> PoolSettings:
        return cls(
            pool_max=int(settings.get("DB_POOL_MAX", "50")),
            acquire_timeout=float(settings.get("DB_POOL_ACQUIRE_TIMEOUT_SECONDS", "5")),
            redis_max_retries=int(settings.get("REDIS_MAX_RETRIES", "3")),
        )


@dataclass(frozen=True)
class ServerConnections:
    """What the database server said (pg_stat_activity), for a server the harness runs."""

    max_connections: int
    reserved: int
    peak: int
    samples: int


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 4)


# Pool numbers keep four decimals: acquire waits are fractions of a millisecond.
_check = partial(judged, digits=4)


def pooling_checks(
    series: ServerSeries,
    settings: PoolSettings,
    *,
    window: Window,
    latency_p95_ms: float | None,
    max_replicas: int | None = None,
    server: ServerConnections | None = None,
    cache_is_remote: bool = False,
) -> tuple[CheckResult, ...]:
    checks: list[CheckResult] = []
    size = series.gauge_max("servicedesk_db_pool_size")
    in_use = series.gauge_max("servicedesk_db_pool_connections_in_use")
    # In use is what the id promises; the open connections (idle ones included) go in the
    # evidence, so a pool that merely kept its connections open does not read as at its limit.
    checks.append(_check(
        "pool.max-in-use", "Connections in use per replica never above the pool max", in_use,
        float(settings.pool_max), "connections", window,
        f"most connections in use on any replica: {in_use:g} (largest pool: {size:g} open); "
        f"DB_POOL_MAX {settings.pool_max}"
        if in_use is not None else "the app exported no pool-in-use gauge",
    ))
    if size is not None and size > settings.pool_max:  # a pool that opened past its max
        checks[-1] = replace(checks[-1], verdict=Verdict.FAIL, evidence=(
            f"{checks[-1].evidence}; the pool opened {size:g} connections, above its max"))
    # An absent counter is no evidence of zero timeouts: skipped, not passed.
    counter = "servicedesk_db_pool_acquire_timeouts_total"
    timeouts = None if series.metric(counter).empty else counter_increase(series, counter)
    checks.append(_check(
        "pool.acquire-timeouts", "No connection-acquire timeouts", timeouts, 0.0, "timeouts",
        window,
        f"{timeouts:g} requests waited longer than {settings.acquire_timeout:g}s for a connection"
        if timeouts is not None else f"the app exported no {counter}",
    ))
    # waits in ms, like every latency the reports show beside them
    wait99 = _ms(histogram_quantile(series, "servicedesk_db_pool_acquire_wait_seconds", 0.99))
    checks.append(_check(
        "pool.acquire-wait-p99", "Acquire-wait p99 below the acquire timeout",
        wait99, settings.acquire_timeout * 1000.0, "ms", window,
        f"p99 wait for a pooled connection {wait99:.1f} ms; timeout "
        f"{settings.acquire_timeout:g}s" if wait99 is not None else "no acquire-wait histogram",
    ))
    if latency_p95_ms is not None and latency_p95_ms > 0:
        # Time spent waiting for a connection should be a small share of what requests take:
        # a pool too small for the load shows up here long before timeouts fire. Below the
        # floor, waiting is noise whatever the share.
        budget = round(max(latency_p95_ms * WAIT_SHARE, WAIT_FLOOR_MS), 3)
        wait95 = _ms(histogram_quantile(series, "servicedesk_db_pool_acquire_wait_seconds", 0.95))
        checks.append(_check(
            "pool.acquire-wait-p95", "Acquire-wait p95 a small share of request latency",
            wait95, budget, "ms", window,
            f"p95 wait for a pooled connection {wait95:.1f} ms against a p95 request "
            f"latency of {latency_p95_ms:.1f} ms ({100 * wait95 / latency_p95_ms:.0f} %); "
            f"allowed: {WAIT_SHARE:.0%} of it, at least {WAIT_FLOOR_MS:g} ms"
            if wait95 is not None else "no acquire-wait histogram",
        ))
    if server is not None:
        limit = server.max_connections - server.reserved
        checks.append(_check(
            "pool.server-connections", "Server connections within max_connections",
            float(server.peak), float(limit), "connections", window,
            f"peak {server.peak} client connections in pg_stat_activity over {server.samples} "
            f"samples; max_connections {server.max_connections} - "
            f"{server.reserved} reserved = {limit}",
        ))
        if max_replicas is not None:
            needed = max_replicas * settings.pool_max
            evidence = (f"HPA maxReplicas {max_replicas} x DB_POOL_MAX {settings.pool_max} = "
                        f"{needed} connections against {limit} available "
                        f"(max_connections {server.max_connections} - {server.reserved} reserved)")
            if needed > limit:
                fit = max(limit // max_replicas, 1)
                evidence += (f"; at full scale the pools would be refused connections. Remedy: "
                             f"DB_POOL_MAX <= {fit}, PgBouncer in transaction mode in front of "
                             f"PostgreSQL, or a larger max_connections")
            checks.append(_check("pool.connection-budget", "Connection budget at full scale",
                                 float(needed), float(limit), "connections", window, evidence))
    if cache_is_remote:
        errors = counter_increase(series, "servicedesk_cache_errors_total")
        retries = counter_increase(series, "servicedesk_cache_retries_total")
        checks.append(_check(
            "cache.errors", "Redis answered (no cache errors)", errors, 0.0, "errors", window,
            f"{errors:g} cache operations failed after retries; {retries:g} retries in all "
            f"(at most {settings.redis_max_retries} per operation, exponential backoff)",
        ))
    return tuple(checks)
