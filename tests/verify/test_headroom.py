"""Headroom from a synthetic steady state, every number worked out by hand."""

from __future__ import annotations

import pytest

from harness.collect.scrape import MetricSample, Scrape
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.headroom import (
    Limits,
    SteadyState,
    annotate,
    headroom_from,
    limits_for,
    measure_steady_state,
)

ORIGIN = 1_000.0
MIB = 2**20


def _scrapes(*, rss=lambda rate, t: 100 * MIB, rates=(20.0,), cpu_per_request=0.002,
             hold_per_request=0.003, replicas=3, step=5.0, seconds=60.0) -> list[Scrape]:
    """`replicas` replicas scraped every `step` s; each answers rates[k] req/s in the k-th
    equal part of the run, with the given CPU and hold per request and `rss(rate)` memory."""
    out = []
    for r in range(replicas):
        requests = cpu = hold = 0.0
        t = 0.0
        while t <= seconds + 1e-9:
            part = min(int(t / seconds * len(rates)), len(rates) - 1)
            rate = rates[part]
            if t > 0:
                requests += rate * step
                cpu += rate * step * cpu_per_request
                hold += rate * step * hold_per_request
            labels = (("method", "GET"), ("route", "/api/tickets/{id}"), ("status", "200"))
            samples = (
                MetricSample("servicedesk_http_requests_total", labels, requests),
                MetricSample("servicedesk_http_requests_total",
                             (("method", "GET"), ("route", "/api/metrics"), ("status", "200")),
                             t / step),  # the scrapes themselves are not load
                MetricSample("process_cpu_seconds_total", (), cpu),
                MetricSample("process_resident_memory_bytes", (), rss(rate, t)),
                MetricSample("servicedesk_db_query_duration_seconds_sum",
                             (("operation", "get_ticket"),), hold),
                MetricSample("servicedesk_db_pool_connections_in_use", (), rate * hold_per_request),
                MetricSample("servicedesk_db_pool_size", (), 2.0),
            )
            out.append(Scrape(ORIGIN + t, f"replica-{r + 1}", True, samples))
            t += step
    return out


LIMITS = Limits(cpu_target_percent=70, memory_target_percent=80, tolerance=0.1,
                cpu_request_cores=0.5, memory_request_bytes=512 * MIB, max_replicas=10,
                pool_min=2, pool_max=7, max_connections=100, reserved_connections=3)


def test_the_steady_state_of_the_scrapes() -> None:
    steady = measure_steady_state(_scrapes(), origin=ORIGIN, start=0, end=60,
                                  server_totals=[(ORIGIN + 10, 10), (ORIGIN + 20, 10)])
    assert steady.request_rate == pytest.approx(60.0)
    assert steady.replicas == pytest.approx(3.0)
    assert steady.cpu_seconds_per_request == pytest.approx(0.002)
    assert steady.hold_seconds_per_request == pytest.approx(0.003)
    assert steady.memory_bytes_per_replica == pytest.approx(100 * MIB)
    assert steady.pool_in_use_mean == pytest.approx(0.06)
    assert steady.other_server_connections == pytest.approx(4.0)  # 10 - 3 pools of 2


def test_cpu_pool_and_server_limits_by_hand() -> None:
    steady = measure_steady_state(_scrapes(), origin=ORIGIN, start=0, end=60,
                                  server_totals=[(ORIGIN + 10, 10)])
    headroom = headroom_from(steady, LIMITS)
    cpu = headroom.get("hpa.cpu")
    # 70 % x 1.1 of 0.5 cores = 0.385 cores a replica, at 2 ms each: 192.5 req/s x 3 replicas
    assert cpu is not None and cpu.rate == pytest.approx(577.5)
    assert cpu.multiple == pytest.approx(577.5 / 60)
    assert "utilization 8 % now" in cpu.basis  # 20 req/s x 2 ms = 0.04 of 0.5 cores
    pool = headroom.get("pool.saturation")
    # Little's law: 7 connections / 3 ms = 2333 req/s a replica
    assert pool is not None and pool.rate == pytest.approx(7000.0)
    assert "keep 0.06 in use" in pool.basis and "saw 0.06 in use" in pool.basis
    server = headroom.get("server.connections")
    assert server is not None and server.rate is None  # 10 x 7 + 4 = 74 <= 97
    assert "= 74" in server.basis and "not reached by load" in server.line()
    bundled = headroom_from(steady, Limits(**{**LIMITS.__dict__, "server_measured": False}))
    assert bundled.get("server.connections").title.endswith(
        ", the bundled PostgreSQL's (this run had none)")
    wide = headroom_from(steady, Limits(**{**LIMITS.__dict__, "pool_max": 50}))
    server = wide.get("server.connections")
    assert server is not None and server.rate == pytest.approx((97 - 4) / 0.003, rel=1e-3)


