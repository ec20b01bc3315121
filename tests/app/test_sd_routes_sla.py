import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_summary_per_priority(client: httpx.AsyncClient, new_ticket, customer, agent) -> None:
    await new_ticket(customer, priority="critical")
    await new_ticket(customer, priority="low")
    done = await new_ticket(customer, priority="low")
    await client.patch(
        f"/api/tickets/{done['id']}", json={"status": "closed"}, headers=agent.headers
    )
    response = await client.get("/api/sla/summary", headers=agent.headers)
    assert response.status_code == 200
    assert response.json() == {
        "critical": {"open": 1, "breached": 0, "due_soon": 0},
        "high": {"open": 0, "breached": 0, "due_soon": 0},
        "medium": {"open": 0, "breached": 0, "due_soon": 0},
        "low": {"open": 1, "breached": 0, "due_soon": 0},
    }


async def test_summary_is_for_staff(client: httpx.AsyncClient, customer) -> None:
    assert (await client.get("/api/sla/summary", headers=customer.headers)).status_code == 403
