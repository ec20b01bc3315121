"""An in-process LRU cache with per-entry time to live."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from ..metrics import Metrics

__all__ = ["MemoryCache", "TtlLru"]

K = TypeVar("K")
V = TypeVar("V")


class TtlLru(Generic[K, V]):
    """At most ``max_entries`` entries; the least recently used goes first; an entry older
    than its ttl is never returned. Not thread-safe: use from the event loop only."""

    def __init__(
        self,
        *,
        max_entries: int,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self.ttl = ttl
        self._clock = clock
        self._data: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: K) -> V | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return entry[1]

    def set(self, key: K, value: V, ttl: float | None = None) -> None:
        expires = self._clock() + (self.ttl if ttl is None else ttl)
        data = self._data
        data[key] = (expires, value)
        data.move_to_end(key)
        while len(data) > self.max_entries:
            data.popitem(last=False)

    def delete(self, key: K) -> None:
        self._data.pop(key, None)

    def clear(self) -> None:
        self._data.clear()


class MemoryCache:
    """:class:`~servicedesk.cache.base.Cache` backed by a :class:`TtlLru` (``memory://``).

    Each replica has its own: an invalidation on one replica does not reach the others, so
    they may serve a stale ticket for up to CACHE_TTL_SECONDS. Use Redis to share one cache.
    """

    def __init__(
        self,
        *,
        metrics: Metrics,
        ttl: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._lru: TtlLru[str, bytes] = TtlLru(max_entries=max_entries, ttl=ttl, clock=clock)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self._lru.clear()

    async def ping(self) -> None:
        return None

    async def get(self, key: str) -> bytes | None:
        value = self._lru.get(key)
        if value is None:
            self._metrics.cache_miss()
        else:
            self._metrics.cache_hit()
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._lru.set(key, value, ttl)

    async def delete(self, key: str) -> None:
        self._lru.delete(key)
