"""loadtests/k8s runs the same load code as `harness run --workers N`, and renders."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.load.locust_process import LoadPlan
from harness.load.shapes import StagePlan

K8S = Path(__file__).resolve().parents[2] / "loadtests" / "k8s"


def documents(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def deployment(name: str) -> dict:
    return next(d for d in documents(name) if d["kind"] == "Deployment")


def test_master_and_workers_run_the_harness_load_process_and_find_each_other():
    master, worker = deployment("master.yaml"), deployment("worker.yaml")
    master_box = master["spec"]["template"]["spec"]["containers"][0]
    worker_box = worker["spec"]["template"]["spec"]["containers"][0]
    assert "python -m harness.load.locust_process /plan/plan.json" in " ".join(master_box["args"])
    assert worker_box["command"][-3:] == ["-m", "harness.load.locust_process", "worker"]
    service = next(d for d in documents("master.yaml") if d["kind"] == "Service")
    args = worker_box["args"]
    assert args[args.index("--master-host") + 1] == service["metadata"]["name"]
    assert int(args[args.index("--master-port") + 1]) == service["spec"]["ports"][0]["port"]
    assert master_box["ports"][0]["containerPort"] == service["spec"]["ports"][0]["port"]
    # one core per worker: a worker is one gevent loop
    assert worker_box["resources"]["requests"]["cpu"] == worker_box["resources"]["limits"]["cpu"]


def test_the_plan_waits_for_exactly_the_workers_deployed_and_listens_everywhere():
    plan = LoadPlan.read(K8S / "plan.json")
    assert plan.workers == deployment("worker.yaml")["spec"]["replicas"]
    assert plan.master_host == "*"
    assert plan.locustfiles == ("/app/loadtests/locustfile.py",)
    assert all(StagePlan(**stage) for stage in plan.stages)
    assert json.loads((K8S / "plan.json").read_text())["host"].startswith("http://")


def test_workers_are_admitted_by_the_apps_pods():
    policy = documents("networkpolicy.yaml")[0]
    allowed = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    labels = deployment("worker.yaml")["spec"]["template"]["metadata"]["labels"]
    assert allowed.items() <= labels.items()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_kustomization_renders():
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    kinds = [d["kind"] for d in yaml.safe_load_all(out) if d]
    assert sorted(kinds) == ["ConfigMap", "Deployment", "Deployment", "NetworkPolicy", "Service"]
