"""Behaviour every TicketStore must have: run against SQLite and a real PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from servicedesk.metrics import Metrics
from servicedesk.models import (
    NewTicket,
    Priority,
    Role,
    SeedBatch,
    SeedComment,
    SeedTicket,
    SeedUser,
    Status,
    TicketFilter,
    TicketPatch,
    User,
)
from servicedesk.settings import load_settings
from servicedesk.store import Conflict, TicketStore, build_store
from servicedesk.timestamps import format_ts

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def ts(minutes: float = 0) -> str:
    return format_ts(T0 + timedelta(minutes=minutes))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contract.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def store(database_url: str, metrics: Metrics) -> AsyncIterator[TicketStore]:
    settings = load_settings({"DATABASE_URL": database_url, "DB_POOL_MIN": "1", "DB_POOL_MAX": "4"})
    s = build_store(settings, metrics)
    await s.open()
    await s.migrate()
    await s.migrate()  # idempotent
    try:
        yield s
    finally:
        await s.close()


async def users(store: TicketStore) -> tuple[User, User, User]:
    agent = await store.create_user("Alice", Role.AGENT, "hash-agent", ts())
    carl = await store.create_user("Carl", Role.CUSTOMER, "hash-carl", ts())
    olga = await store.create_user("Olga", Role.CUSTOMER, "hash-olga", ts())
    return agent, carl, olga


def draft(customer: int, minute: float, title: str = "VPN drops", **kw: object) -> NewTicket:
    priority = kw.get("priority", Priority.HIGH)
    return NewTicket(
        title=title,
        description=str(kw.get("description", "The tunnel resets.")),
        priority=priority,  # type: ignore[arg-type]
        customer_id=customer,
        created_at=ts(minute),
        sla_due_at=ts(minute + 240),
    )


async def test_users_by_id_and_token_hash(store: TicketStore) -> None:
    agent, carl, _ = await users(store)
    assert await store.get_user(agent.id) == agent
    assert await store.user_by_token_hash("hash-carl") == carl
    assert await store.user_by_token_hash("nope") is None
    assert carl.role is Role.CUSTOMER and carl.created_at == ts()
    again = await store.ensure_user("Carl again", Role.CUSTOMER, "hash-carl", ts(5))
    assert again == carl
    boot = await store.ensure_user("admin", Role.ADMIN, "hash-admin", ts())
    assert boot.role is Role.ADMIN
    with pytest.raises(Conflict):
        await store.create_user("dup", Role.AGENT, "hash-agent", ts())


async def test_create_and_get_ticket(store: TicketStore) -> None:
    _, carl, _ = await users(store)
    ticket = await store.create_ticket(draft(carl.id, 0, priority=Priority.CRITICAL))
    assert ticket.status is Status.OPEN and ticket.priority is Priority.CRITICAL
    assert (ticket.created_at, ticket.updated_at, ticket.sla_due_at) == (ts(), ts(), ts(240))
    assert ticket.assignee_id is None and ticket.resolved_at is None and not ticket.sla_breached
    assert await store.get_ticket(ticket.id) == ticket
    assert await store.get_ticket(ticket.id + 1000) is None


async def test_list_filters_pages_newest_first(store: TicketStore) -> None:
    agent, carl, olga = await users(store)
    made = []
    for i in range(12):
        owner = carl if i % 3 else olga
        priority = Priority.LOW if i % 2 else Priority.HIGH
        made.append(await store.create_ticket(draft(owner.id, i, priority=priority)))
    await store.update_ticket(
        made[4].id,
        TicketPatch(updated_at=ts(30), status=Status.IN_PROGRESS, change_assignee=True,
                    assignee_id=agent.id),
    )  # fmt: skip

    everything = await store.list_tickets(TicketFilter(), 1, 5)
    assert (everything.total, everything.page, everything.per_page) == (12, 1, 5)
    assert [t.id for t in everything.items] == [t.id for t in reversed(made)][:5]
    last = await store.list_tickets(TicketFilter(), 3, 5)
    assert [t.id for t in last.items] == [made[1].id, made[0].id]
    beyond = await store.list_tickets(TicketFilter(), 4, 5)
    assert beyond.items == () and beyond.total == 12

    olgas = await store.list_tickets(TicketFilter(customer_id=olga.id), 1, 25)
    assert {t.customer_id for t in olgas.items} == {olga.id} and olgas.total == 4
    low = await store.list_tickets(TicketFilter(priority=Priority.LOW), 1, 25)
    assert low.total == 6 and {t.priority for t in low.items} == {Priority.LOW}
    mine = await store.list_tickets(TicketFilter(assignee_id=agent.id), 1, 25)
    assert [t.id for t in mine.items] == [made[4].id]
    combined = await store.list_tickets(
        TicketFilter(status=Status.OPEN, priority=Priority.HIGH, customer_id=carl.id), 1, 25
    )
    assert combined.total == 3
    assert all(t.status is Status.OPEN and t.customer_id == carl.id for t in combined.items)


async def test_update_status_priority_and_assignee(store: TicketStore) -> None:
    agent, carl, _ = await users(store)
    ticket = await store.create_ticket(draft(carl.id, 0))
    resolved = await store.update_ticket(
        ticket.id,
        TicketPatch(updated_at=ts(10), status=Status.RESOLVED, change_assignee=True,
                    assignee_id=agent.id),
    )  # fmt: skip
    assert resolved is not None
    assert (resolved.status, resolved.assignee_id) == (Status.RESOLVED, agent.id)
    assert (resolved.resolved_at, resolved.updated_at) == (ts(10), ts(10))
    closed = await store.update_ticket(
        ticket.id, TicketPatch(updated_at=ts(20), status=Status.CLOSED)
    )
    assert closed is not None and closed.resolved_at == ts(10)  # first resolution kept
    reopened = await store.update_ticket(
        ticket.id,
        TicketPatch(updated_at=ts(30), status=Status.OPEN, priority=Priority.LOW,
                    sla_due_at=ts(1440), change_assignee=True, assignee_id=None),
    )  # fmt: skip
    assert reopened is not None
    assert (reopened.status, reopened.priority, reopened.sla_due_at) == (
        Status.OPEN, Priority.LOW, ts(1440)
    )  # fmt: skip
    assert reopened.resolved_at is None and reopened.assignee_id is None
    untouched_assignee = await store.update_ticket(
        ticket.id, TicketPatch(updated_at=ts(40), priority=Priority.MEDIUM)
    )
    assert untouched_assignee is not None and untouched_assignee.status is Status.OPEN
    assert await store.update_ticket(9999, TicketPatch(updated_at=ts())) is None


async def test_comments_touch_the_ticket(store: TicketStore) -> None:
    agent, carl, _ = await users(store)
    ticket = await store.create_ticket(draft(carl.id, 0))
    first = await store.add_comment(ticket.id, carl.id, "Still broken", ts(5))
    second = await store.add_comment(ticket.id, agent.id, "Looking into it", ts(6))
    assert first is not None and second is not None
    assert [c.body for c in await store.list_comments(ticket.id)] == [
        "Still broken", "Looking into it"
    ]  # fmt: skip
    assert (await store.get_ticket(ticket.id)).updated_at == ts(6)  # type: ignore[union-attr]
    assert await store.add_comment(9999, carl.id, "lost", ts()) is None
    assert await store.list_comments(9999) == ()


async def test_search_covers_titles_descriptions_and_comments(store: TicketStore) -> None:
    _, carl, olga = await users(store)
    vpn = await store.create_ticket(draft(carl.id, 0, "VPN drops every 10 minutes"))
    invoice = await store.create_ticket(
        draft(olga.id, 1, "Invoice PDF missing line items", description="Finance noticed it")
    )
    printer = await store.create_ticket(draft(carl.id, 2, "Printer jams"))
    await store.add_comment(printer.id, carl.id, "The VPN also disconnects sometimes", ts(3))

    found = await store.search(("vpn",), None, 1, 25)
    assert found.total == 2 and {t.id for t in found.items} == {vpn.id, printer.id}
    assert found.items[0].id == vpn.id  # the title match ranks first
    assert [t.id for t in (await store.search(("finance",), None, 1, 25)).items] == [invoice.id]
    stemmed = await store.search(("drop",), None, 1, 25)  # porter: drops -> drop
    assert [t.id for t in stemmed.items] == [vpn.id]
    both = await store.search(("invoice", "missing"), None, 1, 25)
    assert [t.id for t in both.items] == [invoice.id]
    assert (await store.search(("invoice", "vpn"), None, 1, 25)).total == 0
    assert (await store.search(("invoice",), carl.id, 1, 25)).total == 0  # not Carl's
    paged = await store.search(("vpn",), None, 2, 1)
    assert paged.total == 2 and [t.id for t in paged.items] == [printer.id]
    beyond = await store.search(("vpn",), None, 3, 1)  # no row to carry the count: still 2
    assert beyond.items == () and beyond.total == 2
    assert (await store.search(('"OR',), None, 1, 25)).total == 0  # syntax is quoted away


async def test_sla_summary_and_breach_marking(store: TicketStore) -> None:
    _, carl, _ = await users(store)
    now = ts(300)

    async def ticket(priority: Priority, due_in: float, status: Status = Status.OPEN) -> int:
        t = await store.create_ticket(
            NewTicket("t", "d", priority, carl.id, ts(0), ts(300 + due_in))
        )
        if status is not Status.OPEN:
            await store.update_ticket(t.id, TicketPatch(updated_at=ts(1), status=status))
        return t.id

    await ticket(Priority.CRITICAL, -10)  # overdue
    await ticket(Priority.CRITICAL, 10)  # due soon
    await ticket(Priority.CRITICAL, 100)  # fine
    await ticket(Priority.CRITICAL, -10, Status.RESOLVED)  # resolved: not counted
    await ticket(Priority.LOW, 5, Status.WAITING)  # due soon
    soon = {p: ts(300 + 15) for p in Priority}
    rows = {r.priority: r for r in await store.sla_summary(now, soon)}
    assert (rows[Priority.CRITICAL].open, rows[Priority.CRITICAL].breached) == (3, 1)
    assert rows[Priority.CRITICAL].due_soon == 1
    assert (rows[Priority.LOW].open, rows[Priority.LOW].due_soon) == (1, 1)
    assert (rows[Priority.HIGH].open, rows[Priority.HIGH].breached) == (0, 0)

    assert (await store.mark_breached(now))[Priority.CRITICAL] == 1
    assert sum((await store.mark_breached(now)).values()) == 0
    counts = await store.open_counts()
    assert counts == {Priority.CRITICAL: 3, Priority.HIGH: 0, Priority.MEDIUM: 0, Priority.LOW: 1}
    rows = {r.priority: r for r in await store.sla_summary(now, soon)}
    assert rows[Priority.CRITICAL].breached == 1


async def test_bulk_load_maps_batch_indexes_to_ids(store: TicketStore) -> None:
    await store.create_user("existing", Role.AGENT, "hash-existing", ts())
    batch = SeedBatch(
        users=(
            SeedUser("Agent", Role.AGENT, "h1", ts()),
            SeedUser("Customer", Role.CUSTOMER, "h2", ts()),
        ),
        tickets=(
            SeedTicket("Wi-Fi", "d", Priority.LOW, Status.OPEN, 1, None, ts(), ts(), ts(1440),
                       False, None),
            SeedTicket("SSO loop", "d", Priority.HIGH, Status.RESOLVED, 1, 0, ts(), ts(9),
                       ts(240), False, ts(9)),
        ),
        comments=(SeedComment(1, 0, "Fixed the redirect URI", ts(8)),),
    )  # fmt: skip
    await store.bulk_load(batch)
    agent = await store.user_by_token_hash("h1")
    customer = await store.user_by_token_hash("h2")
    assert agent is not None and customer is not None
    page = await store.list_tickets(TicketFilter(customer_id=customer.id), 1, 10)
    assert [t.title for t in page.items] == ["SSO loop", "Wi-Fi"]
    sso = page.items[0]
    assert sso.assignee_id == agent.id and sso.resolved_at == ts(9)
    comments = await store.list_comments(sso.id)
    assert [(c.author_id, c.body) for c in comments] == [(agent.id, "Fixed the redirect URI")]
    assert (await store.search(("redirect",), None, 1, 5)).items[0].id == sso.id


async def test_bulk_load_conflicts_are_reported(store: TicketStore) -> None:
    await store.create_user("existing", Role.AGENT, "taken", ts())
    batch = SeedBatch((SeedUser("Again", Role.AGENT, "taken", ts()),), (), ())
    with pytest.raises(Conflict):
        await store.bulk_load(batch)
    assert await store.get_user(2) is None  # nothing half-loaded


async def test_ping_and_pool_stats(store: TicketStore) -> None:
    await store.ping()
    stats = store.pool_stats()
    assert stats.max_size == 4 and 1 <= stats.size <= 4
    assert stats.in_use == 0 and stats.idle == stats.size and stats.waiting == 0
