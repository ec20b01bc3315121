"""A ledger of acknowledged writes: tickets created through the API at a steady pace, each
with the moment its 201 arrived, so that after a restore the drill can count what was lost."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.background import BackgroundLoop

__all__ = ["Ack", "AckWriter"]


@dataclass(frozen=True)
class Ack:
    title: str  # unique: the drill looks the ticket up by it after the restore
    ticket_id: int
    t: float  # epoch seconds the 201 arrived


class AckWriter(BackgroundLoop):
    """Creates one ticket every `period` seconds through `service_url` until stopped (at most
    `limit` tickets and `lifetime` seconds), recording every acknowledged one.

    Attributes:
        acks: tickets the API acknowledged (201), in order.
        failures: (epoch seconds, what went wrong) for every attempt that was not acknowledged.
    """

    def __init__(self, service_url: str, tokens_file: Path, *, run: str, period: float = 0.2,
                 limit: int = 20_000, lifetime: float = 3600.0) -> None:
        super().__init__("drill-writer", join_timeout=15)
        tokens = json.loads(tokens_file.read_text(encoding="utf-8"))
        self.token = (tokens.get("customers") or tokens.get("agents"))[0]
        self.service_url = service_url.rstrip("/")
        self.run = run
        self.period = period
        self.limit = limit
        self.lifetime = lifetime
        self.acks: list[Ack] = []
        self.failures: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._halt()

    def snapshot(self) -> tuple[list[Ack], list[tuple[float, str]]]:
        with self._lock:
            return list(self.acks), list(self.failures)

    def first_ack_after(self, t: float) -> Ack | None:
        with self._lock:
            return next((a for a in self.acks if a.t > t), None)

    def _loop(self) -> None:
        deadline = time.monotonic() + self.lifetime
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=5.0, headers=headers) as client:
            for seq in range(1, self.limit + 1):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                title = f"drill {self.run} write {seq}"
                try:
                    response = client.post(f"{self.service_url}/api/tickets", json={
                        "title": title, "description": "written by the backup-restore drill",
                        "priority": "low"})
                    acknowledged = response.status_code == 201
                    outcome = "" if acknowledged else f"HTTP {response.status_code}"
                    ticket_id = int(response.json()["id"]) if acknowledged else 0
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    acknowledged, outcome, ticket_id = False, type(exc).__name__, 0
                with self._lock:
                    if acknowledged:
                        self.acks.append(Ack(title, ticket_id, time.time()))
                    else:
                        self.failures.append((time.time(), outcome))
                self._stop.wait(self.period)
