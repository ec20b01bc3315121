"""The load plan: what the load process (local, or a Locust master) runs, as a JSON document.

`harness run` writes it for the processes it starts here. For a master running elsewhere (the
Kubernetes manifests in loadtests/k8s/), write it from a scenario:

    python -m harness.load.plan --scenario peak --host http://servicedesk-app --workers 4 \\
        --master-host '*' --locustfile /app/loadtests/locustfile.py > plan.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.load.priority import GENERATOR_NICE
from harness.load.shapes import StagePlan

__all__ = ["DEFAULT_MASTER_PORT", "main", "plan_document"]

DEFAULT_MASTER_PORT = 5557  # Locust's own default


def plan_document(
    *,
    stages: Sequence[StagePlan],
    locustfiles: Sequence[Path | str],
    host: str,
    interval: float = 2.0,
    stop_timeout: float = 5.0,
    workers: int = 0,
    master_host: str = "127.0.0.1",
    master_port: int = DEFAULT_MASTER_PORT,
    worker_wait: float = 60.0,
    nice: int = GENERATOR_NICE,
    realtime: bool = False,
) -> dict[str, Any]:
    """The plan harness.load.locust_process reads (see LoadPlan there)."""
    return {
        "locustfiles": [str(p) for p in locustfiles],
        "host": host,
        "stages": [asdict(s) for s in stages],
        "interval": interval,
        "stop_timeout": stop_timeout,
        "workers": workers,
        "master_host": master_host,
        "master_port": master_port,
        "worker_wait": worker_wait,
        "nice": nice,
        "realtime": realtime,
    }


def main(argv: list[str] | None = None) -> int:
    from harness import paths
    from harness.config.load import load_scenario
    from harness.load.shapes import plan_stages

    parser = argparse.ArgumentParser(prog="python -m harness.load.plan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="smoke", help="a bundled scenario or a file")
    parser.add_argument("--host", required=True, help="the URL the users talk to")
    parser.add_argument("--workers", type=int, default=0, help="workers the master waits for")
    parser.add_argument("--master-host", default="127.0.0.1",
                        help="where the master listens for workers ('*': every interface)")
    parser.add_argument("--master-port", type=int, default=DEFAULT_MASTER_PORT)
    parser.add_argument("--locustfile", help="the locustfile's path where the master runs "
                        "(default: the scenario's, or the bundled one)")
    parser.add_argument("--worker-wait", type=float, default=300.0,
                        help="seconds the master waits for every worker to connect")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    if scenario.calibrated:  # its rates are measured on the stack under test, by `harness run`
        sys.stderr.write(f"{scenario.source}: stages: utilization_of_target needs the "
                         "calibration of `harness run`; give users or rate here\n")
        return 2
    stages = plan_stages(scenario.stages, scenario.steady_stage_indexes(),
                         generators=max(args.workers, 1))
    locustfile = args.locustfile or scenario.locustfile or paths.loadtests_dir() / "locustfile.py"
    document = plan_document(stages=stages, locustfiles=[locustfile], host=args.host,
                             workers=args.workers, master_host=args.master_host,
                             master_port=args.master_port, worker_wait=args.worker_wait)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
