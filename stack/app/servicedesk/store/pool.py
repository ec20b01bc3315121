"""A bounded async pool of blocking connections whose calls run on worker threads.

Semantics follow ``psycopg_pool.AsyncConnectionPool`` so the SQLite and PostgreSQL stores behave
alike under load: ``min_size`` connections opened up front, at most ``max_size``; an acquisition
waits at most ``acquire_timeout`` seconds (then :class:`PoolTimeout`); connections idle longer
than ``idle_timeout`` are closed down to ``min_size``; a connection older than ``max_lifetime``
(minus up to 10 % jitter, as psycopg does) is replaced when it comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from ..metrics import Metrics
from ..models import PoolStats
from ..settings import Settings
from .base import PoolTimeout, StoreUnavailable

__all__ = ["BlockingPool", "ErrorAction", "PoolConfig"]

C = TypeVar("C")
R = TypeVar("R")


class ErrorAction(Enum):
    """What the pool does with a connection whose call raised."""

    KEEP = "keep"  # a domain error (constraint, not found): not counted
    COUNT = "count"  # a database error: counted in servicedesk_db_pool_errors_total
    DISCARD = "discard"  # the connection is broken: counted and closed


@dataclass(frozen=True, slots=True)
class PoolConfig:
    min_size: int
    max_size: int
    acquire_timeout: float
    idle_timeout: float
    max_lifetime: float

    @classmethod
    def from_settings(cls, s: Settings) -> PoolConfig:
        return cls(
            min_size=s.db_pool_min,
            max_size=s.db_pool_max,
            acquire_timeout=s.db_pool_acquire_timeout_seconds,
            idle_timeout=s.db_pool_idle_timeout_seconds,
            max_lifetime=s.db_pool_max_lifetime_seconds,
        )


class _Slot(Generic[C]):
    __slots__ = ("conn", "expires_at", "idle_since")

    def __init__(self, conn: C, expires_at: float) -> None:
        self.conn = conn
        self.expires_at = expires_at
        self.idle_since = time.monotonic()


class BlockingPool(Generic[C]):
    """Lend blocking connections to calls that run on the pool's own worker threads."""

    def __init__(
        self,
        *,
        config: PoolConfig,
        connect: Callable[[], C],
        close: Callable[[C], None],
        on_error: Callable[[C, BaseException], ErrorAction],
        metrics: Metrics,
    ) -> None:
        self.config = config
        self._connect = connect
        self._close_conn = close
        self._on_error = on_error
        self._metrics = metrics
        self._executor: ThreadPoolExecutor | None = None
        self._idle: deque[_Slot[C]] = deque()
        self._waiters: deque[asyncio.Future[_Slot[C]]] = deque()
        self._size = 0  # open plus being opened
        self._in_use = 0
        self._closed = True
        self._maintenance: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # asyncio keeps only weak references
        metrics.bind_pool(self.stats)

    # --- lifecycle ---

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(self.config.max_size, thread_name_prefix="db")
        self._closed = False
        for _ in range(self.config.min_size):
            self._size += 1
            slot = await self._open_slot()
            self._idle.append(slot)
        self._maintenance = asyncio.get_running_loop().create_task(self._maintain())

    async def close(self) -> None:
        self._closed = True
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(StoreUnavailable("the pool is closed"))
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        while self._idle:
            await self._discard(self._idle.popleft())
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def stats(self) -> PoolStats:
        return PoolStats(
            size=self._size,
            max_size=self.config.max_size,
            in_use=self._in_use,
            idle=len(self._idle),
            waiting=sum(1 for w in self._waiters if not w.done()),
        )

    # --- use ---

    async def run(self, operation: str, fn: Callable[..., R], *args: Any) -> R:
        """Run ``fn(conn, *args)`` on a worker thread with a pooled connection; time it as
        ``operation`` in servicedesk_db_query_duration_seconds."""
        slot = await self._acquire()
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._executor, fn, slot.conn, *args)
        try:
            result = await asyncio.shield(future)
        except asyncio.CancelledError:
            # The thread still holds the connection: give it back only when the call ends.
            future.add_done_callback(lambda f: self._after_call(slot, f))
            raise
        except BaseException as exc:
            self._release(slot, exc)
            raise
        finally:
            self._metrics.observe_query(operation, time.perf_counter() - started)
        self._release(slot, None)
        return result

    def _after_call(self, slot: _Slot[C], future: asyncio.Future[Any]) -> None:
        exc = None if future.cancelled() else future.exception()
        self._release(slot, exc)

    async def _acquire(self) -> _Slot[C]:
        if self._closed:
            raise StoreUnavailable("the pool is closed")
        started = time.perf_counter()
        if self._idle:
            slot = self._idle.pop()  # LIFO: the least recently used ones age out
        elif self._size < self.config.max_size:
            self._size += 1
            slot = await self._open_slot()
        else:
            slot = await self._wait_for_slot()
        self._in_use += 1
        self._metrics.db_pool_acquire_wait.observe(time.perf_counter() - started)
        return slot

    async def _wait_for_slot(self) -> _Slot[C]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[_Slot[C]] = loop.create_future()
        self._waiters.append(waiter)
        timeout = self.config.acquire_timeout
        timer = loop.call_later(timeout, self._expire, waiter)
        try:
            return await waiter
        except PoolTimeout:
            self._metrics.db_pool_acquire_timeouts.inc()
            raise
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._give_back(waiter.result())  # handed a slot just as we were cancelled
            raise
        finally:
            timer.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    def _expire(self, waiter: asyncio.Future[_Slot[C]]) -> None:
        if not waiter.done():
            waiter.set_exception(
                PoolTimeout(f"no database connection free within {self.config.acquire_timeout:g}s")
            )

    def _release(self, slot: _Slot[C], exc: BaseException | None) -> None:
        self._in_use -= 1
        action = ErrorAction.KEEP
        if exc is not None:
            action = self._on_error(slot.conn, exc)
            if action is not ErrorAction.KEEP:
                self._metrics.db_pool_errors.inc()
        if action is ErrorAction.DISCARD or self._closed or time.monotonic() >= slot.expires_at:
            task = asyncio.get_running_loop().create_task(self._replace(slot))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        self._give_back(slot)

    def _give_back(self, slot: _Slot[C]) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        slot.idle_since = time.monotonic()
        self._idle.append(slot)

    # --- opening, closing, maintenance ---

    async def _open_slot(self) -> _Slot[C]:
        """Open one connection; the caller has already counted it in ``_size``."""
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(self._executor, self._connect)
        except BaseException as exc:
            self._size -= 1
            self._metrics.db_pool_errors.inc()
            if isinstance(exc, Exception):
                raise StoreUnavailable(f"cannot open a database connection: {exc}") from exc
            raise
        lifetime = self.config.max_lifetime * (1.0 - 0.1 * random.random())
        return _Slot(conn, time.monotonic() + lifetime)

    async def _discard(self, slot: _Slot[C]) -> None:
        self._size -= 1
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(self._executor, self._close_conn, slot.conn)

    async def _replace(self, slot: _Slot[C]) -> None:
        await self._discard(slot)
        if self._closed:
            return
        if self._waiters or self._size < self.config.min_size:
            self._size += 1
            try:
                fresh = await self._open_slot()
            except StoreUnavailable:
                return
            self._give_back(fresh)

    async def _maintain(self) -> None:
        interval = max(0.05, min(30.0, self.config.idle_timeout / 2, self.config.max_lifetime / 2))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            keep: deque[_Slot[C]] = deque()
            stale: list[_Slot[C]] = []
            # Oldest idle first; never shrink below min_size.
            for slot in self._idle:
                expired = now >= slot.expires_at
                idle_too_long = now - slot.idle_since >= self.config.idle_timeout
                if expired or (idle_too_long and self._size - len(stale) > self.config.min_size):
                    stale.append(slot)
                else:
                    keep.append(slot)
            self._idle = keep
            for slot in stale:
                await self._replace(slot)
