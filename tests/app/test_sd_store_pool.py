import asyncio
import itertools
import threading
import time

import pytest
from servicedesk.metrics import Metrics
from servicedesk.store.base import PoolTimeout, StoreUnavailable
from servicedesk.store.pool import BlockingPool, ErrorAction, PoolConfig

pytestmark = pytest.mark.anyio


class Conn:
    _ids = itertools.count(1)

    def __init__(self) -> None:
        self.id = next(self._ids)
        self.closed = False


class Factory:
    def __init__(self, fail: bool = False) -> None:
        self.opened: list[Conn] = []
        self.fail = fail

    def connect(self) -> Conn:
        if self.fail:
            raise OSError("connection refused")
        conn = Conn()
        self.opened.append(conn)
        return conn

    @staticmethod
    def close(conn: Conn) -> None:
        conn.closed = True


def make_pool(
    factory: Factory,
    metrics: Metrics,
    *,
    min_size: int = 1,
    max_size: int = 2,
    acquire_timeout: float = 1.0,
    idle_timeout: float = 600,
    max_lifetime: float = 1800,
    on_error=lambda conn, exc: ErrorAction.KEEP,  # noqa: ANN001
) -> BlockingPool[Conn]:
    config = PoolConfig(min_size, max_size, acquire_timeout, idle_timeout, max_lifetime)
    return BlockingPool(
        config=config,
        connect=factory.connect,
        close=factory.close,
        on_error=on_error,
        metrics=metrics,
    )


def sample(metrics: Metrics, name: str, labels: dict | None = None) -> float:
    return metrics.registry.get_sample_value(name, labels or {}) or 0.0


async def until(predicate, timeout: float = 5.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def test_opens_min_size_up_front_and_grows_to_max(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=2, max_size=3)
    await pool.open()
    try:
        stats = pool.stats()
        assert (stats.size, stats.max_size, stats.in_use, stats.idle) == (2, 3, 0, 2)
        gate = threading.Event()
        calls = [asyncio.create_task(pool.run("hold", lambda c: gate.wait(5))) for _ in range(3)]
        await until(lambda: pool.stats().in_use == 3)
        assert pool.stats().size == 3
        assert sample(metrics, "servicedesk_db_pool_connections_in_use") == 3
        gate.set()
        await asyncio.gather(*calls)
        assert pool.stats().idle == 3
        assert len(factory.opened) == 3
    finally:
        await pool.close()


async def test_acquire_times_out_when_the_only_connection_is_busy(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=1, acquire_timeout=0.2)
    await pool.open()
    gate = threading.Event()
    try:
        holder = asyncio.create_task(pool.run("hold", lambda c: gate.wait(5)))
        await until(lambda: pool.stats().in_use == 1)
        started = time.monotonic()
        with pytest.raises(PoolTimeout, match="within 0.2s"):
            await pool.run("starved", lambda c: c.id)
        waited = time.monotonic() - started
        assert 0.15 <= waited < 2.0
        assert sample(metrics, "servicedesk_db_pool_acquire_timeouts_total") == 1
        assert pool.stats().waiting == 0
        gate.set()
        await holder
        assert await pool.run("after", lambda c: c.id) == factory.opened[0].id
        assert len(factory.opened) == 1
    finally:
        gate.set()
        await pool.close()


async def test_a_waiter_gets_the_released_connection(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=1, acquire_timeout=5)
    await pool.open()
    gate = threading.Event()
    try:
        holder = asyncio.create_task(pool.run("hold", lambda c: gate.wait(5)))
        await until(lambda: pool.stats().in_use == 1)
        waiter = asyncio.create_task(pool.run("wait", lambda c: c.id))
        await until(lambda: pool.stats().waiting == 1)
        assert sample(metrics, "servicedesk_db_pool_waiting") == 1
        gate.set()
        assert await waiter == factory.opened[0].id
        await holder
        waits = sample(metrics, "servicedesk_db_pool_acquire_wait_seconds_count")
        assert waits == 2
        assert sample(metrics, "servicedesk_db_pool_acquire_wait_seconds_sum") > 0
    finally:
        gate.set()
        await pool.close()


async def test_a_cancelled_waiter_does_not_leak_a_connection(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=1, acquire_timeout=5)
    await pool.open()
    gate = threading.Event()
    try:
        holder = asyncio.create_task(pool.run("hold", lambda c: gate.wait(5)))
        await until(lambda: pool.stats().in_use == 1)
        waiter = asyncio.create_task(pool.run("wait", lambda c: c.id))
        await until(lambda: pool.stats().waiting == 1)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.set()
        await holder
        assert pool.stats().idle == 1
        assert await pool.run("again", lambda c: c.id) == factory.opened[0].id
    finally:
        gate.set()
        await pool.close()


async def test_a_cancelled_call_returns_its_connection_when_the_thread_ends(
    metrics: Metrics,
) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=1)
    await pool.open()
    gate = threading.Event()
    try:
        call = asyncio.create_task(pool.run("hold", lambda c: gate.wait(5)))
        await until(lambda: pool.stats().in_use == 1)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert pool.stats().in_use == 1  # the worker thread still uses it
        gate.set()
        await until(lambda: pool.stats().idle == 1)
        assert pool.stats().in_use == 0
    finally:
        gate.set()
        await pool.close()


