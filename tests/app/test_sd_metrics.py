import re

import httpx
import pytest
from prometheus_client import CollectorRegistry
from servicedesk.metrics import HTTP_BUCKETS, Metrics
from servicedesk.models import PoolStats

from harness.collect.scrape import Scrape, parse_metrics
from harness.collect.series import ServerSeries
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.pooling import PoolSettings, pooling_checks

pytestmark = pytest.mark.anyio

CONTRACT_FAMILIES = (
    ("servicedesk_http_request_duration_seconds", "histogram"),
    ("servicedesk_http_requests_total", "counter"),
    ("servicedesk_http_requests_in_flight", "gauge"),
    ("servicedesk_db_query_duration_seconds", "histogram"),
    ("servicedesk_cache_requests_total", "counter"),
    ("servicedesk_tickets_created_total", "counter"),
    ("servicedesk_sla_breaches_total", "counter"),
    ("servicedesk_tickets_open", "gauge"),
    ("servicedesk_db_pool_size", "gauge"),
    ("servicedesk_db_pool_max", "gauge"),
    ("servicedesk_db_pool_connections_in_use", "gauge"),
    ("servicedesk_db_pool_connections_idle", "gauge"),
    ("servicedesk_db_pool_waiting", "gauge"),
    ("servicedesk_db_pool_acquire_wait_seconds", "histogram"),
    ("servicedesk_db_pool_acquire_timeouts_total", "counter"),
    ("servicedesk_db_pool_errors_total", "counter"),
    ("servicedesk_cache_retries_total", "counter"),
    ("servicedesk_cache_command_retries", "histogram"),
    ("servicedesk_cache_errors_total", "counter"),
    ("servicedesk_build_info", "gauge"),
)


def type_of(text: str, name: str) -> str | None:
    base = name.removesuffix("_total").removesuffix("_info")
    for candidate in (name, base):
        match = re.search(rf"^# TYPE {candidate} (\w+)$", text, re.M)
        if match:
            return match.group(1)
    return None


def test_a_fresh_metrics_object_exposes_every_family() -> None:
    text = Metrics(CollectorRegistry()).render().decode()
    for name, kind in CONTRACT_FAMILIES:
        assert type_of(text, name) == kind, name
    assert re.search(r'^servicedesk_build_info\{.*version="[\d.]+".*\} 1\.0$', text, re.M)
    assert "process_cpu_seconds_total" in text and "python_info" in text


def test_metrics_never_touch_the_global_registry() -> None:
    from prometheus_client import REGISTRY

    before = set(REGISTRY._names_to_collectors)
    Metrics(CollectorRegistry())
    Metrics(CollectorRegistry())  # would raise on duplicates if it used one shared registry
    assert set(REGISTRY._names_to_collectors) == before


def test_pool_gauges_are_read_at_scrape_time() -> None:
    metrics = Metrics(CollectorRegistry())
    stats = [PoolStats(size=3, max_size=10, in_use=2, idle=1, waiting=4)]
    metrics.bind_pool(lambda: stats[0])
    sample = metrics.registry.get_sample_value
    assert sample("servicedesk_db_pool_size") == 3 and sample("servicedesk_db_pool_waiting") == 4
    stats[0] = PoolStats(size=5, max_size=10, in_use=5, idle=0, waiting=0)
    assert sample("servicedesk_db_pool_connections_in_use") == 5
    assert sample("servicedesk_db_pool_max") == 10


def test_unknown_methods_share_one_label() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.observe_request("BREW", "other", 405, 0.001)
    labels = {"method": "other", "route": "other", "status": "405"}
    assert metrics.registry.get_sample_value("servicedesk_http_requests_total", labels) == 1


async def test_scrape_after_requests_has_route_templates_and_buckets(
    client: httpx.AsyncClient, agent, customer, new_ticket
) -> None:
    ticket = await new_ticket(customer)
    await client.get(f"/api/tickets/{ticket['id']}", headers=agent.headers)
    await client.get(f"/api/tickets/{ticket['id']}", headers=agent.headers)
    await client.get("/api/tickets?status=open", headers=agent.headers)
    await client.get("/api/nothing-here")
    response = await client.get("/api/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    text = response.text
    for name, _ in CONTRACT_FAMILIES:
        assert name in text, name
    route = 'method="GET",route="/api/tickets/{id}",status="200"'
    assert f"servicedesk_http_requests_total{{{route}}} 2.0" in text
    buckets = re.findall(
        rf'servicedesk_http_request_duration_seconds_bucket\{{le="([^"]+)",{route}', text
    )
    assert [float(b) for b in buckets if b != "+Inf"] == [float(b) for b in HTTP_BUCKETS]
    assert 'route="/api/tickets",status="200"' in text
    assert 'servicedesk_http_requests_total{method="GET",route="other",status="404"} 1.0' in text
    assert 'route="/api/nothing-here"' not in text
    assert 'servicedesk_cache_requests_total{result="hit"} 1.0' in text
    assert 'servicedesk_cache_requests_total{result="miss"} 1.0' in text
    assert 'servicedesk_tickets_created_total{priority="high"} 1.0' in text
    assert 'servicedesk_db_query_duration_seconds_count{operation="get_ticket"} 1.0' in text
    assert 'servicedesk_db_query_duration_seconds_count{operation="list_tickets"} 1.0' in text
    assert "servicedesk_db_pool_max 4.0" in text
    assert re.search(r"^servicedesk_db_pool_size [1-4]\.0$", text, re.M)


def _acquire_wait_check(waits: list[float]) -> CheckResult:
    """The harness's acquire-wait p95 check over two scrapes of the app's own histogram."""
    metrics = Metrics(CollectorRegistry())
    first = parse_metrics(metrics.render().decode())
    for wait in waits:
        metrics.db_pool_acquire_wait.observe(wait)
    last = parse_metrics(metrics.render().decode())
    series = ServerSeries([Scrape(0, "r1", True, first), Scrape(10, "r1", True, last)], 0)
    settings = PoolSettings(pool_max=7, acquire_timeout=5, redis_max_retries=3)
    checks = pooling_checks(series, settings, window=Window(0, 10, "steady state"),
                            latency_p95_ms=10.0)
    return next(c for c in checks if c.id == "pool.acquire-wait-p95")


def test_the_acquire_wait_buckets_resolve_the_pool_checks_budget() -> None:
    # The check allows 10 % of the p95 request latency, at least 2 ms. Waits of 2.4 ms in 6 % of
    # acquisitions put the p95 over that floor; with bounds at 1 and 5 ms only, the p95 read
    # between them was 1.67 ms, a pass.
    over = _acquire_wait_check([0.00005] * 94 + [0.0024] * 6)
    assert over.verdict is Verdict.FAIL, over.evidence
    assert 2.0 < over.observed <= 2.5
    under = _acquire_wait_check([0.00005] * 94 + [0.0019] * 6)
    assert under.verdict is Verdict.PASS, under.evidence
    assert under.observed <= 2.0
