"""The stack's numbers the generated dashboards, rules and monitors are drawn against.

Read from the single sources of truth: the HPA and Deployment in stack/k8s/base, the app's
ConfigMap, the PostgreSQL and Redis configuration named for the `base` target in
stack/environments.yaml. Nothing here is a copy of a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness import paths
from harness.config.appsettings import bundled_app_settings
from harness.config.k8s import load_scaling
from harness.errors import ConfigError

__all__ = ["StackNumbers", "load_stack_numbers"]

# The target whose database and cache the generated artefacts describe (stack/environments.yaml).
TARGET = "base"


@dataclass(frozen=True)
class StackNumbers:
    """Bounds and targets from the bundled stack definitions.

    Attributes:
        hpa_name: the HorizontalPodAutoscaler's name (the Datadog tag horizontalpodautoscaler).
        min_replicas, max_replicas: the HPA's bounds.
        cpu_target_percent, memory_target_percent: the HPA's utilization targets (None: unset).
        cpu_request_cores, memory_request_bytes: the app container's resource requests.
        db_pool_max: DB_POOL_MAX per replica (ConfigMap).
        db_pool_acquire_timeout_seconds: DB_POOL_ACQUIRE_TIMEOUT_SECONDS (ConfigMap).
        cache_max_entries: CACHE_MAX_ENTRIES (ConfigMap).
        redis_max_retries: REDIS_MAX_RETRIES (ConfigMap).
        pg_max_connections, pg_superuser_reserved: postgresql.conf.
        pg_headroom: connections kept free for other clients (stack/environments.yaml).
        redis_maxmemory_bytes, redis_maxmemory_policy: redis.conf.
    """

    hpa_name: str
    min_replicas: int
    max_replicas: int
    cpu_target_percent: int | None
    memory_target_percent: int | None
    cpu_request_cores: float | None
    memory_request_bytes: int | None
    db_pool_max: int
    db_pool_acquire_timeout_seconds: float
    cache_max_entries: int
    redis_max_retries: int
    pg_max_connections: int
    pg_superuser_reserved: int
    pg_headroom: int
    redis_maxmemory_bytes: int
    redis_maxmemory_policy: str

    @property
    def pg_usable_connections(self) -> int:
        """Connections non-superusers can open before PostgreSQL says "too many clients"."""
        return self.pg_max_connections - self.pg_superuser_reserved

    @property
    def pg_app_budget(self) -> int:
        """Connections the app's pools may hold together (usable minus the headroom)."""
        return self.pg_usable_connections - self.pg_headroom


def _number(settings: dict[str, str], key: str, source: str) -> float:
    raw = settings.get(key)
    if raw is None:
        raise ConfigError(source, ["data", key], "missing", "the app setting the monitors read")
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(source, ["data", key], f"cannot read {raw!r}", "a number") from None


def _count(settings: dict[str, str], key: str, source: str) -> int:
    value = _number(settings, key, source)
    if not value.is_integer():
        raise ConfigError(source, ["data", key], f"not a whole number: {value:g}", "an integer")
    return int(value)


def load_stack_numbers(stack_dir: Path | None = None) -> StackNumbers:
    """The numbers from `stack_dir` (default: the bundled stack/); ConfigError names the file."""
    from harness.validate.environments import load_environments

    stack = stack_dir or paths.stack_dir()
    base = stack / "k8s" / "base"
    scaling = load_scaling(base)
    settings = bundled_app_settings(base)
    source = str(base / "configmap.yaml")
    environment = load_environments(stack, [TARGET])[TARGET]
    requests = scaling.deployment.requests
    return StackNumbers(
        hpa_name=scaling.hpa.name or scaling.hpa.target_name,
        min_replicas=scaling.hpa.min_replicas,
        max_replicas=scaling.hpa.max_replicas,
        cpu_target_percent=scaling.hpa.target_for("cpu"),
        memory_target_percent=scaling.hpa.target_for("memory"),
        cpu_request_cores=(
            None if requests.cpu_millicores is None else requests.cpu_millicores / 1000
        ),
        memory_request_bytes=requests.memory_bytes,
        db_pool_max=_count(settings, "DB_POOL_MAX", source),
        db_pool_acquire_timeout_seconds=_number(
            settings, "DB_POOL_ACQUIRE_TIMEOUT_SECONDS", source
        ),
        cache_max_entries=_count(settings, "CACHE_MAX_ENTRIES", source),
        redis_max_retries=_count(settings, "REDIS_MAX_RETRIES", source),
        pg_max_connections=environment.postgres.max_connections,
        pg_superuser_reserved=environment.postgres.superuser_reserved_connections,
        pg_headroom=environment.postgres_headroom,
        redis_maxmemory_bytes=environment.redis.maxmemory,
        redis_maxmemory_policy=environment.redis.maxmemory_policy,
    )
