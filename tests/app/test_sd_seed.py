import json
import random
import stat
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from servicedesk.auth import hash_token
from servicedesk.models import UNRESOLVED, Role
from servicedesk.seed import SeedError, SeedSpec, SeedTokens, generate, seed_database, write_tokens
from servicedesk.settings import load_settings
from servicedesk.sla import SlaPolicy
from servicedesk.timestamps import format_ts, parse_ts

pytestmark = pytest.mark.anyio

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
SPEC = SeedSpec(tickets=2000, agents=10, customers=50, seed=11)


def build(seed: int = 11, admin_token: str | None = None):  # noqa: ANN201
    return generate(
        SPEC,
        rng=random.Random(seed),
        now=NOW,
        sla=SlaPolicy.from_settings(load_settings({})),
        admin_token=admin_token,
        token_rng=random.Random(f"tokens-{seed}"),
    )


def test_same_seed_same_data_and_tokens() -> None:
    assert build(11) == build(11)
    assert build(11)[1] != build(12)[1]


def test_users_and_tokens_line_up() -> None:
    batch, tokens = build()
    roles = Counter(u.role for u in batch.users)
    assert roles == {Role.ADMIN: 1, Role.AGENT: 10, Role.CUSTOMER: 50}
    assert batch.users[0].token_hash == hash_token(tokens.admin)
    assert [u.token_hash for u in batch.users[1:11]] == [hash_token(t) for t in tokens.agents]
    assert len(set(tokens.customers)) == 50
    with_admin, admin_tokens = build(admin_token="from-env")
    assert admin_tokens.admin == "from-env"
    assert Counter(u.role for u in with_admin.users)[Role.ADMIN] == 0  # ensured separately


def test_tickets_look_like_a_month_of_help_desk_work() -> None:
    batch, _ = build()
    tickets = batch.tickets
    assert len(tickets) == 2000
    assert len({t.title for t in tickets}) > 60
    assert any("VPN drops every" in t.title for t in tickets)
    assert all(len(t.description) > 40 for t in tickets)
    created = [parse_ts(t.created_at) for t in tickets]
    assert min(created) >= NOW - timedelta(days=30) and max(created) <= NOW
    assert max(created) - min(created) > timedelta(days=25)
    assert len({t.priority for t in tickets}) == 4 and len({t.status for t in tickets}) == 5
    unresolved = [t for t in tickets if t.status in UNRESOLVED]
    breached = [t for t in unresolved if t.sla_breached]
    assert 0 < len(breached) < len(unresolved)
    for t in tickets:
        overdue = t.sla_due_at < format_ts(NOW)
        if t.status in UNRESOLVED:
            assert t.sla_breached == overdue and t.resolved_at is None
        else:
            assert t.resolved_at is not None and t.assignee is not None
    users = batch.users
    assert all(users[t.customer].role is Role.CUSTOMER for t in tickets)
    assert all(users[t.assignee].role is Role.AGENT for t in tickets if t.assignee is not None)
    assert len(batch.comments) > len(tickets)
    for c in batch.comments[:200]:
        assert tickets[c.ticket].created_at <= c.created_at <= tickets[c.ticket].updated_at


def test_tokens_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("old")
    path.chmod(0o644)
    write_tokens(path, SeedTokens("a", ("b",), ("c", "d")))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"admin": "a", "agents": ["b"], "customers": ["c", "d"]}


async def test_seed_database_end_to_end(tmp_path: Path) -> None:
    from servicedesk.metrics import Metrics
    from servicedesk.models import TicketFilter
    from servicedesk.store import build_store

    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/seed.db"})
    spec = SeedSpec(tickets=300, agents=3, customers=10, seed=5)
    tokens = await seed_database(settings, spec, tmp_path / "tokens.json")
    store = build_store(settings.for_cli(), Metrics())
    await store.open()
    try:
        assert (await store.list_tickets(TicketFilter(), 1, 1)).total == 300
        customer = await store.user_by_token_hash(hash_token(tokens.customers[0]))
        assert customer is not None and customer.role is Role.CUSTOMER
        assert (await store.search(("vpn",), None, 1, 1)).total > 0
    finally:
        await store.close()
    with pytest.raises(SeedError, match="already holds the users of --seed 5"):
        await seed_database(settings, spec, tmp_path / "again.json")
