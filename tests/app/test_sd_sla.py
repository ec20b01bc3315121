from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from servicedesk.metrics import Metrics
from servicedesk.models import NewTicket, Priority, Role, Status, TicketPatch
from servicedesk.settings import load_settings
from servicedesk.sla import DUE_SOON_FRACTION, SlaPolicy, SlaSweeper
from servicedesk.store.sqlite import SqliteTicketStore
from servicedesk.timestamps import format_ts

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def policy() -> SlaPolicy:
    return SlaPolicy.from_settings(load_settings({}))


def test_due_at_follows_the_priority_response_window() -> None:
    p = policy()
    assert p.due_at(T0, Priority.CRITICAL) == T0 + timedelta(minutes=60)
    assert p.due_at(T0, Priority.HIGH) == T0 + timedelta(minutes=240)
    assert p.due_at(T0, Priority.MEDIUM) == T0 + timedelta(minutes=480)
    assert p.due_at(T0, Priority.LOW) == T0 + timedelta(minutes=1440)
    assert p.due_ts(format_ts(T0), Priority.HIGH) == "2024-05-01T16:00:00.000Z"


def test_windows_come_from_settings() -> None:
    p = SlaPolicy.from_settings(load_settings({"SLA_RESPONSE_MINUTES_CRITICAL": "5"}))
    assert p.due_at(T0, Priority.CRITICAL) == T0 + timedelta(minutes=5)


def test_due_soon_is_the_last_fraction_of_each_window() -> None:
    until = policy().due_soon_until(T0)
    assert DUE_SOON_FRACTION == 0.25
    assert until[Priority.CRITICAL] == format_ts(T0 + timedelta(minutes=15))
    assert until[Priority.LOW] == format_ts(T0 + timedelta(minutes=360))


async def _store(path: Path, metrics: Metrics) -> SqliteTicketStore:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{path}", "DB_POOL_MIN": "1"})
    store = SqliteTicketStore.from_settings(settings, metrics)
    await store.open()
    await store.migrate()
    return store


async def test_each_breach_is_counted_once_across_replicas(tmp_path: Path) -> None:
    db = tmp_path / "sla.db"
    metrics_a, metrics_b = Metrics(CollectorRegistry()), Metrics(CollectorRegistry())
    store_a, store_b = await _store(db, metrics_a), await _store(db, metrics_b)
    try:
        user = await store_a.create_user("c", Role.CUSTOMER, "h", format_ts(T0))
        p = policy()
        created = []
        for priority in (Priority.CRITICAL, Priority.CRITICAL, Priority.LOW):
            created.append(
                await store_a.create_ticket(
                    NewTicket("t", "d", priority, user.id, format_ts(T0),
                              format_ts(p.due_at(T0, priority)))
                )
            )  # fmt: skip
        # one critical ticket is resolved in time: never breached
        await store_a.update_ticket(
            created[1].id, TicketPatch(updated_at=format_ts(T0), status=Status.RESOLVED)
        )
        clock = [T0 + timedelta(minutes=61)]
        a = SlaSweeper(store=store_a, metrics=metrics_a, interval=1, now=lambda: clock[0])
        b = SlaSweeper(store=store_b, metrics=metrics_b, interval=1, now=lambda: clock[0])
        first = await a.sweep_once()
        second = await b.sweep_once()
        assert first[Priority.CRITICAL] == 1 and first[Priority.LOW] == 0
        assert sum(second.values()) == 0
        clock[0] = T0 + timedelta(days=2)
        later = await b.sweep_once()
        assert later[Priority.LOW] == 1

        def breaches(m: Metrics, priority: str) -> float:
            return (
                m.registry.get_sample_value(
                    "servicedesk_sla_breaches_total", {"priority": priority}
                )
                or 0.0
            )

        total = {
            pr: breaches(metrics_a, pr) + breaches(metrics_b, pr) for pr in ("critical", "low")
        }
        assert total == {"critical": 1.0, "low": 1.0}
        assert (await store_a.get_ticket(created[0].id)).sla_breached  # type: ignore[union-attr]
        assert not (await store_a.get_ticket(created[1].id)).sla_breached  # type: ignore[union-attr]
        open_critical = metrics_b.registry.get_sample_value(
            "servicedesk_tickets_open", {"priority": "critical"}
        )
        assert open_critical == 1.0
    finally:
        await store_a.close()
        await store_b.close()


async def test_a_failing_sweep_is_retried(tmp_path: Path) -> None:
    import asyncio

    calls = []

    class FlakyStore:
        async def mark_breached(self, now: str) -> dict:
            calls.append(now)
            if len(calls) == 1:
                raise RuntimeError("database is locked")
            return dict.fromkeys(Priority, 0)

        async def open_counts(self) -> dict:
            return dict.fromkeys(Priority, 3)

    metrics = Metrics(CollectorRegistry())
    sweeper = SlaSweeper(store=FlakyStore(), metrics=metrics, interval=0.01, now=lambda: T0)  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(sweeper.run())
    for _ in range(200):
        if len(calls) >= 2:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(calls) >= 2
    assert metrics.registry.get_sample_value("servicedesk_tickets_open", {"priority": "low"}) == 3
