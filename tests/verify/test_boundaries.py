"""A check's boundary is part of its promise ("p95 <= 250 ms": exactly 250 passes). These pin
each comparison at equality, where a mutated `<=` / `<` or `>` / `>=` would flip the verdict."""

from __future__ import annotations

import pytest

from harness.config.model import LatencyObjective, SloSpec, WindowSpec
from harness.load.records import LoadResult, StagePlan
from harness.verify.check import Verdict, Window, judged
from harness.verify.pooling import PoolSettings, ServerConnections, pooling_checks
from harness.verify.slo import slo_checks
from tests.load.helpers import interval
from tests.verify.test_pooling import WINDOW, scrapes

STEADY = (StagePlan(0, "hold", 0, 60, 10, True),)
WHOLE = Window(0, 60, "steady state")


@pytest.mark.parametrize(("observed", "verdict"), [(250.0, Verdict.PASS), (250.001, Verdict.FAIL),
                                                   (249.999, Verdict.PASS)])
def test_at_most_passes_at_equality(observed, verdict):
    check = judged("slo.latency.p95", "p95", observed, 250.0, "ms", WHOLE, "e")
    assert check.verdict is verdict
    assert check.comparison == "<="


@pytest.mark.parametrize(("observed", "verdict"), [(10.0, Verdict.PASS), (9.999, Verdict.FAIL),
                                                   (10.001, Verdict.PASS)])
def test_at_least_passes_at_equality(observed, verdict):
    check = judged("slo.throughput", "t", observed, 10.0, "req/s", WHOLE, "e", at_most=False)
    assert check.verdict is verdict
    assert check.comparison == ">="


def test_nothing_observed_is_skipped_with_its_reason():
    check = judged("slo.latency.p95", "p95", None, 250.0, "ms", WHOLE, "no requests")
    assert check.verdict is Verdict.SKIPPED and check.reason == "no requests"


def _run(failures_per_interval: int, requests_per_interval: int = 100) -> LoadResult:
    intervals = [interval(t, t + 2, {"GET /a": [20.0] * requests_per_interval},
                          failures={"GET /a": failures_per_interval}) for t in range(0, 60, 2)]
    return LoadResult(0.0, 60.0, tuple(intervals), (), STEADY)


SPEC = SloSpec(latency=LatencyObjective(p95_ms=100, p99_ms=200), availability_percent=99.0,
               windows=WindowSpec(size=10, step=5, min_requests=20))


def test_an_error_rate_exactly_at_the_budget_passes_steady_and_sliding():
    checks = {c.id: c for c in slo_checks(_run(1), SPEC)}  # 1 of 100: exactly 1 %
    for check_id in ("slo.error-rate", "slo.sliding.error-rate"):
        assert checks[check_id].observed == pytest.approx(1.0)
        assert checks[check_id].verdict is Verdict.PASS, checks[check_id]
    over = {c.id: c for c in slo_checks(_run(2), SPEC)}
    assert over["slo.error-rate"].verdict is Verdict.FAIL
    assert over["slo.sliding.error-rate"].verdict is Verdict.FAIL


def test_a_sliding_window_needs_exactly_min_requests_to_be_judged():
    # a 10 s window touches 6 two-second intervals of 100 requests: 600
    spec = SPEC.model_copy(update={"windows": WindowSpec(size=10, step=5, min_requests=600)})
    judged = {c.id: c for c in slo_checks(_run(0, requests_per_interval=100), spec)}
    assert judged["slo.sliding.p95"].verdict is Verdict.PASS
    assert "(600 requests)" in judged["slo.sliding.p95"].evidence
    spec = SPEC.model_copy(update={"windows": WindowSpec(size=10, step=5, min_requests=601)})
    skipped = {c.id: c for c in slo_checks(_run(0, requests_per_interval=100), spec)}
    assert skipped["slo.sliding.p95"].verdict is Verdict.SKIPPED


def _budget(pool_max: int, max_replicas: int, max_connections: int, reserved: int):
    settings = PoolSettings(pool_max=pool_max, acquire_timeout=5.0, redis_max_retries=3)
    checks = {c.id: c for c in pooling_checks(
        scrapes(), settings, window=WINDOW, latency_p95_ms=100, max_replicas=max_replicas,
        server=ServerConnections(max_connections, reserved, 30, 10))}
    return checks["pool.connection-budget"]


def test_a_connection_budget_that_just_fits_passes_without_a_remedy():
    fits = _budget(pool_max=9, max_replicas=10, max_connections=93, reserved=3)  # 90 of 90
    assert fits.verdict is Verdict.PASS
    assert fits.observed == 90 and fits.threshold == 90
    assert "Remedy" not in fits.evidence
    over = _budget(pool_max=9, max_replicas=10, max_connections=92, reserved=3)  # 90 of 89
    assert over.verdict is Verdict.FAIL and "Remedy" in over.evidence
    assert "DB_POOL_MAX <= 8" in over.evidence


def test_server_connections_exactly_at_the_limit_pass():
    def peak(value: int) -> Verdict:
        checks = {c.id: c for c in pooling_checks(
            scrapes(), PoolSettings(pool_max=7, acquire_timeout=5.0, redis_max_retries=3),
            window=WINDOW, latency_p95_ms=100, server=ServerConnections(100, 3, value, 10))}
        return checks["pool.server-connections"].verdict

    assert peak(97) is Verdict.PASS
    assert peak(98) is Verdict.FAIL


def test_pool_in_use_exactly_at_its_max_passes():
    settings = PoolSettings(pool_max=7, acquire_timeout=5.0, redis_max_retries=3)

    def verdict(in_use: int) -> Verdict:
        checks = {c.id: c for c in pooling_checks(scrapes(in_use=in_use, size=in_use), settings,
                                                  window=WINDOW, latency_p95_ms=100)}
        return checks["pool.max-in-use"].verdict

    assert verdict(7) is Verdict.PASS
    assert verdict(8) is Verdict.FAIL
