"""Fixtures for the ServiceDesk app tests: settings on a temp SQLite file, an in-process client,
users of each role."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "stack" / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

import httpx  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from servicedesk.app import ServiceDeskApp, create_app  # noqa: E402
from servicedesk.metrics import Metrics  # noqa: E402
from servicedesk.settings import Settings, load_settings  # noqa: E402

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'servicedesk.db'}"


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    """Environment for an app under test; tests may add keys before ``settings`` is built."""
    return {
        "DATABASE_URL": db_url,
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "4",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SLA_SWEEP_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "warning",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def app(settings: Settings, metrics: Metrics) -> ServiceDeskApp:
    return create_app(settings, metrics=metrics)


@pytest.fixture
async def client(app: ServiceDeskApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to ``app`` in-process, with the app's lifespan around it."""
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as c:
            yield c
    finally:
        await app.shutdown()


@dataclass(frozen=True)
class Actor:
    id: int
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _make_user(client: httpx.AsyncClient, role: str, name: str = "Test User") -> Actor:
    response = await client.post(
        "/api/users",
        json={"name": name, "role": role},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Actor(body["id"], body["role"], body["token"])


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> Actor:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    me = (await client.get("/api/users/me", headers=headers)).json()
    return Actor(me["id"], "admin", ADMIN_TOKEN)


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "agent", "Alice Agent")


@pytest.fixture
async def customer(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "customer", "Carl Customer")


@pytest.fixture
async def other_customer(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "customer", "Olga Other")


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def new_ticket(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await new_ticket(actor, title=..., priority=..., description=...)`` -> ticket JSON."""

    async def create(
        actor: Actor, *, title: str = "VPN drops every 10 minutes", **extra: str
    ) -> dict[str, Any]:
        body = {
            "title": title,
            "description": "Since Monday the tunnel resets.",
            "priority": "high",
        }
        body.update(extra)
        response = await client.post("/api/tickets", json=body, headers=actor.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return create
