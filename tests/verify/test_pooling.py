from harness.collect.scrape import MetricSample, Scrape
from harness.collect.series import ServerSeries
from harness.verify.check import Verdict, Window
from harness.verify.pooling import PoolSettings, ServerConnections, pooling_checks

WINDOW = Window(0, 60, "steady state")
SETTINGS = PoolSettings(pool_max=7, acquire_timeout=5.0, redis_max_retries=3)


def sample(name, value, **labels):
    return MetricSample(name, tuple(sorted(labels.items())), value)


def scrapes(in_use=2, size=3, timeouts=0, wait_bucket_small=100, cache_errors=0):
    first = (
        sample("servicedesk_db_pool_size", 2), sample("servicedesk_db_pool_connections_in_use", 0),
        sample("servicedesk_db_pool_acquire_timeouts_total", 0),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", 0, le="0.001"),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", 0, le="1.0"),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", 0, le="+Inf"),
        sample("servicedesk_cache_errors_total", 0), sample("servicedesk_cache_retries_total", 0),
    )
    last = (
        sample("servicedesk_db_pool_size", size),
        sample("servicedesk_db_pool_connections_in_use", in_use),
        sample("servicedesk_db_pool_acquire_timeouts_total", timeouts),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", wait_bucket_small, le="0.001"),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", 100, le="1.0"),
        sample("servicedesk_db_pool_acquire_wait_seconds_bucket", 100, le="+Inf"),
        sample("servicedesk_cache_errors_total", cache_errors),
        sample("servicedesk_cache_retries_total", cache_errors * 3),
    )
    return ServerSeries([Scrape(0, "r1", True, first), Scrape(10, "r1", True, last)], 0)


def by_id(series, **kw):
    return {c.id: c for c in pooling_checks(series, SETTINGS, window=WINDOW,
                                            latency_p95_ms=100, **kw)}


def test_a_healthy_pool_passes():
    checks = by_id(scrapes(), cache_is_remote=True,
                   server=ServerConnections(100, 3, 30, 10), max_replicas=10)
    for check in checks.values():
        assert check.verdict is Verdict.PASS, check


def test_pool_above_its_max_fails():
    assert by_id(scrapes(size=8))["pool.max-in-use"].verdict is Verdict.FAIL


def test_timeouts_and_long_waits_fail():
    checks = by_id(scrapes(timeouts=4, wait_bucket_small=10))
    assert checks["pool.acquire-timeouts"].verdict is Verdict.FAIL
    wait = checks["pool.acquire-wait-p95"]
    assert wait.verdict is Verdict.FAIL
    assert wait.threshold == 10.0 and wait.unit == "ms"  # 10 % of the 100 ms p95 latency
    assert "p95 request latency of 100.0 ms" in wait.evidence


def test_waits_under_the_floor_pass_even_for_fast_requests():
    checks = {c.id: c for c in pooling_checks(scrapes(wait_bucket_small=100), SETTINGS,
                                              window=WINDOW, latency_p95_ms=3.0)}
    assert checks["pool.acquire-wait-p95"].threshold == 2.0
    assert checks["pool.acquire-wait-p95"].verdict is Verdict.PASS


def test_connection_budget_fails_with_a_remedy_for_the_seed_numbers():
    seed = PoolSettings(pool_max=50, acquire_timeout=5.0, redis_max_retries=3)
    checks = {c.id: c for c in pooling_checks(
        scrapes(), seed, window=WINDOW, latency_p95_ms=100, max_replicas=10,
        server=ServerConnections(100, 3, 30, 10))}
    budget = checks["pool.connection-budget"]
    assert budget.verdict is Verdict.FAIL
    assert budget.observed == 500 and budget.threshold == 97
    assert "Remedy" in budget.evidence and "DB_POOL_MAX <= 9" in budget.evidence


def test_server_connections_over_the_limit_fail():
    checks = by_id(scrapes(), server=ServerConnections(100, 3, 98, 10))
    assert checks["pool.server-connections"].verdict is Verdict.FAIL


def test_cache_errors_fail_when_redis_is_used():
    checks = by_id(scrapes(cache_errors=2), cache_is_remote=True)
    assert checks["cache.errors"].verdict is Verdict.FAIL
    assert "cache.errors" not in by_id(scrapes(cache_errors=2))


def test_settings_come_from_configmap_keys():
    settings = PoolSettings.from_app_settings({"DB_POOL_MAX": "2",
                                               "DB_POOL_ACQUIRE_TIMEOUT_SECONDS": "0.5"})
    assert settings.pool_max == 2 and settings.acquire_timeout == 0.5
