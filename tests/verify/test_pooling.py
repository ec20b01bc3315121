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


# ---------------------------------------------------------------- what each check records
# (mutation testing found titles, units, windows, thresholds and evidence numbers unpinned)

def _records(checks) -> dict[str, tuple]:
    return {c.id: (c.title, c.verdict, c.observed, c.threshold, c.unit, c.comparison, c.window)
            for c in checks}


def test_every_pooling_check_records_its_title_numbers_unit_and_window():
    checks = pooling_checks(scrapes(cache_errors=2), SETTINGS, window=WINDOW,
                            latency_p95_ms=123.4567, max_replicas=3,
                            server=ServerConnections(100, 3, 40, 12), cache_is_remote=True)
    ok, fail = Verdict.PASS, Verdict.FAIL
    assert _records(checks) == {
        "pool.max-in-use": ("Connections in use per replica never above the pool max", ok,
                            2.0, 7.0, "connections", "<=", WINDOW),
        "pool.acquire-timeouts": ("No connection-acquire timeouts", ok, 0.0, 0.0, "timeouts",
                                  "<=", WINDOW),
        "pool.acquire-wait-p99": ("Acquire-wait p99 below the acquire timeout", ok, 0.99,
                                  5000.0, "ms", "<=", WINDOW),
        # 10 % of 123.4567 ms, kept to the microsecond
        "pool.acquire-wait-p95": ("Acquire-wait p95 a small share of request latency", ok,
                                  0.95, 12.346, "ms", "<=", WINDOW),
        "pool.server-connections": ("Server connections within max_connections", ok, 40.0,
                                    97.0, "connections", "<=", WINDOW),
        "pool.connection-budget": ("Connection budget at full scale", ok, 21.0, 97.0,
                                   "connections", "<=", WINDOW),
        "cache.errors": ("Redis answered (no cache errors)", fail, 2.0, 0.0, "errors", "<=",
                         WINDOW),
    }
    evidence = {c.id: c.evidence for c in checks}
    assert "2 (largest pool: 3 open); DB_POOL_MAX 7" in evidence["pool.max-in-use"]
    assert evidence["pool.acquire-timeouts"].startswith("0 requests waited longer than 5s")
    assert "1.0 ms; timeout 5s" in evidence["pool.acquire-wait-p99"]
    assert "peak 40 " in evidence["pool.server-connections"]
    assert "over 12 samples" in evidence["pool.server-connections"]
    assert "100 - 3 reserved = 97" in evidence["pool.server-connections"]
    assert "3 x DB_POOL_MAX 7 = 21 connections against 97" in evidence["pool.connection-budget"]
    assert "Remedy" not in evidence["pool.connection-budget"]
    assert evidence["cache.errors"].startswith("2 cache operations failed after retries; 6 retries")
    assert "at most 3 per operation" in evidence["cache.errors"]


def test_long_waits_an_overgrown_pool_and_a_tight_server_say_by_how_much():
    checks = {c.id: c for c in pooling_checks(
        scrapes(wait_bucket_small=0, size=9), SETTINGS, window=WINDOW, latency_p95_ms=100,
        max_replicas=3, server=ServerConnections(4, 3, 1, 12))}
    assert checks["pool.max-in-use"].verdict is Verdict.FAIL
    assert "the pool opened 9 connections" in checks["pool.max-in-use"].evidence
    assert checks["pool.acquire-wait-p99"].observed == 990.01
    p95 = checks["pool.acquire-wait-p95"]
    assert (p95.verdict, p95.observed, p95.threshold) == (Verdict.FAIL, 950.05, 10.0)
    assert "(950 %)" in p95.evidence
    budget = checks["pool.connection-budget"]
    assert budget.evidence.startswith("HPA maxReplicas 3 x DB_POOL_MAX 7 = 21")
    assert "Remedy: DB_POOL_MAX <= 1," in budget.evidence  # 1 // 3 is 0: one at least


def test_the_remedy_sizes_the_pool_by_whole_connections():
    checks = {c.id: c for c in pooling_checks(
        scrapes(), PoolSettings(pool_max=50, acquire_timeout=5.0, redis_max_retries=3),
        window=WINDOW, latency_p95_ms=100, max_replicas=3, server=ServerConnections(100, 3, 1, 1))}
    assert "Remedy: DB_POOL_MAX <= 32," in checks["pool.connection-budget"].evidence


def test_missing_pool_metrics_skip_with_the_reason():
    checks = {c.id: c for c in pooling_checks(ServerSeries([], 0), SETTINGS, window=WINDOW,
                                              latency_p95_ms=0.5)}
    assert checks["pool.max-in-use"].verdict is Verdict.SKIPPED
    assert checks["pool.max-in-use"].reason == "the app exported no pool-in-use gauge"
    for check_id in ("pool.acquire-wait-p99", "pool.acquire-wait-p95"):
        assert checks[check_id].verdict is Verdict.SKIPPED
        assert checks[check_id].reason == "no acquire-wait histogram"
    # no counter is no evidence of zero timeouts
    assert checks["pool.acquire-timeouts"].verdict is Verdict.SKIPPED
    assert checks["pool.acquire-timeouts"].reason == (
        "the app exported no servicedesk_db_pool_acquire_timeouts_total")


def test_the_share_of_latency_is_judged_only_with_a_positive_latency():
    def ids(latency):
        return {c.id for c in pooling_checks(scrapes(), SETTINGS, window=WINDOW,
                                              latency_p95_ms=latency)}
    assert "pool.acquire-wait-p95" in ids(0.5)
    assert "pool.acquire-wait-p95" not in ids(0.0)
    assert "pool.acquire-wait-p95" not in ids(None)


def test_settings_default_to_the_apps_own_defaults():
    assert PoolSettings.from_app_settings({}) == PoolSettings(50, 5.0, 3)
    assert PoolSettings.from_app_settings({"REDIS_MAX_RETRIES": "7"}).redis_max_retries == 7