def test_memory_that_does_not_follow_load_has_no_rate() -> None:
    steady = measure_steady_state(_scrapes(rates=(10.0, 20.0, 30.0)), origin=ORIGIN, start=0,
                                  end=60, whole_run=(0, 60))
    memory = headroom_from(steady, LIMITS).get("hpa.memory")
    assert memory is not None and memory.rate is None and memory.multiple is None
    assert "does not grow with the request rate" in memory.basis
    assert "351 MiB more per replica" in memory.basis  # 0.8 x 1.1 x 512 = 450.6 - 100


def test_memory_that_grows_with_load_gives_the_rate() -> None:
    scrapes = _scrapes(rates=(10.0, 20.0, 30.0), rss=lambda rate, t: (100 + rate) * MIB)
    steady = measure_steady_state(scrapes, origin=ORIGIN, start=40, end=60, whole_run=(0, 60))
    memory = headroom_from(steady, LIMITS).get("hpa.memory")
    # 1 MiB per req/s of a replica from 100 MiB: 450.56 MiB at 350.56 req/s, x 3 replicas
    assert memory is not None and memory.rate == pytest.approx(3 * 350.56, rel=1e-3)
    assert "extrapolated far beyond the 30 req/s per replica measured" in memory.basis
    assert memory.extrapolated


def test_memory_that_grows_with_time_is_not_put_down_to_load() -> None:
    # 1 MiB a second while the rate steps 10 -> 30 -> 10: time, not the rate, explains it
    scrapes = _scrapes(rates=(10.0, 30.0, 10.0), rss=lambda rate, t: (100 + t) * MIB)
    steady = measure_steady_state(scrapes, origin=ORIGIN, start=0, end=60, whole_run=(0, 60))
    assert steady.memory_trend is not None
    assert steady.memory_trend.bytes_per_second == pytest.approx(MIB, rel=1e-3)
    memory = headroom_from(steady, LIMITS).get("hpa.memory")
    assert memory is not None and memory.rate is None
    assert "does not grow with the request rate" in memory.basis
    assert "with time +60.0 MiB a minute" in memory.basis


def test_memory_already_above_the_bar() -> None:
    steady = measure_steady_state(_scrapes(rss=lambda rate, t: 500 * MIB), origin=ORIGIN, start=0,
                                  end=60)
    memory = headroom_from(steady, LIMITS).get("hpa.memory")
    assert memory is not None and memory.multiple == pytest.approx(1.0)
    assert "already there" in memory.basis


def test_no_scrapes_no_numbers() -> None:
    steady = measure_steady_state([], origin=ORIGIN, start=0, end=60)
    headroom = headroom_from(steady, LIMITS)
    # the server's ceiling needs no measurement: maxReplicas x DB_POOL_MAX against the limit
    assert [limit.id for limit in headroom.limits] == ["hpa.cpu", "hpa.memory",
                                                       "server.connections"]
    assert all(limit.rate is None for limit in headroom.limits)
    assert headroom.get("hpa.cpu").basis == "no replica CPU or no requests measured"


def test_skipped_scale_up_carries_the_numbers() -> None:
    steady = measure_steady_state(_scrapes(), origin=ORIGIN, start=0, end=60)
    headroom = headroom_from(steady, LIMITS)
    reason = "utilization never rose above target + 10 % (highest ratio 0.41 of target)"
    skipped = CheckResult("autoscaling.scale-up", "t", Verdict.SKIPPED, None, 60.0, "s", "<=",
                          Window(0, 60, "whole run"), reason, reason=reason)
    other = CheckResult("slo.latency.p95", "t", Verdict.PASS, 1.0, 2.0, "ms", "<=", None, "ok")
    annotated, untouched = annotate([skipped, other], headroom)
    assert untouched == other
    assert annotated.verdict is Verdict.SKIPPED
    assert annotated.reason is not None and annotated.reason.startswith(reason)
    assert "at 578 req/s (9.62x this load)" in annotated.reason
    assert "memory" in annotated.evidence and "not reached by load" in annotated.evidence
    assert annotate([skipped], None) == (skipped,)


def test_limits_from_the_bundled_stack() -> None:
    from harness import paths
    from harness.config.appsettings import bundled_app_settings
    from harness.config.k8s import load_scaling

    limits = limits_for(load_scaling(paths.k8s_base_dir()), bundled_app_settings(),
                        server_limits=(100, 3))
    assert (limits.cpu_target_percent, limits.memory_target_percent) == (70, 80)
    assert (limits.cpu_request_cores, limits.memory_request_bytes) == (0.5, 512 * MIB)
    assert (limits.max_replicas, limits.pool_min, limits.pool_max) == (10, 2, 7)
    assert limits.tolerance == pytest.approx(0.1)


def test_lines_name_the_steady_state() -> None:
    steady = SteadyState(60, 360, 150.0, 3.0, 0.002, 100 * MIB, 0.003, 0.15, None)
    lines = headroom_from(steady, LIMITS).lines()
    assert lines[0] == "Headroom from the steady state (60-360 s: 150.0 req/s over 3.0 replicas)"
    assert lines[1].startswith("HPA scale-up on CPU (above 77 % of request): at 578 req/s, "
                               "3.85x this load")
