"""A steady, think-time-light load of full-text searches and queue listings: database-heavy."""

import json
import os
import random

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

TERMS = ("vpn", "invoice", "password", "printer", "refund", "outlook", "export", "login")


class Searcher(FastHttpUser):
    wait_time = constant(0.05)

    def on_start(self) -> None:
        with open(os.environ["SERVICEDESK_TOKENS_FILE"], encoding="utf-8") as handle:
            tokens = json.load(handle)["agents"]
        self.client.auth_header = f"Bearer {random.choice(tokens)}"

    @task(3)
    def search(self) -> None:
        self.client.get(f"/api/search?q={random.choice(TERMS)}&per_page=20", name="/api/search")

    @task(1)
    def queue(self) -> None:
        self.client.get("/api/tickets?status=open&per_page=25", name="/api/tickets")
