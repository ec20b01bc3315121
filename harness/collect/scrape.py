"""Scrape every replica's /api/metrics every few seconds, in a thread of the harness.

Replicas come and go (the autoscaler), so the list is asked of the backend at each round.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from harness.background import BackgroundLoop
from harness.stack.backend import Replica

__all__ = ["MetricSample", "Scrape", "Scraper", "parse_metrics", "scrape_once"]

KEPT_PREFIXES = ("servicedesk_", "process_")


@dataclass(frozen=True)
class MetricSample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


@dataclass(frozen=True)
class Scrape:
    t: float  # epoch seconds
    replica: str
    ok: bool
    samples: tuple[MetricSample, ...]
    error: str | None = None


def parse_metrics(text: str, prefixes: Sequence[str] = KEPT_PREFIXES) -> tuple[MetricSample, ...]:
    samples = []
    for family in text_string_to_metric_families(text):
        if not family.name.startswith(tuple(prefixes)):
            continue
        for sample in family.samples:
            samples.append(
                MetricSample(sample.name, tuple(sorted(sample.labels.items())), float(sample.value))
            )
    return tuple(samples)


def scrape_once(client: httpx.Client, replica: Replica) -> Scrape:
    now = time.time()
    try:
        response = client.get(f"{replica.url}/api/metrics")
        response.raise_for_status()
        return Scrape(now, replica.name, True, parse_metrics(response.text))
    except (httpx.HTTPError, ValueError) as exc:
        return Scrape(now, replica.name, False, (), f"{type(exc).__name__}: {exc}"[:200])


class Scraper(BackgroundLoop):
    """Scrapes `replicas()` every `interval` seconds until stopped; keeps every Scrape."""

    def __init__(
        self,
        replicas: Callable[[], Sequence[Replica]],
        *,
        interval: float = 2.0,
        timeout: float = 2.0,
    ) -> None:
        super().__init__("scraper", join_timeout=timeout * 4 + 5)
        self.replicas = replicas
        self.interval = interval
        self.timeout = timeout
        self.scrapes: list[Scrape] = []
        self._lock = threading.Lock()

    def _loop(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                self.round(client)
                self._stop.wait(max(self.interval - (time.monotonic() - started), 0.05))
            self.round(client)  # a last look, so the run's end is covered

    def round(self, client: httpx.Client) -> None:
        try:
            replicas = list(self.replicas())
        except Exception:  # the backend is going down; the next round will tell
            return
        for replica in replicas:
            result = scrape_once(client, replica)
            with self._lock:
                self.scrapes.append(result)

    def latest_total(self, metric: str) -> float | None:
        """`metric` summed over the replicas' latest successful scrapes (live progress)."""
        latest: dict[str, float] = {}
        with self._lock:
            for scrape in reversed(self.scrapes[-256:]):
                if scrape.ok and scrape.replica not in latest:
                    values = [m.value for m in scrape.samples if m.name == metric]
                    if values:
                        latest[scrape.replica] = sum(values)
        return sum(latest.values()) if latest else None

    def stop(self) -> tuple[Scrape, ...]:
        self._halt()
        with self._lock:
            return tuple(self.scrapes)
