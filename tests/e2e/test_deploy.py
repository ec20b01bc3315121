"""Deploys under load, end to end: a rollout drops nothing with the app's drain, and the
rollout checks fail the run when the app stops at once on SIGTERM (GRACEFUL_SHUTDOWN false);
on compose, the harness's container-at-a-time rollout behind nginx drops nothing either."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import harness, results
from tests.stack.engine_support import local_images, with_images  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e

DATA = Path(__file__).parent / "data"


def test_a_rollout_and_a_bad_one_drop_nothing(report_root):
    done = harness("run", "--scenario", str(DATA / "deploy_short.yaml"), "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "deploy")
    data = results(report_root / "deploy")
    checks = {c["id"]: c for c in data["checks"]}
    rollout = {k: v for k, v in checks.items() if k.startswith("faults.")}
    assert done.returncode == 0, (done.stderr[-2000:], rollout)
    good, bad = data["extra"]["rollouts"]
    assert (good["outcome"], good["failed_requests"], good["most_replicas"]) == (
        "complete", 0, 4)
    assert (bad["outcome"], bad["failed_requests"]) == ("deadline-exceeded", 0)
    assert checks["faults.bad-deploy.old-serving"]["verdict"] == "pass"
    assert any("Deploy bad-deploy failed" in note for note in data["notes"])
    assert "## Rollouts" in (report_root / "deploy" / "summary.md").read_text()


def test_without_the_drain_the_rollout_checks_fail_the_run(report_root, tmp_path):
    scenario = yaml.safe_load((DATA / "deploy_short.yaml").read_text())
    scenario["app_settings"] = {"GRACEFUL_SHUTDOWN": "false"}
    # Two good rollouts (six replicas ended) under more users: each ending drops a request
    # only when a write reconnects in the second before the service learns of it (measured:
    # 2 failed in one rollout at 60 users), so the run must not depend on one.
    scenario["faults"] = [scenario["faults"][0],
                          {"at": "14s", "kind": "rollout", "name": "again",
                           "app_settings": {"CACHE_TTL_SECONDS": "30"}}]
    for stage in scenario["stages"][:2]:
        stage["users"] = 100
    scenario["stages"][1]["duration"] = "20s"
    path = tmp_path / "deploy_abrupt.yaml"
    path.write_text(yaml.safe_dump(scenario))
    done = harness("run", "--scenario", str(path), "--no-progress",
                   "--report-dir", str(report_root), "--run-id", "abrupt")
    data = results(report_root / "abrupt")
    failed = {c["id"] for c in data["checks"] if c["verdict"] == "fail"}
    assert done.returncode == 1, done.stderr[-2000:]
    assert failed & {"faults.deploy.failed-requests", "faults.again.failed-requests"}, \
        data["checks"]


@pytest.mark.integration
def test_a_rollout_on_compose_drops_nothing_behind_nginx(report_root, local_images):  # noqa: F811
    done = harness("run", "--stack", "compose", "--scenario", str(DATA / "deploy_compose.yaml"),
                   "--no-progress", "--report-dir", str(report_root), "--run-id", "compose",
                   env=with_images(local_images), timeout=400)
    data = results(report_root / "compose")
    checks = {c["id"]: c for c in data["checks"]}
    rollout = {k: v for k, v in checks.items() if k.startswith("faults.")}
    assert done.returncode in (0, 1), done.stderr[-2000:]
    [row] = data["extra"]["rollouts"]
    assert (row["outcome"], row["failed_requests"], row["most_replicas"], row["fewest_ready"]) \
        == ("complete", 0, 3, 2), rollout
    for name in ("failed-requests", "ready-floor", "surge-ceiling", "completed"):
        assert checks[f"faults.deploy.{name}"]["verdict"] == "pass", rollout
    assert "only once healthy" in checks["faults.deploy.ready-floor"]["evidence"]
    # The containers that served replaced the ones the rollout stopped, in the scrapes too.
    scrapes = checks["collect.metrics-reachable"]
    assert scrapes["verdict"] == "pass", scrapes