async def test_idle_connections_above_min_are_closed(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=3, idle_timeout=0.2)
    await pool.open()
    gate = threading.Event()
    try:
        calls = [asyncio.create_task(pool.run("hold", lambda c: gate.wait(5))) for _ in range(3)]
        await until(lambda: pool.stats().in_use == 3)
        gate.set()
        await asyncio.gather(*calls)
        assert pool.stats().size == 3
        await until(lambda: pool.stats().size == 1, timeout=5)
        # The size drops when a close starts; the close itself finishes on the executor.
        await until(lambda: sum(c.closed for c in factory.opened) == 2, timeout=5)
        assert pool.stats().size == 1
    finally:
        gate.set()
        await pool.close()


async def test_connections_are_replaced_after_their_max_lifetime(metrics: Metrics) -> None:
    factory = Factory()
    pool = make_pool(factory, metrics, min_size=1, max_size=1, max_lifetime=0.2)
    await pool.open()
    try:
        first = await pool.run("q", lambda c: c.id)
        await asyncio.sleep(0.3)
        await until(lambda: len(factory.opened) >= 2 and pool.stats().idle == 1)
        assert await pool.run("q", lambda c: c.id) != first
        assert factory.opened[0].closed
        assert pool.stats().size == 1
    finally:
        await pool.close()


async def test_connect_failures_are_counted_and_reported(metrics: Metrics) -> None:
    pool = make_pool(Factory(fail=True), metrics, min_size=0, max_size=1)
    await pool.open()
    try:
        with pytest.raises(StoreUnavailable, match="connection refused"):
            await pool.run("q", lambda c: c.id)
        assert sample(metrics, "servicedesk_db_pool_errors_total") == 1
        assert pool.stats().size == 0
    finally:
        await pool.close()


async def test_broken_connections_are_discarded(metrics: Metrics) -> None:
    factory = Factory()

    def classify(conn: Conn, exc: BaseException) -> ErrorAction:
        return ErrorAction.DISCARD if isinstance(exc, ConnectionError) else ErrorAction.COUNT

    pool = make_pool(factory, metrics, min_size=1, max_size=1, on_error=classify)
    await pool.open()

    def broken(conn: Conn) -> None:
        raise ConnectionError("server closed the connection")

    def bad_sql(conn: Conn) -> None:
        raise ValueError("syntax error")

    try:
        with pytest.raises(ConnectionError):
            await pool.run("q", broken)
        await until(lambda: pool.stats().idle == 1)
        assert factory.opened[0].closed and len(factory.opened) == 2
        with pytest.raises(ValueError):
            await pool.run("q", bad_sql)
        assert len(factory.opened) == 2  # kept
        assert sample(metrics, "servicedesk_db_pool_errors_total") == 2
    finally:
        await pool.close()


async def test_queries_are_timed_by_operation(metrics: Metrics) -> None:
    pool = make_pool(Factory(), metrics)
    await pool.open()
    try:
        await pool.run("get_ticket", lambda c: time.sleep(0.01))
        labels = {"operation": "get_ticket"}
        assert sample(metrics, "servicedesk_db_query_duration_seconds_count", labels) == 1
        assert sample(metrics, "servicedesk_db_query_duration_seconds_sum", labels) >= 0.01
    finally:
        await pool.close()


async def test_a_closed_pool_refuses_work(metrics: Metrics) -> None:
    pool = make_pool(Factory(), metrics)
    await pool.open()
    await pool.close()
    with pytest.raises(StoreUnavailable):
        await pool.run("q", lambda c: c.id)
