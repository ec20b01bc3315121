import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_search_titles_descriptions_comments(
    client: httpx.AsyncClient, new_ticket, customer, other_customer, agent
) -> None:
    vpn = await new_ticket(customer, title="VPN drops every 10 minutes")
    invoice = await new_ticket(
        other_customer, title="Invoice PDF missing line items", description="Finance"
    )
    printer = await new_ticket(customer, title="Printer jams")
    await client.post(
        f"/api/tickets/{printer['id']}/comments",
        json={"body": "Also the VPN client crashed"},
        headers=customer.headers,
    )
    found = (await client.get("/api/search?q=vpn", headers=agent.headers)).json()
    assert found["total"] == 2 and found["terms"] == ["vpn"]
    assert [t["id"] for t in found["items"]] == [vpn["id"], printer["id"]]
    finance = await client.get("/api/search", params={"q": "finance"}, headers=agent.headers)
    assert [t["id"] for t in finance.json()["items"]] == [invoice["id"]]
    own = await client.get("/api/search?q=invoice", headers=customer.headers)
    assert own.json()["total"] == 0
    paged = (await client.get("/api/search?q=vpn&per_page=1&page=2", headers=agent.headers)).json()
    assert [t["id"] for t in paged["items"]] == [printer["id"]] and paged["total"] == 2


async def test_search_needs_words(client: httpx.AsyncClient, agent) -> None:
    assert (await client.get("/api/search?q=%20", headers=agent.headers)).status_code == 422
    assert (await client.get("/api/search", headers=agent.headers)).status_code == 422
