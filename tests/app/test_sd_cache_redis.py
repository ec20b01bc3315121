"""The Redis cache against a real redis-server: TTLs, counted retries, fallback during an
outage, recovery, and the app serving from the database while Redis is down."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from servicedesk.app import create_app
from servicedesk.cache import CacheError, build_cache
from servicedesk.cache.redis import KEY_PREFIX, RedisCache
from servicedesk.metrics import Metrics
from servicedesk.settings import load_settings

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def sample(metrics: Metrics, name: str, labels: dict | None = None) -> float:
    return metrics.registry.get_sample_value(name, labels or {}) or 0.0


def commands_by_retries(metrics: Metrics) -> dict[int, int]:
    """servicedesk_cache_command_retries as {retries: commands that made exactly that many}."""
    name = "servicedesk_cache_command_retries_bucket"
    cumulative = [(int(float(le)), sample(metrics, name, {"le": le}))
                  for le in ("0.0", "1.0", "2.0", "3.0", "4.0", "5.0", "6.0")]
    found, below = {}, 0.0
    for retries, count in cumulative:
        if count > below:
            found[retries] = int(count - below)
        below = count
    return found


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def cache(redis_server, metrics: Metrics, clock: Clock) -> AsyncIterator[RedisCache]:  # noqa: ANN001
    c = RedisCache(
        url=redis_server.url,
        metrics=metrics,
        ttl=30,
        pool_size=3,
        max_retries=3,
        backoff_base=0.01,
        backoff_cap=0.05,
        breaker_seconds=2,
        clock=clock,
    )
    await c.open()
    try:
        yield c
    finally:
        await c.close()


def test_settings_build_a_redis_cache_with_the_pool_and_retry_policy(metrics: Metrics) -> None:
    settings = load_settings(
        {"CACHE_URL": "redis://127.0.0.1:6390/2", "REDIS_POOL_SIZE": "7", "REDIS_MAX_RETRIES": "4",
         "REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.02", "REDIS_RETRY_BACKOFF_CAP_SECONDS": "0.3"}
    )  # fmt: skip
    cache = build_cache(settings, metrics)
    assert isinstance(cache, RedisCache)
    assert (cache._pool_size, cache._max_retries, cache._backoff) == (7, 4, (0.02, 0.3))


async def test_pool_and_retry_are_wired_into_the_client(cache: RedisCache) -> None:
    pool = cache.client.connection_pool
    assert pool.max_connections == 3
    retry = pool.connection_kwargs["retry"]
    assert retry.get_retries() == 3


async def test_get_set_delete_with_ttl(cache: RedisCache, metrics: Metrics, redis_server) -> None:  # noqa: ANN001
    await cache.ping()
    assert await cache.get("ticket:1") is None
    await cache.set("ticket:1", b'{"id":1}')
    assert await cache.get("ticket:1") == b'{"id":1}'
    pttl = await cache.client.pttl(KEY_PREFIX + "ticket:1")
    assert 29_000 < pttl <= 30_000
    await cache.set("ticket:2", b"x", ttl=0.05)
    await asyncio.sleep(0.15)
    assert await cache.get("ticket:2") is None
    await cache.delete("ticket:1")
    assert await cache.get("ticket:1") is None
    assert sample(metrics, "servicedesk_cache_requests_total", {"result": "hit"}) == 1
    assert sample(metrics, "servicedesk_cache_requests_total", {"result": "miss"}) == 3
    assert sample(metrics, "servicedesk_cache_errors_total") == 0
    assert commands_by_retries(metrics) == {0: 8}  # a ping, 4 gets, 2 sets and a delete


async def test_an_outage_is_retried_counted_bypassed_and_recovered(
    cache: RedisCache,
    metrics: Metrics,
    redis_server,
    clock: Clock,  # noqa: ANN001
) -> None:
    await cache.set("ticket:1", b"v")
    redis_server.stop()
    assert await cache.get("ticket:1") is None  # a miss: the caller falls back to the database
    assert sample(metrics, "servicedesk_cache_errors_total") == 1
    assert sample(metrics, "servicedesk_cache_retries_total") == 3
    with pytest.raises(CacheError):
        await cache.ping()
    retries_after_ping = sample(metrics, "servicedesk_cache_retries_total")
    assert retries_after_ping == 6
    # the failed readiness ping is a failed command too: 3 retries each for 2 failures
    assert sample(metrics, "servicedesk_cache_errors_total") == 2
    assert commands_by_retries(metrics) == {0: 1, 3: 2}  # the set before the outage, then 2
    # while the breaker is open nothing is sent to Redis
    assert await cache.get("ticket:1") is None
    await cache.set("ticket:1", b"w")
    await cache.delete("ticket:1")
    assert sample(metrics, "servicedesk_cache_errors_total") == 2
    assert sample(metrics, "servicedesk_cache_retries_total") == retries_after_ping
    redis_server.start()
    clock.now += 2.1
    await cache.set("ticket:9", b"back")
    assert await cache.get("ticket:9") == b"back"
    assert sample(metrics, "servicedesk_cache_errors_total") == 2


async def test_the_app_keeps_serving_when_redis_fails(
    redis_server,
    db_url: str,
    metrics: Metrics,  # noqa: ANN001
) -> None:
    settings = load_settings(
        {"DATABASE_URL": db_url, "CACHE_URL": redis_server.url, "ADMIN_TOKEN": "adm",
         "REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.01", "REDIS_RETRY_BACKOFF_CAP_SECONDS": "0.02",
         "DB_POOL_MIN": "1", "DB_POOL_MAX": "4", "SLA_SWEEP_INTERVAL_SECONDS": "3600"}
    )  # fmt: skip
    app = create_app(settings, metrics=metrics)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as client:
            admin = {"Authorization": "Bearer adm"}
            body = {"title": "SSO login loops", "description": "d", "priority": "high"}
            tid = (await client.post("/api/tickets", json=body, headers=admin)).json()["id"]
            for _ in range(2):
                assert (await client.get(f"/api/tickets/{tid}", headers=admin)).status_code == 200
            assert sample(metrics, "servicedesk_cache_requests_total", {"result": "hit"}) == 1
            redis_server.stop()
            for _ in range(3):
                response = await client.get(f"/api/tickets/{tid}", headers=admin)
                assert response.status_code == 200 and response.json()["id"] == tid
            ready = await client.get("/api/health/ready")
            assert ready.status_code == 200  # serving from the database: still ready
            assert ready.json()["status"] == "degraded"
            assert ready.json()["checks"]["cache"] == "error: CacheError"
            # one lookup (then the breaker) and the readiness ping, each after 3 retries
            assert sample(metrics, "servicedesk_cache_errors_total") == 2
            assert sample(metrics, "servicedesk_cache_retries_total") == 6
    finally:
        await app.shutdown()


async def test_retry_counter_survives_the_per_connection_copy(redis_server) -> None:  # noqa: ANN001
    metrics = Metrics(CollectorRegistry())
    cache = RedisCache(
        url=redis_server.url, metrics=metrics, ttl=5, pool_size=2, max_retries=2,
        backoff_base=0.001, backoff_cap=0.002,
    )  # fmt: skip
    await cache.open()
    try:
        await cache.set("k", b"v")  # a live connection now holds its own copy of the Retry
        redis_server.stop()
        await cache.get("k")
        assert sample(metrics, "servicedesk_cache_retries_total") == 2
        assert commands_by_retries(metrics) == {0: 1, 2: 1}
    finally:
        await cache.close()
