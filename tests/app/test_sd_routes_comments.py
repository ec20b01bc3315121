import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_thread_on_a_ticket(client: httpx.AsyncClient, new_ticket, customer, agent) -> None:
    ticket = await new_ticket(customer)
    url = f"/api/tickets/{ticket['id']}/comments"
    assert (await client.get(f"/api/tickets/{ticket['id']}", headers=agent.headers)).is_success
    first = await client.post(url, json={"body": "Any news?"}, headers=customer.headers)
    assert first.status_code == 201
    assert first.json()["author_id"] == customer.id and first.json()["ticket_id"] == ticket["id"]
    await client.post(url, json={"body": "On it"}, headers=agent.headers)
    thread = (await client.get(url, headers=customer.headers)).json()["items"]
    assert [c["body"] for c in thread] == ["Any news?", "On it"]
    refreshed = (await client.get(f"/api/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert refreshed["updated_at"] == thread[-1]["created_at"]  # the cached copy was dropped


async def test_customers_cannot_touch_other_threads(
    client: httpx.AsyncClient, new_ticket, customer, other_customer
) -> None:
    ticket = await new_ticket(other_customer)
    url = f"/api/tickets/{ticket['id']}/comments"
    assert (await client.get(url, headers=customer.headers)).status_code == 404
    post = await client.post(url, json={"body": "hi"}, headers=customer.headers)
    assert post.status_code == 404


async def test_comment_validation_and_missing_tickets(
    client: httpx.AsyncClient, new_ticket, customer, agent
) -> None:
    ticket = await new_ticket(customer)
    url = f"/api/tickets/{ticket['id']}/comments"
    assert (await client.post(url, json={"body": " "}, headers=customer.headers)).status_code == 422
    missing = await client.post(
        "/api/tickets/999/comments", json={"body": "x"}, headers=agent.headers
    )
    assert missing.status_code == 404
