"""Realistic ServiceDesk behaviour for Locust (FastHttpUser).

Two kinds of people use ServiceDesk:

* Agents (weight 1) work the queue: they list open tickets by priority (5), open a ticket (6),
  search (3), change status/assignee/priority (2), comment (2) and glance at the SLA board (1).
* Customers (weight 3) open tickets (2), check their list (4), open one of theirs (4) and
  comment on it (1).

Weights are relative task frequencies; think time is 0.5-2 s. Request names are the API's route
templates ("/api/tickets/{id}"), so client and server metrics line up.

Tokens come from the file named by SERVICEDESK_TOKENS_FILE ({"agents": [...], "customers": [...]},
written when the harness seeds the stack) or, for a stack seeded elsewhere, from
SERVICEDESK_API_TOKEN for every user.
"""

from __future__ import annotations

import json
import os
import random
from itertools import count

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PRIORITIES = ("critical", "high", "medium", "low")
PRIORITY_WEIGHTS = (1, 3, 5, 3)
STATUSES = ("open", "in_progress", "waiting", "resolved")
SEARCH_TERMS = (
    "vpn", "password", "invoice", "printer", "email", "login", "slow", "crash", "refund",
    "export", "laptop", "outlook", "billing", "timeout", "error 500", "mfa", "license",
)
SUBJECTS = (
    ("VPN disconnects every few minutes", "Since this morning the VPN drops and reconnects."),
    ("Invoice PDF is missing line items", "The March invoice shows a total but no items."),
    ("Cannot reset my password", "The reset email never arrives, checked spam too."),
    ("Export to CSV times out", "Exporting last quarter's report fails after a minute."),
    ("Printer on floor 3 offline", "Jobs stay queued; the printer shows ready."),
    ("Refund not received", "Order cancelled two weeks ago, refund still pending."),
    ("MFA codes rejected", "The authenticator codes are refused at login."),
    ("Outlook keeps asking for credentials", "Prompt appears every ten minutes."),
)


def _tokens() -> tuple[list[str], list[str]]:
    path = os.environ.get("SERVICEDESK_TOKENS_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return list(data["agents"]), list(data["customers"])
    token = os.environ.get("SERVICEDESK_API_TOKEN", "")
    return [token], [token]


AGENT_TOKENS, CUSTOMER_TOKENS = _tokens()
_user_numbers = count()


class ServiceDeskUser(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    tokens: list[str] = []

    def on_start(self) -> None:
        token = self.tokens[next(_user_numbers) % len(self.tokens)]
        # FastHttpSession sends auth_header with every request.
        self.client.auth_header = f"Bearer {token}"
        self.known_ids: list[int] = []

    def remember(self, response) -> None:  # type: ignore[no-untyped-def]
        try:
            items = response.json().get("items", [])
        except Exception:  # a failed request is already counted by Locust
            return
        ids = [item["id"] for item in items if "id" in item]
        if ids:
            self.known_ids = (ids + self.known_ids)[:50]

    def a_ticket(self) -> int | None:
        return random.choice(self.known_ids) if self.known_ids else None


class AgentUser(ServiceDeskUser):
    weight = 1
    tokens = AGENT_TOKENS

    @task(5)
    def triage_queue(self) -> None:
        priority = random.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]
        response = self.client.get(
            f"/api/tickets?status=open&priority={priority}&per_page=25", name="/api/tickets"
        )
        self.remember(response)

    @task(6)
    def open_ticket(self) -> None:
        ticket = self.a_ticket()
        if ticket is None:
            return self.triage_queue()
        self.client.get(f"/api/tickets/{ticket}", name="/api/tickets/{id}")
        return None

    @task(3)
    def search(self) -> None:
        term = random.choice(SEARCH_TERMS)
        self.client.get(f"/api/search?q={term}&per_page=20", name="/api/search")

    @task(2)
    def update_ticket(self) -> None:
        ticket = self.a_ticket()
        if ticket is None:
            return
        change = random.choice(
            (
                {"status": random.choice(STATUSES)},
                {"priority": random.choices(PRIORITIES, PRIORITY_WEIGHTS)[0]},
                {"status": "in_progress"},
            )
        )
        self.client.patch(f"/api/tickets/{ticket}", json=change, name="/api/tickets/{id}")

    @task(2)
    def comment(self) -> None:
        ticket = self.a_ticket()
        if ticket is None:
            return
        self.client.post(
            f"/api/tickets/{ticket}/comments",
            json={"body": "Thanks, we are looking into it and will update you shortly."},
            name="/api/tickets/{id}/comments",
        )

    @task(1)
    def sla_board(self) -> None:
        self.client.get("/api/sla/summary", name="/api/sla/summary")


class CustomerUser(ServiceDeskUser):
    weight = 3
    tokens = CUSTOMER_TOKENS

    @task(2)
    def open_new_ticket(self) -> None:
        title, description = random.choice(SUBJECTS)
        response = self.client.post(
            "/api/tickets",
            json={
                "title": title,
                "description": description,
                "priority": random.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
            },
            name="/api/tickets",
        )
        try:
            ticket = response.json()["id"]
        except Exception:  # a failed request is already counted by Locust
            return
        self.known_ids = ([ticket] + self.known_ids)[:50]

    @task(4)
    def my_tickets(self) -> None:
        self.remember(self.client.get("/api/tickets?per_page=10", name="/api/tickets"))

    @task(4)
    def check_ticket(self) -> None:
        ticket = self.a_ticket()
        if ticket is None:
            return self.my_tickets()
        self.client.get(f"/api/tickets/{ticket}", name="/api/tickets/{id}")
        return None

    @task(1)
    def reply(self) -> None:
        ticket = self.a_ticket()
        if ticket is None:
            return
        self.client.post(
            f"/api/tickets/{ticket}/comments",
            json={"body": "Any news on this? It is still happening."},
            name="/api/tickets/{id}/comments",
        )
