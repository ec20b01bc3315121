"""PostgreSQL specifics against a real server: the pool mapping, timeouts, broken connections,
timestamp loading, concurrent migrations, and the app end to end."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest
from prometheus_client import CollectorRegistry
from servicedesk.app import create_app
from servicedesk.metrics import Metrics
from servicedesk.settings import load_settings
from servicedesk.store import PoolTimeout, StoreUnavailable, build_store
from servicedesk.store.postgres import PostgresTicketStore
from servicedesk.store.postgres_types import IsoTimestampLoader

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


def make_store(url: str, metrics: Metrics, **env: str) -> PostgresTicketStore:
    settings = load_settings({"DATABASE_URL": url, "DB_POOL_MIN": "1", **env})
    store = build_store(settings, metrics)
    assert isinstance(store, PostgresTicketStore)
    return store


@pytest.fixture
async def store(postgres_url: str, metrics: Metrics) -> AsyncIterator[PostgresTicketStore]:
    s = make_store(
        postgres_url,
        metrics,
        DB_POOL_MIN="2",
        DB_POOL_MAX="3",
        DB_POOL_ACQUIRE_TIMEOUT_SECONDS="0.3",
        DB_POOL_IDLE_TIMEOUT_SECONDS="120",
        DB_POOL_MAX_LIFETIME_SECONDS="900",
    )
    await s.open()
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


async def test_settings_map_one_to_one_onto_psycopg_pool(store: PostgresTicketStore) -> None:
    pool = store._pool
    assert pool is not None
    assert (pool.min_size, pool.max_size) == (2, 3)
    assert (pool.timeout, pool.max_idle, pool.max_lifetime) == (0.3, 120, 900)
    stats = store.pool_stats()
    assert (stats.size, stats.max_size, stats.in_use, stats.idle) == (2, 3, 0, 2)


async def test_acquire_timeout_is_a_pool_timeout(
    store: PostgresTicketStore, metrics: Metrics
) -> None:
    release = asyncio.Event()
    holding = asyncio.Event()

    async def hold() -> None:
        async with store._connection("hold"):
            holding.set()
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(3)]
    for _ in range(3):
        await holding.wait()
    while store.pool_stats().in_use < 3:
        await asyncio.sleep(0.01)
    sample = metrics.registry.get_sample_value
    assert sample("servicedesk_db_pool_connections_in_use") == 3
    assert sample("servicedesk_db_pool_size") == 3
    with pytest.raises(PoolTimeout, match="within 0.3s"):
        await store.get_ticket(1)
    assert sample("servicedesk_db_pool_acquire_timeouts_total") == 1
    release.set()
    await asyncio.gather(*holders)
    assert await store.get_ticket(1) is None
    assert sample("servicedesk_db_pool_acquire_wait_seconds_count") >= 4
    assert sample("servicedesk_db_query_duration_seconds_count", {"operation": "get_ticket"}) == 1


async def test_broken_connections_are_counted_and_replaced(
    store: PostgresTicketStore, metrics: Metrics, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    failures = 0
    for _ in range(4):
        try:
            await store.ping()
        except StoreUnavailable:
            failures += 1
    assert failures >= 1
    assert metrics.registry.get_sample_value("servicedesk_db_pool_errors_total") == failures
    await store.ping()  # the pool replaced the dead connections


async def test_unreachable_server_fails_fast(metrics: Metrics) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = make_store(
        f"postgresql://nobody@127.0.0.1:{port}/none", metrics, DB_POOL_ACQUIRE_TIMEOUT_SECONDS="0.5"
    )
    with pytest.raises(StoreUnavailable, match="cannot open a database connection"):
        await store.open()


async def test_concurrent_migrations_from_replicas(postgres_url: str) -> None:
    stores = [make_store(postgres_url, Metrics(CollectorRegistry())) for _ in range(3)]
    for s in stores:
        await s.open()
    try:
        await asyncio.gather(*(s.migrate() for s in stores))
        await stores[0].ping()
    finally:
        for s in stores:
            await s.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"2024-05-01 12:00:00+00", "2024-05-01T12:00:00.000Z"),
        (b"2024-05-01 12:00:00.5+00", "2024-05-01T12:00:00.500Z"),
        (b"2024-05-01 12:00:00.123456+00", "2024-05-01T12:00:00.123Z"),
        (b"2024-05-01 14:30:00.25+02:30", "2024-05-01T12:00:00.250Z"),
    ],
)
def test_timestamptz_text_loads_as_timestamp(text: bytes, expected: str) -> None:
    assert IsoTimestampLoader(0).load(text) == expected


async def test_app_end_to_end_on_postgres(postgres_url: str, metrics: Metrics) -> None:
    settings = load_settings(
        {"DATABASE_URL": postgres_url, "DB_POOL_MIN": "2", "DB_POOL_MAX": "5",
         "ADMIN_TOKEN": "pg-admin", "SLA_SWEEP_INTERVAL_SECONDS": "3600"}
    )  # fmt: skip
    app = create_app(settings, metrics=metrics)
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as client:
            admin = {"Authorization": "Bearer pg-admin"}
            made = await client.post(
                "/api/users", json={"name": "C", "role": "customer"}, headers=admin
            )
            customer = {"Authorization": f"Bearer {made.json()['token']}"}
            ticket = await client.post(
                "/api/tickets",
                json={
                    "title": "Invoice PDF missing line items",
                    "description": "d",
                    "priority": "low",
                },
                headers=customer,
            )
            assert ticket.status_code == 201
            tid = ticket.json()["id"]
            assert (
                await client.get(f"/api/tickets/{tid}", headers=customer)
            ).json() == ticket.json()
            patched = await client.patch(
                f"/api/tickets/{tid}", json={"status": "resolved"}, headers=admin
            )
            assert patched.json()["resolved_at"] is not None
            found = await client.get("/api/search?q=invoices", headers=admin)
            assert [t["id"] for t in found.json()["items"]] == [tid]
            summary = await client.get("/api/sla/summary", headers=admin)
            assert summary.json()["low"] == {"open": 0, "breached": 0, "due_soon": 0}
            assert (await client.get("/api/health/ready")).status_code == 200
            text = (await client.get("/api/metrics")).text
            assert "servicedesk_db_pool_max 5.0" in text
            assert 'servicedesk_db_query_duration_seconds_count{operation="search"} 1.0' in text
    finally:
        await app.shutdown()
