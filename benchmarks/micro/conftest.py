"""Fixtures for the micro-benchmarks: the reference app in-process on a seeded SQLite file.

Run them with the stored baseline (see README, "Nightly performance"):

    .venv/bin/pytest benchmarks/micro --benchmark-storage=file://benchmarks/micro/baseline \
        --benchmark-warmup=on --benchmark-min-rounds=20 --benchmark-compare=0001 \
        --benchmark-compare-fail=min:25%
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import paths

ADMIN = "bench-admin-token-0123456789abcdef"
TICKETS = 500


@dataclass
class InProcessApp:
    """The app behind httpx's ASGI transport, driven from a private event loop."""

    loop: asyncio.AbstractEventLoop
    client: Any  # httpx.AsyncClient
    agent_token: str

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    app_dir = str(paths.app_dir())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    import httpx
    from prometheus_client import CollectorRegistry
    from servicedesk.app import create_app
    from servicedesk.metrics import Metrics
    from servicedesk.seed import SeedSpec, seed_database
    from servicedesk.settings import load_settings

    folder: Path = tmp_path_factory.mktemp("app")
    settings = load_settings({
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}", "ADMIN_TOKEN": ADMIN,
        "SLA_SWEEP_INTERVAL_SECONDS": "3600", "LOG_LEVEL": "warning",
        "CACHE_TTL_SECONDS": "30",
    })
    loop = asyncio.new_event_loop()
    tokens = loop.run_until_complete(seed_database(
        settings, SeedSpec(tickets=TICKETS, agents=10, customers=100, seed=11),
        folder / "tokens.json"))
    service = create_app(settings, metrics=Metrics(CollectorRegistry()))
    loop.run_until_complete(service.startup())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=service),
                               base_url="http://sd.bench")
    try:
        yield InProcessApp(loop, client, tokens.agents[0])
    finally:
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(service.shutdown())
        loop.close()
