"""A Redis cache shared by all replicas (``redis://host:port/db``).

``redis.asyncio`` with a ``BlockingConnectionPool`` of REDIS_POOL_SIZE connections; each command
is retried REDIS_MAX_RETRIES times with exponential backoff (base REDIS_RETRY_BACKOFF_BASE_SECONDS,
cap REDIS_RETRY_BACKOFF_CAP_SECONDS), every retry counted in servicedesk_cache_retries_total, and
each command's own retries (redis-py's reconnects for it included) observed once when it ends in
servicedesk_cache_command_retries.

When a command still fails the cache degrades instead of failing the request: a lookup becomes a
miss (the caller reads the database), the failure is counted in servicedesk_cache_errors_total,
and Redis is bypassed for BREAKER_SECONDS so that an outage costs one request the retry delays
rather than every request. A failed invalidation leaves the old value to expire by its TTL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..metrics import Metrics
from ..settings import Settings
from .base import CacheError

__all__ = ["BREAKER_SECONDS", "CountingRetry", "RedisCache"]

log = logging.getLogger(__name__)

BREAKER_SECONDS = 2.0
SOCKET_TIMEOUT_SECONDS = 1.0
KEY_PREFIX = "servicedesk:"

T = TypeVar("T")

# The retries of the command this task is running: redis-py retries a reconnect and then the
# command, each with its own Retry, so only the caller knows which retries were one command's.
_COMMAND_RETRIES: ContextVar[list[int] | None] = ContextVar("command_retries", default=None)


def _count_command_retry() -> None:
    retries = _COMMAND_RETRIES.get()
    if retries is not None:
        retries[0] += 1


class CountingRetry(Retry):
    """redis-py's async Retry, calling ``on_retry`` before every attempt after the first.

    ``on_retry`` must be a plain function: redis-py deep-copies the Retry into each connection,
    and a deep copy of a bound method would copy (and so detach) the metric it increments."""

    def __init__(
        self, *, backoff: ExponentialBackoff, retries: int, on_retry: Callable[[], None]
    ) -> None:
        super().__init__(backoff, retries, (RedisConnectionError, RedisTimeoutError))
        self._on_retry = on_retry

    async def call_with_retry(  # type: ignore[override]
        self,
        do: Callable[[], Awaitable[T]],
        fail: Callable[..., Any],
        is_retryable: Callable[[Exception], bool] | None = None,
        with_failure_count: bool = False,
    ) -> T:
        attempts = 0

        async def attempt() -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                self._on_retry()
            return await do()

        return await super().call_with_retry(attempt, fail, is_retryable, with_failure_count)


class RedisCache:
    """:class:`~servicedesk.cache.base.Cache` on Redis; see the module docstring."""

    def __init__(
        self,
        *,
        url: str,
        metrics: Metrics,
        ttl: float,
        pool_size: int,
        max_retries: int,
        backoff_base: float,
        backoff_cap: float,
        breaker_seconds: float = BREAKER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        fallback: bool = True,
    ) -> None:
        self._url = url
        self._metrics = metrics
        self._ttl_ms = max(1, int(ttl * 1000))
        self._pool_size = pool_size
        self._max_retries = max_retries
        self._backoff = (backoff_base, backoff_cap)
        self._breaker_seconds = breaker_seconds
        self._clock = clock
        self._bypass_until = 0.0
        self._client: Redis | None = None
        self._fallback = fallback  # CACHE_FALLBACK (false only to test the harness)

    @classmethod
    def from_settings(cls, settings: Settings, metrics: Metrics) -> RedisCache:
        return cls(
            url=settings.cache_url,
            metrics=metrics,
            ttl=settings.cache_ttl_seconds,
            pool_size=settings.redis_pool_size,
            max_retries=settings.redis_max_retries,
            backoff_base=settings.redis_retry_backoff_base_seconds,
            backoff_cap=settings.redis_retry_backoff_cap_seconds,
            fallback=settings.cache_fallback,
        )

    @property
    def client(self) -> Redis:
        if self._client is None:
            raise CacheError("the Redis cache is not open")
        return self._client

    async def open(self) -> None:
        retries_total = self._metrics.cache_retries

        def on_retry() -> None:
            retries_total.inc()
            _count_command_retry()

        base, cap = self._backoff
        retry = CountingRetry(
            backoff=ExponentialBackoff(cap=cap, base=base),
            retries=self._max_retries,
            on_retry=on_retry,
        )
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=self._pool_size,
            timeout=SOCKET_TIMEOUT_SECONDS,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            retry=retry,
        )
        self._client = Redis(connection_pool=pool)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose(close_connection_pool=True)
            self._client = None

    async def ping(self) -> None:
        try:
            await self._command(self.client.ping)
        except RedisError as exc:
            # Counted like any command that failed after its retries; no breaker: readiness
            # must see Redis as it is.
            self._metrics.cache_errors.inc()
            raise CacheError(f"redis ping failed: {exc}") from exc

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = None
        if self._available():
            try:
                value = cast(
                    bytes | None, await self._command(lambda: self.client.get(KEY_PREFIX + key))
                )
            except RedisError as exc:
                self._failed("get", exc)
        if value is None:
            self._metrics.cache_miss()
        else:
            self._metrics.cache_hit()
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        if not self._available():
            return
        ttl_ms = self._ttl_ms if ttl is None else max(1, int(ttl * 1000))
        try:
            await self._command(lambda: self.client.set(KEY_PREFIX + key, value, px=ttl_ms))
        except RedisError as exc:
            self._failed("set", exc)

    async def delete(self, key: str) -> None:
        if not self._available():
            return
        try:
            await self._command(lambda: self.client.delete(KEY_PREFIX + key))
        except RedisError as exc:
            self._failed("delete", exc)

    async def _command(self, call: Callable[[], Awaitable[T]]) -> T:
        """Runs one command, observing the retries made for it when it ends, whatever the end."""
        retries = [0]
        token = _COMMAND_RETRIES.set(retries)
        try:
            return await call()
        finally:
            _COMMAND_RETRIES.reset(token)
            self._metrics.cache_command_retries.observe(retries[0])

    def _available(self) -> bool:
        return self._clock() >= self._bypass_until

    def _failed(self, command: str, exc: RedisError) -> None:
        self._metrics.cache_errors.inc()
        if not self._fallback:  # CACHE_FALLBACK off: the request fails with the cache
            raise CacheError(f"redis {command} failed, CACHE_FALLBACK off: {exc}") from exc
        self._bypass_until = self._clock() + self._breaker_seconds
        log.warning(
            "redis unavailable, serving from the database",
            extra={"fields": {"command": command, "error": repr(exc),
                              "bypass_seconds": self._breaker_seconds}},
        )  # fmt: skip
