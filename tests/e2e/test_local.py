"""`harness run --stack local`: replicas against a real PostgreSQL and Redis the harness starts."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.e2e.conftest import harness, results

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DATA = Path(__file__).parent / "data"


def _servers() -> set[int]:
    return {
        p.pid for p in psutil.process_iter(["cmdline"])
        if any(part.startswith(("harness-pg-", "harness-local-")) or "/harness-pg-" in part
               or "/harness-local-" in part for part in p.info["cmdline"] or [])
    }


def test_local_run_scales_up_under_load_and_the_scaling_and_pool_checks_pass(report_root):
    before = _servers()
    done = harness("run", "--stack", "local", "--scenario", str(DATA / "hot.yaml"),
                   "--replicas", "2", "--no-progress", "--report-dir", str(report_root),
                   "--run-id", "local-hot")
    data = results(report_root / "local-hot")
    verdicts = {c["id"]: c["verdict"] for c in data["checks"]}
    # The app is made CPU-heavy on purpose (20 ms a request) so that it scales: what this run
    # judges is scaling, the pools' limits, the server's connections and the cache. On a busy
    # shared machine the same CPU work queues requests (latency, not judged here: the scenario
    # relaxes it) and every wait for a pooled connection also waits for its event loop's turn,
    # so the pool-wait budget (10 % of the run's p95) may fail though no connection was short.
    tolerated = ("slo.", "autoscaling.scale-up-slo.", "pool.acquire-wait-")
    failed = [c for c in data["checks"]
              if c["verdict"] == "fail" and not c["id"].startswith(tolerated)]
    assert not failed and done.returncode in (0, 1), (done.stderr, failed)
    assert data["stack"] == "local"
    assert "postgresql://" in data["endpoints"]["database"]
    assert "***" in data["endpoints"]["database"]  # the password never reaches the report
    scaling = data["extra"]["scaling"]
    assert max(r["replicas"] for r in scaling["replicas"]) > 2, scaling["decisions"]
    assert verdicts["autoscaling.scale-up"] == "pass"
    for check_id in ("autoscaling.bounds", "autoscaling.no-flapping", "pool.max-in-use",
                     "pool.acquire-timeouts", "pool.server-connections",
                     "pool.connection-budget", "cache.errors"):
        assert verdicts[check_id] == "pass", check_id
    assert data["extra"]["connections"]["samples"], "pg_stat_activity was sampled"
    assert _servers() <= before, "PostgreSQL or Redis outlived the run"


def test_a_pool_of_two_is_caught_and_the_run_exits_1(report_root):
    done = harness("run", "--stack", "local", "--scenario", str(DATA / "pool_defect.yaml"),
                   "--replicas", "2", "--no-progress", "--report-dir", str(report_root),
                   "--run-id", "pool-defect")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr
    data = results(report_root / "pool-defect")
    checks = {c["id"]: c for c in data["checks"]}
    # Requests queue for the two connections: the pool check names the cause...
    assert checks["pool.acquire-wait-p95"]["verdict"] == "fail", checks["pool.acquire-wait-p95"]
    # ...while the pool itself never exceeded its (too small) max.
    assert checks["pool.max-in-use"]["verdict"] == "pass"
    assert checks["pool.max-in-use"]["observed"] <= 2
