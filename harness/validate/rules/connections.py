"""Connection budget: the app's pools at the most pods that can run at once (HPA maximum plus the
rolling update's surge) against what PostgreSQL and Redis accept, less reserved connections and
headroom for everyone else (stack/environments.yaml)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from harness.validate.compose import service_environment
from harness.validate.model import EnvironmentSpec, Finding, Rule, Severity, Stack, Where
from harness.validate.rules.k8s import (
    app_pods,
    container_settings,
    replica_range,
    settings_file,
    surge,
)

__all__ = ["RULES", "check"]

DB_PEAK = Rule(
    "connections.db-peak",
    Severity.ERROR,
    "peak pods x DB_POOL_MAX fits max_connections - superuser_reserved_connections - headroom",
    "lower DB_POOL_MAX (or maxReplicas), raise max_connections with the instance, or add PgBouncer",
)
DB_IDLE = Rule(
    "connections.db-idle",
    Severity.ERROR,
    "DB_POOL_MIN <= DB_POOL_MAX and peak pods x DB_POOL_MIN (held even when idle) fits the budget",
    "lower DB_POOL_MIN",
)
REDIS_PEAK = Rule(
    "connections.redis-peak",
    Severity.ERROR,
    "peak pods x REDIS_POOL_SIZE fits Redis maxclients - headroom",
    "lower REDIS_POOL_SIZE or raise maxclients",
)
RULES = (DB_PEAK, DB_IDLE, REDIS_PEAK)


@dataclass(frozen=True, slots=True)
class _Pools:
    target: str
    file: str
    object: str
    pods: int
    pods_why: str
    settings: Mapping[str, str | None]


def _int(settings: Mapping[str, str | None], key: str) -> int | None:
    try:
        return int(str(settings.get(key)))
    except ValueError:
        return None


def _k8s_pools(stack: Stack) -> Iterator[_Pools]:
    for target, dep, container in app_pods(stack.targets):
        _, high = replica_range(target, dep)
        extra = surge(dep, high)
        settings = {k: s.value for k, s in container_settings(target, container, dep.file).items()}
        yield _Pools(
            target.name,
            settings_file(target, dep),
            dep.ref,
            high + extra,
            f"{high} max replicas + {extra} surge",
            settings,
        )


def _compose_pools(stack: Stack) -> Iterator[_Pools]:
    app = stack.compose.service("app")
    if app is None:
        return
    replicas = int((app.get("deploy") or {}).get("replicas", 1) or 1)
    yield _Pools(
        "compose",
        stack.compose.file,
        "service app",
        replicas,
        f"{replicas} replica(s)",
        service_environment(app),
    )


def _per_pod(pools: _Pools, where: Where, rule: Rule, key: str, limit: int,
             beyond: str) -> Iterator[Finding]:
    """A finding when every pod holding ``key`` connections exceeds ``limit`` together."""
    size = _int(pools.settings, key)
    if size is not None and pools.pods * size > limit:
        yield rule.finding(where, message=f"{pools.pods} pods ({pools.pods_why}) x {key} {size} = "
                           f"{pools.pods * size} {beyond}")


def _check(pools: _Pools, env: EnvironmentSpec) -> Iterator[Finding]:
    where = Where(target=pools.target, file=pools.file, object=pools.object)
    pg = env.postgres
    budget = pg.max_connections - pg.superuser_reserved_connections - env.postgres_headroom
    budget_text = (
        f"{budget} (max_connections {pg.max_connections} - reserved "
        f"{pg.superuser_reserved_connections} "
        f"- headroom {env.postgres_headroom}, {pg.file})"
    )
    low, high = _int(pools.settings, "DB_POOL_MIN"), _int(pools.settings, "DB_POOL_MAX")
    yield from _per_pod(pools, where, DB_PEAK, "DB_POOL_MAX", budget,
                        f"connections > budget {budget_text}")
    if low is not None and high is not None and low > high:
        yield DB_IDLE.finding(where, message=f"DB_POOL_MIN {low} > DB_POOL_MAX {high}")
    else:
        yield from _per_pod(pools, where, DB_IDLE, "DB_POOL_MIN", budget,
                            f"connections held even when idle > budget {budget_text}")
    yield from _per_pod(pools, where, REDIS_PEAK, "REDIS_POOL_SIZE",
                        env.redis.maxclients - env.redis_headroom,
                        f"> maxclients {env.redis.maxclients} - headroom {env.redis_headroom} "
                        f"({env.redis.file})")


def check(stack: Stack) -> Iterator[Finding]:
    for pools in (*_k8s_pools(stack), *_compose_pools(stack)):
        env = stack.environments.get(pools.target)
        if env is not None:
            yield from _check(pools, env)
