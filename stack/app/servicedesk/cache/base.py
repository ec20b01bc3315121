"""The cache's contract: async byte values with a time to live."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Cache", "CacheError"]


class CacheError(Exception):
    """The cache cannot be reached (only raised by ``ping``; lookups degrade to misses)."""


class Cache(Protocol):
    """A key/value cache. ``get`` counts hits and misses; a failing backend behaves as a miss
    so callers fall back to the database."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise :class:`CacheError` if the backend cannot answer."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default CACHE_TTL_SECONDS)."""

    async def delete(self, key: str) -> None: ...
