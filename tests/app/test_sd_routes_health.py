import os

import httpx
import pytest
from servicedesk.app import ServiceDeskApp
from servicedesk.cache.base import CacheError

pytestmark = pytest.mark.anyio


async def test_probes_answer_without_auth(client: httpx.AsyncClient) -> None:
    for probe in ("startup", "live", "ready"):
        response = await client.get(f"/api/health/{probe}")
        assert response.status_code == 200, probe
        assert response.json()["pid"] == os.getpid()
    ready = (await client.get("/api/health/ready")).json()
    assert ready == {
        "status": "ready", "pid": os.getpid(), "checks": {"database": "ok", "cache": "ok"}
    }  # fmt: skip


async def test_still_ready_but_degraded_when_the_cache_is_unreachable(
    client: httpx.AsyncClient, app: ServiceDeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise CacheError("connection refused")

    monkeypatch.setattr(app.ctx.cache, "ping", broken)
    response = await client.get("/api/health/ready")
    # The cache falls back to the database, so a Redis outage must not empty the Service.
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"] == {"database": "ok", "cache": "error: CacheError"}
    assert (await client.get("/api/health/live")).status_code == 200


async def test_not_ready_when_the_database_is_unreachable(
    client: httpx.AsyncClient, app: ServiceDeskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(app.ctx.store, "ping", broken)
    response = await client.get("/api/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OSError"


async def test_not_ready_or_started_outside_the_lifespan(app: ServiceDeskApp) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as c:
        assert (await c.get("/api/health/startup")).status_code == 503
        await app.startup()
        assert (await c.get("/api/health/startup")).status_code == 200
        await app.shutdown()
        assert (await c.get("/api/health/ready")).status_code == 503


@pytest.fixture
def unready_env(env: dict[str, str]) -> dict[str, str]:
    env["ARTIFICIAL_UNREADY"] = "true"
    return env


@pytest.mark.usefixtures("unready_env")
async def test_a_version_made_unready_starts_but_never_turns_ready(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/health/startup")).status_code == 200
    response = await client.get("/api/health/ready")
    assert (response.status_code, response.json()["status"]) == (503, "unavailable")
    assert (await client.get("/api/health/live")).status_code == 200
