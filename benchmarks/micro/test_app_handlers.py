"""The app's main handlers, in-process through the ASGI interface (no sockets, no server)."""

from __future__ import annotations

import itertools

from benchmarks.micro.conftest import TICKETS, InProcessApp


def test_get_ticket_cached(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    app.call("GET", "/api/tickets/42", headers=headers)  # warm the cache
    response = benchmark(app.call, "GET", "/api/tickets/42", headers=headers)
    assert response.status_code == 200 and response.json()["id"] == 42


def test_get_ticket_uncached(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    ids = itertools.cycle(range(1, TICKETS + 1))

    def fetch() -> int:
        response = app.call("GET", f"/api/tickets/{next(ids)}", headers=headers)
        return response.status_code

    # the cache keeps bodies for 30 s: cycling through every ticket mostly misses it
    assert benchmark.pedantic(fetch, rounds=200, iterations=1) == 200


def test_list_tickets(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    response = benchmark(app.call, "GET", "/api/tickets", headers=headers,
                         params={"status": "open", "per_page": "25"})
    assert response.status_code == 200


def test_search(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    response = benchmark(app.call, "GET", "/api/search", headers=headers,
                         params={"q": "vpn", "per_page": "20"})
    assert response.status_code == 200


def test_create_ticket(benchmark, app: InProcessApp) -> None:
    headers = {"Authorization": f"Bearer {app.agent_token}"}
    body = {"title": "Printer on floor 3 jams", "description": "Every second page.",
            "priority": "medium"}
    response = benchmark.pedantic(app.call, args=("POST", "/api/tickets"),
                                  kwargs={"headers": headers, "json": body},
                                  rounds=100, iterations=1)
    assert response.status_code == 201, response.text
