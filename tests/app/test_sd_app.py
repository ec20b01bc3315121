import logging
import time
from pathlib import Path

import httpx
import pytest
from servicedesk.app import ServiceDeskApp, _burn_cpu, create_app
from servicedesk.metrics import Metrics
from servicedesk.settings import load_settings
from servicedesk.store import PoolTimeout, StoreUnavailable

pytestmark = pytest.mark.anyio


def requests_total(metrics: Metrics, method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    return metrics.registry.get_sample_value("servicedesk_http_requests_total", labels) or 0.0


async def test_unknown_routes_are_json_404_labelled_other(
    client: httpx.AsyncClient, metrics: Metrics
) -> None:
    response = await client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "no route for /api/does-not-exist"}
    }
    await client.get("/wp-admin/install.php")
    assert requests_total(metrics, "GET", "other", "404") == 2


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient, metrics: Metrics) -> None:
    response = await client.delete("/api/tickets/1")
    assert response.status_code == 405 and response.headers["allow"] == "GET, PATCH"
    assert requests_total(metrics, "DELETE", "/api/tickets/{id}", "405") == 1


async def test_head_answers_without_a_body(client: httpx.AsyncClient) -> None:
    response = await client.head("/api/health/live")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) > 0


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (PoolTimeout("no database connection free within 5s"), 503, "db_pool_timeout"),
        (StoreUnavailable("cannot open a database connection"), 503, "db_unavailable"),
        (RuntimeError("boom"), 500, "internal_error"),
    ],
)
async def test_store_failures_map_to_status_codes(
    client: httpx.AsyncClient,
    app: ServiceDeskApp,
    agent,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    status: int,
    code: str,
) -> None:
    async def failing(ticket_id: int) -> None:
        raise error

    monkeypatch.setattr(app.ctx.store, "get_ticket", failing)
    with caplog.at_level(logging.ERROR):
        response = await client.get("/api/tickets/1", headers=agent.headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    if status == 503:
        assert response.headers["retry-after"] == "1"
    else:
        assert "unhandled error" in caplog.text and "boom" not in response.text


async def test_in_flight_returns_to_zero(client: httpx.AsyncClient, metrics: Metrics) -> None:
    await client.get("/api/health/live")
    assert metrics.registry.get_sample_value("servicedesk_http_requests_in_flight") == 0


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "ARTIFICIAL_DELAY_MS": "150", "ARTIFICIAL_CPU_MS": "30"}


async def test_artificial_delay_slows_api_requests_not_probes(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    started = time.perf_counter()
    assert (await client.get("/api/users/me", headers=admin_headers)).status_code == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    assert (await client.get("/api/health/ready")).status_code == 200
    assert (await client.get("/api/metrics")).status_code == 200
    assert time.perf_counter() - started < 0.15


def test_burn_spends_cpu_time_not_just_wall_time() -> None:
    before = time.thread_time()
    _burn_cpu(0.02)
    assert time.thread_time() - before >= 0.02


async def test_artificial_cpu_is_burnt_by_api_requests_not_probes(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    before = time.thread_time()
    assert (await client.get("/api/users/me", headers=admin_headers)).status_code == 200
    assert time.thread_time() - before >= 0.03
    before = time.thread_time()
    assert (await client.get("/api/health/ready")).status_code == 200
    assert time.thread_time() - before < 0.03


async def test_startup_failure_is_reported_to_the_server(tmp_path: Path, metrics: Metrics) -> None:
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/sd.db"})
    app = create_app(settings, metrics=metrics)
    sent: list[dict] = []
    messages = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "unable to open database file" in sent[0]["message"]
