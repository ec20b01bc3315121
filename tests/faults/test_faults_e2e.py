"""Each fault kind against the reference app, end to end (`harness run`): the resilient app
passes every fault check; the same faults with its resilience switched off through its
settings (no reconnect, no cache fallback, too many retries, a single replica) fail them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import harness, results

pytestmark = [pytest.mark.e2e]

EVERY_KIND = """name: every-fault
description: every fault kind once, spaced so each is judged on its own
stages:
  - {duration: 10s, users: 30, spawn_rate: 15}
  - {duration: 120s, users: 30, steady: true}
seed: {tickets: 500}
autoscaling: {enabled: false}
faults:
  - {at: 15s, kind: kill-replica, name: crash, respect_pdb: false}
  - {at: 35s, kind: stop-redis, duration: 10s, name: redis}
  - {at: 60s, kind: restart-postgres, name: restart}
  - {at: 80s, kind: slow-database, duration: 10s, latency: 50ms, name: slow}
  # longer than the 5 s acquire timeout, so that waiting requests do give up
  - {at: 100s, kind: exhaust-pool, duration: 10s, name: lock}
slo:
  # this machine is shared: judge latency loosely, the faults strictly
  latency: {p95_ms: 1000, p99_ms: 5000}
  faults:
    window: 15s
    recovery: 30s
    hold: 6s
    kinds:
      restart-postgres: {budget_percent: 10}
      exhaust-pool: {budget_percent: 60}
"""

SWITCHED_OFF = """name: resilience-off
description: the same faults with the app's resilience switched off
stages:
  - {duration: 75s, users: 20, spawn_rate: 10, steady: true}
seed: {tickets: 300}
autoscaling: {enabled: false}
app_settings:
  CACHE_FALLBACK: "false"       # a Redis failure fails the request
  REDIS_MAX_RETRIES: "6"        # more than the seed's 3
  DB_POOL_RECONNECT: "false"    # a dropped connection is never replaced
faults:
  - {at: 12s, kind: stop-redis, duration: 12s, name: redis}
  - {at: 45s, kind: restart-postgres, name: restart}
slo:
  latency: {p95_ms: 5000, p99_ms: 10000}
  faults: {window: 15s, recovery: 20s, hold: 6s, kinds: {restart-postgres: {budget_percent: 10}}}
"""

ONE_REPLICA = """name: one-replica
description: a crash with nobody to take over
stages:
  - {duration: 35s, users: 45, spawn_rate: 45, steady: true}
seed: {tickets: 200}
autoscaling: {enabled: false}
faults:
  - {at: 10s, kind: kill-replica, name: crash}
slo:
  # the replacement is ready about a second after the kill: a short window keeps the requests
  # refused in that gap from being diluted below the budget by the ones after it
  faults: {window: 5s}
"""


def _run(tmp_path: Path, text: str, run_id: str, *args: str) -> tuple[int, dict, dict]:
    scenario = tmp_path / f"{run_id}.yaml"
    scenario.write_text(text)
    done = harness("run", "--scenario", str(scenario), "--no-progress", "--report-dir",
                   str(tmp_path / "reports"), "--run-id", run_id, *args, timeout=600)
    data = results(tmp_path / "reports" / run_id)
    assert "Traceback" not in done.stderr
    return done.returncode, data, {c["id"]: c for c in data["checks"]}


@pytest.mark.integration
def test_every_fault_kind_passes_on_the_resilient_app(tmp_path):
    _code, data, checks = _run(tmp_path, EVERY_KIND, "every", "--stack", "local")
    faults = {k: v for k, v in checks.items() if k.startswith("faults.")}
    expected = {
        "faults.crash.availability", "faults.crash.recovery", "faults.crash.replacement",
        "faults.redis.availability", "faults.redis.recovery", "faults.redis.cache-fallback",
        "faults.redis.redis-retries", "faults.restart.availability", "faults.restart.recovery",
        "faults.restart.pool-reconnect", "faults.slow.availability", "faults.slow.recovery",
        "faults.lock.availability", "faults.lock.recovery", "faults.lock.fail-fast",
    }
    assert expected <= set(faults), sorted(faults)
    failed = {k: v["evidence"] for k, v in faults.items() if v["verdict"] != "pass"}
    assert not failed, failed
    assert checks["stack.replica-exits"]["verdict"] == "pass"
    timeline = data["extra"]["faults"]["timeline"]
    assert [row["name"] for row in timeline] == ["crash", "redis", "restart", "slow", "lock"]
    assert all(row["recovery_s"] is not None for row in timeline)
    assert checks["faults.redis.redis-retries"]["observed"] <= 3.0


@pytest.mark.integration
def test_the_same_faults_fail_with_the_apps_resilience_switched_off(tmp_path):
    code, _data, checks = _run(tmp_path, SWITCHED_OFF, "off", "--stack", "local")
    assert code == 1
    verdicts = {k: v["verdict"] for k, v in checks.items() if k.startswith("faults.")}
    assert verdicts["faults.redis.cache-fallback"] == "fail"  # CACHE_FALLBACK off
    assert verdicts["faults.redis.availability"] == "fail"
    assert verdicts["faults.redis.redis-retries"] == "fail", checks["faults.redis.redis-retries"]
    assert verdicts["faults.restart.pool-reconnect"] == "fail"  # DB_POOL_RECONNECT off
    assert verdicts["faults.restart.recovery"] == "fail"
    assert "never" in checks["faults.restart.pool-reconnect"]["evidence"]


def test_a_crash_with_one_replica_spends_more_than_the_budget(tmp_path):
    code, data, checks = _run(tmp_path, ONE_REPLICA, "alone", "--replicas", "1")
    assert code == 1
    assert checks["faults.crash.availability"]["verdict"] == "fail"
    assert checks["faults.crash.replacement"]["verdict"] == "pass"  # it did come back
    events = [e["event"] for e in data["extra"]["faults"]["replica_events"]]
    assert events[:3] == ["killed", "exited", "started"]
