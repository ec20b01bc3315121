"""Agents at the Monday-morning peak (the `scale` scenario): every agent keeps the priority queue
open (the triage view: open tickets of one priority, 100 a page) and refreshes it, and opens a
ticket now and then. Reads only.

The HPA watches the replicas' CPU, and on one machine the database and the load generator share
the cores with them, so the mix is the one whose CPU goes to the replicas. Measured in the surge
on `--stack local` (822 req/s): the replicas 0.89 of a core (about 1.1 ms a request: rows decoded,
JSON encoded), the load generator 0.36, PostgreSQL 0.25. Searches (about 4 ms of PostgreSQL's CPU
each) and the SLA board (an aggregate PostgreSQL computes) put the cost on the database instead:
with them in the mix, the surge wanted more than two cores and queued (p95 37.6 s). Responses
are not parsed (the generator's CPU stays small) except the first queue page, for ticket ids.

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

    @task(10)
    def queue(self) -> None:
        priority = random.choice(PRIORITIES)
        self.client.get(f"/api/tickets?status=open&priority={priority}&per_page=100",
                        name="/api/tickets")

    @task(1)
    def open_ticket(self) -> None:
        self.client.get(f"/api/tickets/{random.choice(self.ids)}", name="/api/tickets/{id}")
