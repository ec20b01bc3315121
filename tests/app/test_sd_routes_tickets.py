from datetime import datetime, timedelta

import httpx
import pytest
from servicedesk.metrics import Metrics

pytestmark = pytest.mark.anyio


def cache_hits(metrics: Metrics, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "servicedesk_cache_requests_total", {"result": result}
    )
    return value or 0.0


async def test_create_sets_owner_status_and_sla(
    client: httpx.AsyncClient, new_ticket, customer, metrics: Metrics
) -> None:
    ticket = await new_ticket(customer, priority="critical")
    assert ticket["customer_id"] == customer.id
    assert (ticket["status"], ticket["priority"], ticket["assignee_id"]) == (
        "open", "critical", None
    )  # fmt: skip
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["sla_due_at"]) - created == timedelta(minutes=60)
    assert ticket["sla_breached"] is False and ticket["resolved_at"] is None
    sample = metrics.registry.get_sample_value
    assert sample("servicedesk_tickets_created_total", {"priority": "critical"}) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "description": "d", "priority": "high"},
        {"title": "t", "description": "d", "priority": "urgent"},
        {"title": "t", "priority": "high"},
        {"title": "x" * 201, "description": "d", "priority": "high"},
    ],
)
async def test_bad_tickets_are_422(client: httpx.AsyncClient, customer, body: dict) -> None:
    response = await client.post("/api/tickets", json=body, headers=customer.headers)
    assert response.status_code == 422


async def test_get_goes_through_the_cache_and_patch_invalidates_it(
    client: httpx.AsyncClient, new_ticket, customer, agent, metrics: Metrics
) -> None:
    ticket = await new_ticket(customer)
    url = f"/api/tickets/{ticket['id']}"
    first = await client.get(url, headers=agent.headers)
    second = await client.get(url, headers=customer.headers)
    assert first.json() == second.json() == ticket
    assert (cache_hits(metrics, "miss"), cache_hits(metrics, "hit")) == (1, 1)
    patched = await client.patch(url, json={"status": "in_progress"}, headers=agent.headers)
    assert patched.status_code == 200 and patched.json()["status"] == "in_progress"
    after = await client.get(url, headers=agent.headers)
    assert after.json()["status"] == "in_progress"
    assert cache_hits(metrics, "miss") == 2


async def test_customers_only_see_their_own(
    client: httpx.AsyncClient, new_ticket, customer, other_customer, agent
) -> None:
    mine = await new_ticket(customer, title="Mine")
    theirs = await new_ticket(other_customer, title="Theirs")
    url = f"/api/tickets/{theirs['id']}"
    assert (await client.get(url, headers=agent.headers)).status_code == 200  # warm the cache
    hidden = await client.get(url, headers=customer.headers)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    listed = (await client.get("/api/tickets", headers=customer.headers)).json()
    assert [t["id"] for t in listed["items"]] == [mine["id"]] and listed["total"] == 1
    query = {"customer_id": str(other_customer.id)}
    snooping = await client.get("/api/tickets", params=query, headers=customer.headers)
    assert snooping.status_code == 403
    assert (await client.get("/api/tickets", params=query, headers=agent.headers)).json()[
        "total"
    ] == 1


async def test_list_filters_and_pagination(
    client: httpx.AsyncClient, new_ticket, customer, agent
) -> None:
    made = [
        await new_ticket(customer, title=f"T{i}", priority=("low" if i % 2 else "high"))
        for i in range(7)
    ]
    await client.patch(
        f"/api/tickets/{made[2]['id']}",
        json={"assignee_id": agent.id, "status": "waiting"},
        headers=agent.headers,
    )
    page = (await client.get("/api/tickets?per_page=3&page=2", headers=agent.headers)).json()
    assert (page["page"], page["per_page"], page["total"]) == (2, 3, 7)
    assert [t["title"] for t in page["items"]] == ["T3", "T2", "T1"]
    low = (await client.get("/api/tickets?priority=low", headers=agent.headers)).json()
    assert low["total"] == 3
    assigned = await client.get(
        f"/api/tickets?assignee_id={agent.id}&status=waiting", headers=agent.headers
    )
    assert [t["id"] for t in assigned.json()["items"]] == [made[2]["id"]]
    for bad in ("per_page=101", "page=0", "status=lost", "priority=urgent", "assignee_id=x"):
        response = await client.get(f"/api/tickets?{bad}", headers=agent.headers)
        assert response.status_code == 422, bad


async def test_patch_rules(client: httpx.AsyncClient, new_ticket, customer, agent, admin) -> None:
    ticket = await new_ticket(customer, priority="low")
    url = f"/api/tickets/{ticket['id']}"
    forbidden = await client.patch(url, json={"status": "closed"}, headers=customer.headers)
    assert forbidden.status_code == 403
    reprioritised = await client.patch(url, json={"priority": "critical"}, headers=admin.headers)
    body = reprioritised.json()
    due = datetime.fromisoformat(body["sla_due_at"]) - datetime.fromisoformat(body["created_at"])
    assert due == timedelta(minutes=60)
    resolved = (await client.patch(url, json={"status": "resolved"}, headers=agent.headers)).json()
    assert resolved["resolved_at"] is not None
    assigned = await client.patch(url, json={"assignee_id": agent.id}, headers=agent.headers)
    assert assigned.json()["assignee_id"] == agent.id
    unassigned = await client.patch(url, json={"assignee_id": None}, headers=agent.headers)
    assert unassigned.json()["assignee_id"] is None
    for bad in ({}, {"status": "lost"}, {"assignee_id": customer.id}, {"assignee_id": 9999}):
        response = await client.patch(url, json=bad, headers=agent.headers)
        assert response.status_code == 422, bad
    missing = await client.patch(
        "/api/tickets/9999", json={"status": "open"}, headers=agent.headers
    )
    assert missing.status_code == 404
    assert (await client.get("/api/tickets/9999", headers=agent.headers)).status_code == 404
