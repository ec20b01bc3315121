"""`harness run`'s load generator priority: nice -10 by default, realtime only when asked
(`--generator-realtime`), and only where it leaves a core to everything else."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.load.priority import realtime_fits
from tests.load.test_generator_process import may_raise_priority

pytestmark = pytest.mark.e2e

SCENARIO = (
    "name: short\ndescription: three seconds of light load\n"
    "stages:\n  - {duration: 3s, users: 2, spawn_rate: 100, steady: true}\n"
)


def _run(tmp_path, url: str, run_id: str, *flags: str) -> dict:
    (tmp_path / "short.yaml").write_text(SCENARIO)
    reports = tmp_path / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--scenario", str(tmp_path / "short.yaml"),
         "--target", url, "--no-progress", "--report-dir", str(reports), "--run-id", run_id,
         *flags],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )
    assert "Traceback" not in done.stderr, done.stderr
    plan = json.loads((reports / run_id / "logs" / "load-plan.json").read_text())
    rows = json.loads((reports / run_id / "results.json").read_text())["generator"]["generators"]
    return {"plan": plan["realtime"], "ran": {row["realtime"] for row in rows}}


def test_the_generator_runs_realtime_only_when_asked(tmp_path, target):
    server = target()
    assert _run(tmp_path, server.url, "default") == {"plan": False, "ran": {False}}
    fits = realtime_fits(1)  # one local generator: 2 or more cores here
    asked = _run(tmp_path, server.url, "asked", "--generator-realtime")
    assert asked == {"plan": fits, "ran": {fits and may_raise_priority()}}
