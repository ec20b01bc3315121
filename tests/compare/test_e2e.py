"""A real pair of short nightly runs on the embedded stack: the second, with the app slowed on
purpose (ARTIFICIAL_DELAY_MS in a scenario file), is flagged; the first against itself passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"


def harness(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


@pytest.mark.e2e
def test_a_slowed_app_is_flagged_against_a_normal_run(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    common = ["--duration", "30s", "--replicas", "2", "--no-progress",
              "--report-dir", str(reports)]
    first = harness("run", "--scenario", "nightly", "--run-id", "normal", "--compare", "auto",
                    *common)
    # 0, or 1/3 when this busy machine fails an SLO check or saturates the load generator: the
    # first run only has to exist to be compared with
    assert first.returncode in (0, 1, 3), first.stdout[-2000:] + first.stderr[-2000:]
    assert "this run starts the history" in " ".join(first.stdout.split())
    assert (reports / "normal" / "intervals.jsonl.gz").is_file()

    slowed = harness("run", "--scenario", str(DATA / "nightly-slowed.yaml"), "--run-id", "slowed",
                     "--compare", "normal", *common)
    assert slowed.returncode == 1, slowed.stdout[-3000:] + slowed.stderr[-2000:]
    verdict = json.loads((reports / "slowed" / "compare.json").read_text())
    assert verdict["verdict"] == "regression"
    assert "latency.all.p50" in verdict["regressions"]
    assert "latency.all.p50" in " ".join(slowed.stdout.split())
    for name in ("compare.md", "compare.html", "compare-junit.xml"):
        assert (reports / "slowed" / name).is_file()
    index = json.loads((reports / "history" / "index.json").read_text())
    assert [(r["run_id"], r["verdict"]) for r in index["runs"]] == [
        ("normal", None), ("slowed", "regression")]

    # the normal run against itself: nothing to flag
    same = harness("compare", "normal", str(reports / "normal"), "--report-dir", str(reports),
                   "--out", str(tmp_path / "self"))
    assert same.returncode == 2  # a run is not its own baseline
    assert "is the run being compared" in same.stderr
