"""PostgreSQL and Redis memory settings against the instance each target runs on
(stack/environments.yaml: production db.t3.large 8 GiB / cache.t3.medium 3.09 GiB, staging
db.t3.small 2 GiB / cache.t3.micro 0.5 GiB)."""

from __future__ import annotations

from collections.abc import Iterator

from harness.validate.model import EnvironmentSpec, Finding, Rule, Severity, Stack, Where
from harness.validate.units import format_bytes

__all__ = ["RULES", "check"]

# Rules of thumb from the PostgreSQL wiki ("Tuning Your PostgreSQL Server") and ElastiCache's
# default reserved-memory-percent (25 %).
SHARED_BUFFERS_MAX = 0.40
SHARED_BUFFERS_MIN = 0.15
POSTGRES_TOTAL_MAX = 0.90
REDIS_MAXMEMORY_MAX = 0.75
EVICTING_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random")

SHARED_BUFFERS = Rule(
    "memory.postgres-shared-buffers",
    Severity.ERROR,
    "shared_buffers is 15-40 % of the instance's memory (25 % is the usual choice)",
    "set shared_buffers to about 25 % of the instance memory",
)
EFFECTIVE_CACHE = Rule(
    "memory.postgres-effective-cache",
    Severity.ERROR,
    "effective_cache_size is between shared_buffers and the instance's memory",
    "set effective_cache_size to about 75 % of the instance memory",
)
POSTGRES_TOTAL = Rule(
    "memory.postgres-total",
    Severity.ERROR,
    "shared_buffers + wal_buffers + max_connections x work_mem + autovacuum workers x "
    "maintenance_work_mem stays under 90 % of the instance",
    "lower work_mem or maintenance_work_mem, or choose a larger instance",
)
REDIS_MAXMEMORY = Rule(
    "memory.redis-maxmemory",
    Severity.ERROR,
    "Redis maxmemory is set and at most 75 % of the node (fork copy-on-write, fragmentation)",
    "set maxmemory to at most 75 % of the node's memory",
)
REDIS_POLICY = Rule(
    "memory.redis-policy",
    Severity.WARNING,
    "the cache evicts (allkeys-lru as the seed says) instead of failing writes when full",
    "maxmemory-policy allkeys-lru",
)
RULES = (SHARED_BUFFERS, EFFECTIVE_CACHE, POSTGRES_TOTAL, REDIS_MAXMEMORY, REDIS_POLICY)


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f} %"


def _postgres(env: EnvironmentSpec) -> Iterator[Finding]:
    pg, memory = env.postgres, env.postgres_memory
    if memory is None:
        return
    where = Where(
        target=env.target,
        file=pg.file,
        object=f"PostgreSQL on {env.postgres_instance}",
    )
    size = format_bytes(memory)
    if pg.shared_buffers > SHARED_BUFFERS_MAX * memory:
        yield SHARED_BUFFERS.finding(
            where,
            message=f"shared_buffers {format_bytes(pg.shared_buffers)} is "
            f"{_pct(pg.shared_buffers, memory)} of {size}",
        )
    elif pg.shared_buffers < SHARED_BUFFERS_MIN * memory:
        yield SHARED_BUFFERS.finding(
            where,
            severity=Severity.WARNING,
            message=f"shared_buffers {format_bytes(pg.shared_buffers)} is only "
            f"{_pct(pg.shared_buffers, memory)} of {size}",
        )
    if not pg.shared_buffers <= pg.effective_cache_size <= memory:
        yield EFFECTIVE_CACHE.finding(
            where,
            message=f"effective_cache_size {format_bytes(pg.effective_cache_size)} with "
            "shared_buffers "
            f"{format_bytes(pg.shared_buffers)} on {size}",
        )
    total = (
        pg.shared_buffers
        + pg.wal_buffers
        + pg.max_connections * pg.work_mem
        + pg.autovacuum_max_workers * pg.maintenance_work_mem
    )
    if total > POSTGRES_TOTAL_MAX * memory:
        yield POSTGRES_TOTAL.finding(
            where,
            message=f"worst case {format_bytes(total)} ({_pct(total, memory)} of {size}): "
            "shared_buffers "
            f"{format_bytes(pg.shared_buffers)} + {pg.max_connections} x work_mem "
            f"{format_bytes(pg.work_mem)} "
            f"+ {pg.autovacuum_max_workers} x maintenance_work_mem "
            f"{format_bytes(pg.maintenance_work_mem)}",
        )


def _redis(env: EnvironmentSpec) -> Iterator[Finding]:
    rd, memory = env.redis, env.redis_memory
    where = Where(
        target=env.target,
        file=rd.file,
        object=f"Redis on {env.redis_instance or 'unsized host'}",
    )
    if rd.maxmemory_policy not in EVICTING_POLICIES:
        yield REDIS_POLICY.finding(where, message=f"maxmemory-policy {rd.maxmemory_policy}")
    if memory is None:
        return
    if rd.maxmemory == 0:
        yield REDIS_MAXMEMORY.finding(
            where,
            message=f"maxmemory unset: Redis grows until the {format_bytes(memory)} node runs out",
        )
    elif rd.maxmemory > REDIS_MAXMEMORY_MAX * memory:
        yield REDIS_MAXMEMORY.finding(
            where,
            message=f"maxmemory {format_bytes(rd.maxmemory)} is {_pct(rd.maxmemory, memory)} of "
            f"{format_bytes(memory)}",
        )


def check(stack: Stack) -> Iterator[Finding]:
    for env in stack.environments.values():
        yield from _postgres(env)
        yield from _redis(env)
