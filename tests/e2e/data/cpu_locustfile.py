"""Agents re-reading tickets they know, with little think time: cache hits, so the cost of a
request is the app's own CPU (made heavier on purpose by the scenario's ARTIFICIAL_CPU_MS)."""

import json
import os
import random

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Reader(FastHttpUser):
    wait_time = constant(0.05)

    def on_start(self) -> None:
        with open(os.environ["SERVICEDESK_TOKENS_FILE"], encoding="utf-8") as handle:
            tokens = json.load(handle)["agents"]
        self.client.auth_header = f"Bearer {random.choice(tokens)}"
        listing = self.client.get("/api/tickets?per_page=20", name="/api/tickets")
        try:
            self.ids = [item["id"] for item in listing.json()["items"]] or [1]
        except Exception:  # the failed request is counted by Locust
            self.ids = [1]

    @task
    def read(self) -> None:
        self.client.get(f"/api/tickets/{random.choice(self.ids)}", name="/api/tickets/{id}")
