"""The cache layer: a :class:`Cache` protocol, an in-memory LRU and a Redis client."""

from __future__ import annotations

from ..metrics import Metrics
from ..settings import Settings
from .base import Cache, CacheError

__all__ = ["Cache", "CacheError", "build_cache"]


def build_cache(settings: Settings, metrics: Metrics) -> Cache:
    """Build (without connecting to) the cache CACHE_URL names."""
    if settings.cache_scheme == "memory":
        from .memory import MemoryCache

        return MemoryCache(
            metrics=metrics,
            ttl=settings.cache_ttl_seconds,
            max_entries=settings.cache_max_entries,
        )
    from .redis import RedisCache

    return RedisCache.from_settings(settings, metrics)
