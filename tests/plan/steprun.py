"""A recorded step run with round numbers, so every figure of its plan can be checked by hand.

Five stages of 100 s (each judged on its settled part, the last 60 s):

| stage | users | req/s | p95 ms | errors % | replicas | req/s per replica | CPU % per replica |
|-------|-------|-------|--------|----------|----------|-------------------|-------------------|
| 0     | 50    | 100   | 80     | 0        | 2        | 50                | 20                |
| 1     | 100   | 200   | 120    | 0        | 2        | 100               | 30                |
| 2     | 200   | 360   | 180    | 0        | 3        | 120               | 34                |
| 3     | 400   | 420   | 450    | 0        | 4        | 105               | 45                |
| 4     | 600   | 400   | 900    | 2        | 4        | 100               | 50                |

- knee: stage 3 (400 users), p95 450 ms > the SLO's 250 ms; last good: stage 2 (360 req/s);
  p95 crosses 250 ms at 200 + (250 - 180) / (450 - 180) x 200 = 251.85 users.
- CPU over the good stages 0-2 is exactly 10 % + 0.2 % x req/s per replica, so at the HPA
  target (70 % of a 500m request = 35 % of a core) one replica carries (35 - 10) / 0.2 = 125.
- "current" load: the peak scenario's 200 users = 360 req/s; --growth 1.5: 540 req/s;
  replicas = ceil(540 x 1.25 / 125) = ceil(5.4) = 6.
- ticket reads (GET /api/tickets/{id}) are 40 % of requests.
"""

from __future__ import annotations

from pathlib import Path

from harness.load.latency import LatencySummary
from harness.load.records import StagePlan
from harness.report.results import (
    ReplicaPoint,
    RequestStats,
    RunResult,
    RunStatus,
    TimelinePoint,
)

STAGES = (  # users, rps, p95, errors %, replicas, cpu % per replica
    (50, 100.0, 80.0, 0.0, 2, 20.0),
    (100, 200.0, 120.0, 0.0, 2, 30.0),
    (200, 360.0, 180.0, 0.0, 3, 34.0),
    (400, 420.0, 450.0, 0.0, 4, 45.0),
    (600, 400.0, 900.0, 2.0, 4, 50.0),
)
STAGE_SECONDS = 100.0


def _stats(requests: int, rps: float) -> RequestStats:
    latency = LatencySummary(requests, 1, 10, 8, 9, 10, 11, 12, 13)
    return RequestStats(requests, 0, rps, 0.0, latency)


def step_result(run_id: str = "step-run") -> RunResult:
    stages, timeline, replicas = [], [], []
    for index, (users, rps, p95, errors, count, cpu) in enumerate(STAGES):
        start = index * STAGE_SECONDS
        stages.append(StagePlan(index, f"step-{users}", start, start + STAGE_SECONDS, users, True))
        t = start + 2.0
        while t <= start + STAGE_SECONDS + 1e-9:
            timeline.append(TimelinePoint(t, users, rps, errors, p95 / 3, p95, p95 * 2))
            for replica in range(count):
                replicas.append(ReplicaPoint(t, f"replica-{replica + 1}", cpu, 100.0))
            t += 2.0
    total = sum(rps for _, rps, *_ in STAGES) * STAGE_SECONDS
    return RunResult(
        run_id=run_id, scenario="stress", scenario_description="recorded step run",
        stack="local", status=RunStatus.FAILED, exit_status=1, started_at=1_790_000_000.0,
        ended_at=1_790_000_500.0, checks=(), totals=_stats(int(total), 300.0),
        per_request={
            "GET /api/tickets/{id}": _stats(int(total * 0.4), 120.0),
            "GET /api/tickets": _stats(int(total * 0.4), 120.0),
            "POST /api/tickets": _stats(int(total * 0.2), 60.0),
        },
        groups={}, stages=tuple(stages), timeline=tuple(timeline), replicas=tuple(replicas),
        server=None, errors=(), endpoints={},
    )


def write_step_run(folder: Path, run_id: str = "step-run") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(step_result(run_id).to_json() + "\n", encoding="utf-8")
    return folder
