"""SQLite specifics: URL form, WAL, FTS query quoting, the bounded pool, shared files."""

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from servicedesk.metrics import Metrics
from servicedesk.models import NewTicket, Priority, Role, TicketFilter
from servicedesk.settings import load_settings
from servicedesk.store import PoolTimeout, build_store
from servicedesk.store.sqlite import SqliteTicketStore, fts_query, sqlite_path
from servicedesk.timestamps import format_ts

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def ts(minutes: float = 0) -> str:
    return format_ts(T0 + timedelta(minutes=minutes))


def make_store(path: Path, metrics: Metrics, **env: str) -> SqliteTicketStore:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "DB_POOL_MIN": "1", **env})
    store = build_store(settings, metrics)
    assert isinstance(store, SqliteTicketStore)
    return store


@pytest.fixture
async def store(tmp_path: Path, metrics: Metrics) -> AsyncIterator[SqliteTicketStore]:
    s = make_store(tmp_path / "store.db", metrics)
    await s.open()
    await s.migrate()
    try:
        yield s
    finally:
        await s.close()


def draft(customer: int, minute: float) -> NewTicket:
    return NewTicket("VPN drops", "The tunnel resets.", Priority.HIGH, customer, ts(minute),
                     ts(minute + 240))  # fmt: skip


def test_sqlite_path_follows_the_sqlalchemy_convention() -> None:
    assert sqlite_path("sqlite:///./servicedesk.db") == "./servicedesk.db"
    assert sqlite_path("sqlite:////var/lib/sd.db") == "/var/lib/sd.db"


async def test_migrate_is_idempotent_and_uses_wal(store: SqliteTicketStore) -> None:
    await store.migrate()
    await store.migrate()
    await store.ping()
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "tickets", "comments", "tickets_fts", "comments_fts"} <= tables
    conn.close()


def test_fts_query_quotes_every_term() -> None:
    assert fts_query(("vpn", 'say "hi"')) == '"vpn" "say ""hi"""'


async def test_pool_timeout_with_one_connection(tmp_path: Path, metrics: Metrics) -> None:
    s = make_store(
        tmp_path / "tiny.db", metrics, DB_POOL_MAX="1", DB_POOL_ACQUIRE_TIMEOUT_SECONDS="0.2"
    )
    await s.open()
    await s.migrate()
    gate = threading.Event()
    try:
        blocker = asyncio.create_task(s._pool.run("hold", lambda conn: gate.wait(5)))
        await asyncio.sleep(0.05)
        with pytest.raises(PoolTimeout):
            await s.get_ticket(1)
        assert metrics.registry.get_sample_value("servicedesk_db_pool_acquire_timeouts_total") == 1
        gate.set()
        await blocker
        assert await s.get_ticket(1) is None
    finally:
        gate.set()
        await s.close()


async def test_two_stores_share_one_file(tmp_path: Path, metrics: Metrics) -> None:
    a = make_store(tmp_path / "shared.db", metrics)
    b = make_store(tmp_path / "shared.db", Metrics(CollectorRegistry()))
    await a.open()
    await b.open()
    try:
        await asyncio.gather(a.migrate(), b.migrate())
        user = await a.create_user("c", Role.CUSTOMER, "h", ts())
        made = await asyncio.gather(
            *(store.create_ticket(draft(user.id, i)) for i in range(20) for store in (a, b))
        )
        assert len({t.id for t in made}) == 40
        assert (await b.list_tickets(TicketFilter(), 1, 1)).total == 40
    finally:
        await a.close()
        await b.close()
