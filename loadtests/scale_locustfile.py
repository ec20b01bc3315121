"""Agents at the Monday-morning peak (the `scale` scenario): every agent refreshes the views
they keep open — the priority queue (50 tickets a page), searches, the SLA board — and opens a
ticket now and then. Reads only, so the database (SQLite when embedded) is not what limits.

These are the app's heavier requests (about 2 ms of CPU each here, against well under 1 ms for a
cached ticket read), so the replicas' CPU, which the HPA watches, crosses the target at a request
rate the load generator sends with CPU to spare on a 2-core machine; with the bundled mix the
generator would need about as much CPU per request as the app. Responses are not parsed (the
generator's CPU stays small) except the first queue page, for ticket ids.

Tokens as in locustfile.py: SERVICEDESK_TOKENS_FILE, else SERVICEDESK_API_TOKEN.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
from itertools import count

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PRIORITIES = ("critical", "high", "medium", "low")
SEARCH_TERMS = (
    "vpn", "password", "invoice", "printer", "email", "login", "slow", "crash", "refund",
    "export", "laptop", "outlook", "billing", "timeout", "error 500", "mfa", "license",
)


def _agent_tokens() -> list[str]:
    path = os.environ.get("SERVICEDESK_TOKENS_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return list(json.load(handle)["agents"])
    return [os.environ.get("SERVICEDESK_API_TOKEN", "")]


TOKENS = _agent_tokens()
_numbers = count()


class PeakAgent(FastHttpUser):
    wait_time = between(0.5, 2.0)  # closed-model stages only; rate stages pace every request

    def on_start(self) -> None:
        self.client.auth_header = f"Bearer {TOKENS[next(_numbers) % len(TOKENS)]}"
        self.ids = [1]
        response = self.client.get("/api/tickets?status=open&per_page=50", name="/api/tickets")
        with contextlib.suppress(Exception):  # a failed request is counted by Locust
            self.ids = [item["id"] for item in response.json()["items"]] or [1]

    @task(4)
    def queue(self) -> None:
        priority = random.choice(PRIORITIES)
        self.client.get(f"/api/tickets?status=open&priority={priority}&per_page=50",
                        name="/api/tickets")

    @task(3)
    def search(self) -> None:
        self.client.get(f"/api/search?q={random.choice(SEARCH_TERMS)}&per_page=20",
                        name="/api/search")

    @task(2)
    def sla_board(self) -> None:
        self.client.get("/api/sla/summary", name="/api/sla/summary")

    @task(2)
    def open_ticket(self) -> None:
        self.client.get(f"/api/tickets/{random.choice(self.ids)}", name="/api/tickets/{id}")
