"""The k8s backend without a cluster: what can be proven here, is.

- The workload (namespace, Deployment, Service, HPA, rollout deadline) is read from the real
  `kubectl kustomize` rendering of every bundled overlay.
- The rest runs against a fake API server (recorded-style JSON for pods and the HPA, a pod proxy
  answering /api/metrics, a readiness probe) and a fake `kubectl` that records its arguments and
  prints what the real one prints for `proxy` and `port-forward`. For a rollout, the fake server
  also serves a Deployment whose controller (`FakeDeployment`, maxSurge 1, maxUnavailable 0, one
  act per read of the Deployment) rolls ReplicaSets and pods when the fake `kubectl set env` or
  `rollout undo` patches it, with the status fields, revision annotations, owner references,
  deletion timestamps and Progressing condition a real API server serves. The Kubernetes Python
  client talks HTTP to the fake through a kubeconfig, as it would to a cluster.
Not proven here: a real apply, rollout, HPA or NetworkPolicy (see the README).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import psutil
import pytest
import yaml

from harness.config.faults import Rollout
from harness.config.model import SloSpec
from harness.errors import ConfigError, StackError
from harness.faults.injector import FaultInjector, FaultTarget
from harness.faults.records import Outcome
from harness.load.records import LoadResult
from harness.stack.k8s import KubernetesStack, read_workload
from harness.stack.rollout import RolloutPlan
from harness.verify.check import Verdict
from harness.verify.rollout import rollout_checks

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "servicedesk-staging"
PODS = ("servicedesk-app-7d9f-abcde", "servicedesk-app-7d9f-fghij")


def _pod(name: str, restarts: int, ready: bool = True) -> dict:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "servicedesk"}},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "servicedesk", "ready": ready, "restartCount": restarts,
                                   "image": "servicedesk:latest", "imageID": "",
                                   "state": {"running": {}}}],
        },
    }


HPA = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "servicedesk-app", "namespace": NAMESPACE},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                "name": "servicedesk-app"},
             "minReplicas": 1, "maxReplicas": 2},
    "status": {"currentReplicas": 2, "desiredReplicas": 2, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}},
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageUtilization": 55}}},
    ]},
}


UNREADY = "ARTIFICIAL_UNREADY"


class FakeDeployment:
    """A Deployment and its controller as the API shows them: 2 replicas, maxSurge 1,
    maxUnavailable 0, preStop `sleep 5`, 40 s of grace; a pod is ready one act after it was
    created unless its template sets ARTIFICIAL_UNREADY=true (the app then fails readiness); a
    deleted pod is terminating for one act. Without progress for progressDeadlineSeconds (real
    time) the Progressing condition turns ProgressDeadlineExceeded."""

    uid = "0f6c-deployment-uid"

    def __init__(self, deadline: int = 1, scale_to: int | None = None) -> None:
        self.lock = threading.Lock()
        self.deadline = deadline
        self.replicas = 2
        self.scale_to = scale_to  # spec.replicas once the rollout starts (an HPA acting)
        self.generation = self.observed = 1
        self.env: dict[str, str] = {}
        self.image = "servicedesk:latest"
        self.paused = False
        self.revision = 1
        self.sets: dict[str, dict] = {"servicedesk-app-r1": {"revision": 1, "env": {},
                                                             "image": self.image}}
        self.pods: list[dict] = [{"name": f"servicedesk-app-r1-{i}", "set": "servicedesk-app-r1",
                                  "ready": True, "terminating": False} for i in range(2)]
        self.serial = 0
        self.progress_at = time.monotonic()
        self.exceeded = False

    def patch(self, body: dict) -> None:
        with self.lock:
            if "paused" in body:  # the controller leaves a paused Deployment's changes
                self.paused = body["paused"]
                return
            if "undo" in body:  # the previous revision's template, as `rollout undo` does
                previous = max((s for s in self.sets.values() if s["revision"] < self.revision),
                               key=lambda s: s["revision"])
                self.env, self.image = dict(previous["env"]), previous["image"]
            elif "image" in body:
                self.image = body["image"]
            else:
                self.env = {**self.env, **body["env"]}
                self.replicas = self.scale_to or self.replicas
            self.generation += 1

    def _current(self) -> str:
        name = next((n for n, s in self.sets.items()
                     if (s["env"], s["image"]) == (self.env, self.image)), None)
        if name is None:
            name = f"servicedesk-app-r{len(self.sets) + 1}"
            self.sets[name] = {"revision": 0, "env": dict(self.env), "image": self.image}
        if self.sets[name]["revision"] != self.revision:
            self.revision += 1
            self.sets[name]["revision"] = self.revision
        return name

    def act(self) -> None:
        """One pass of the Deployment and ReplicaSet controllers and the kubelet."""
        with self.lock:
            if self.paused:
                return
            before = self._shape()
            self.pods = [p for p in self.pods if not p["terminating"]]
            for pod in self.pods:
                pod["ready"] = self.sets[pod["set"]]["env"].get(UNREADY) != "true"
            if self.observed < self.generation:
                self.observed = self.generation
                self.exceeded = False
                self.progress_at = time.monotonic()
            current = self._current()
            ours = [p for p in self.pods if p["set"] == current]
            others = sorted((p for p in self.pods if p["set"] != current),
                            key=lambda p: p["ready"])
            ready = sum(p["ready"] for p in self.pods)
            if len(ours) < self.replicas and len(self.pods) < self.replicas + 1:
                self.serial += 1
                self.pods.append({"name": f"{current}-{self.serial}", "set": current,
                                  "ready": False, "terminating": False})
            elif others and ready - others[0]["ready"] >= self.replicas:
                others[0]["terminating"] = True
            if self._shape() != before:
                self.progress_at = time.monotonic()
            elif time.monotonic() - self.progress_at > self.deadline and others:
                self.exceeded = True

    def _shape(self) -> tuple:
        return tuple((p["name"], p["ready"], p["terminating"]) for p in self.pods)

    def deployment(self) -> dict:
        self.act()
        with self.lock:
            condition = ({"type": "Progressing", "status": "False",
                          "reason": "ProgressDeadlineExceeded"} if self.exceeded else
                         {"type": "Progressing", "status": "True",
                          "reason": "NewReplicaSetAvailable"})
            return {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "servicedesk-app", "namespace": NAMESPACE, "uid": self.uid,
                             "generation": self.generation, "annotations": {
                                 "deployment.kubernetes.io/revision": str(self.revision)}},
                "spec": {"replicas": self.replicas, "minReadySeconds": 0,
                         "progressDeadlineSeconds": self.deadline,
                         "selector": {"matchLabels": {"app": "servicedesk"}},
                         "strategy": {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                         "template": {"metadata": {"labels": {"app": "servicedesk"}}, "spec": {
                             "terminationGracePeriodSeconds": 40,
                             "containers": [{"name": "app", "image": self.image,
                                             "env": [{"name": k, "value": v}
                                                     for k, v in sorted(self.env.items())],
                                             "lifecycle": {"preStop": {"exec": {
                                                 "command": ["sh", "-c", "sleep 5"]}}}}]}}},
                "status": {"observedGeneration": self.observed, "conditions": [condition]},
            }

    def replica_sets(self) -> list[dict]:
        with self.lock:
            items = []
            for name, rs in self.sets.items():
                pods = [p for p in self.pods if p["set"] == name and not p["terminating"]]
                ready = sum(p["ready"] for p in pods)
                items.append({
                    "apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": name, "namespace": NAMESPACE, "annotations": {
                        "deployment.kubernetes.io/revision": str(rs["revision"])},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "servicedesk-app", "uid": self.uid}]},
                    "spec": {"replicas": len(pods),
                             "selector": {"matchLabels": {"app": "servicedesk"}}},
                    "status": {"replicas": len(pods), "readyReplicas": ready,
                               "availableReplicas": ready},
                })
            return items

    def pod_list(self) -> list[dict]:
        with self.lock:
            items = []
            for pod in self.pods:
                item = _pod(pod["name"], 0, pod["ready"])
                item["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1",
                                                        "kind": "ReplicaSet", "name": pod["set"],
                                                        "uid": pod["set"]}]
                if pod["terminating"]:
                    item["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
                items.append(item)
            return items


class FakeApi(BaseHTTPRequestHandler):
    requests: list[str] = []
    deployment: FakeDeployment | None = None  # serves a Deployment when set

    def log_message(self, *args):  # quiet
        pass

    def _send(self, code: int, body: str, kind: str = "application/json") -> None:
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        url = urlsplit(self.path)
        FakeApi.requests.append(self.path)
        pods = f"/api/v1/namespaces/{NAMESPACE}/pods"
        apps = f"/apis/apps/v1/namespaces/{NAMESPACE}"
        fake = FakeApi.deployment
        if fake is not None and url.path == f"{apps}/deployments/servicedesk-app":
            return self._send(200, json.dumps(fake.deployment()))
        if fake is not None and url.path == f"{apps}/replicasets":
            assert parse_qs(url.query)["labelSelector"] == ["app=servicedesk"]
            return self._send(200, json.dumps({"apiVersion": "apps/v1", "kind": "ReplicaSetList",
                                               "metadata": {}, "items": fake.replica_sets()}))
        if url.path == pods:
            assert parse_qs(url.query)["labelSelector"] == ["app=servicedesk"]
            items = fake.pod_list() if fake else [_pod(PODS[0], 0), _pod(PODS[1], 1)]
            return self._send(200, json.dumps({"apiVersion": "v1", "kind": "PodList",
                                               "metadata": {}, "items": items}))
        if url.path == (f"/apis/autoscaling/v2/namespaces/{NAMESPACE}/"
                        "horizontalpodautoscalers/servicedesk-app"):
            return self._send(200, json.dumps(HPA))
        if url.path.startswith(pods + "/") and url.path.endswith(":3000/proxy/api/metrics"):
            return self._send(200, "servicedesk_http_requests_total 7\n", "text/plain")
        if url.path == "/api/health/ready":  # the Service, through the fake port-forward
            return self._send(200, '{"status": "ready"}')
        return self._send(404, "{}")

    def do_PATCH(self):  # noqa: N802 - the fake kubectl's `set env` and `rollout undo`
        FakeApi.requests.append(f"PATCH {self.path}")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert FakeApi.deployment is not None
        FakeApi.deployment.patch(body)
        return self._send(200, "{}")


FAKE_KUBECTL = r'''#!{python}
"""A stand-in for kubectl: records its arguments, answers like kubectl would."""
import json, os, subprocess, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[0] == "kustomize":
    sys.exit(subprocess.call(["{kubectl}", *args]))
verb = [a for a in args if not a.startswith("-")][2 if args[0] == "--context" else 0:]
port = os.environ["FAKE_API_PORT"]
if "apply" in args:
    if os.environ.get("FAKE_APPLY_FAIL"):
        print("error: the server could not find the requested resource", file=sys.stderr)
        sys.exit(1)
    print("deployment.apps/servicedesk-app configured")
elif {"set", "undo", "pause", "resume"} & set(args):  # patched in the fake API
    import urllib.request
    edits = [a for a in args if "=" in a and not a.startswith("-")]
    body = ({"undo": True} if "undo" in args else {"paused": True} if "pause" in args else
            {"paused": False} if "resume" in args else
            {"image": edits[0].split("=", 1)[1]} if "image" in args else
            {"env": dict(a.split("=", 1) for a in edits)})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/apis/apps/v1/namespaces/{args[args.index('-n') + 1]}"
        "/deployments/servicedesk-app", data=json.dumps(body).encode(), method="PATCH",
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    print("deployment.apps/servicedesk-app " + ("rolled back" if "undo" in args else "env updated"))
elif "rollout" in args:
    if os.environ.get("FAKE_ROLLOUT_FAIL"):
        print('error: deployment "servicedesk-app" exceeded its progress deadline',
              file=sys.stderr)
        sys.exit(1)
    print('deployment "servicedesk-app" successfully rolled out')
elif "proxy" in args:
    print(f"Starting to serve on 127.0.0.1:{port}", flush=True)
    time.sleep(600)
elif "port-forward" in args:
    print(f"Forwarding from 127.0.0.1:{port} -> 3000", flush=True)
    print(f"Forwarding from [::1]:{port} -> 3000", flush=True)
    time.sleep(600)
'''


@pytest.fixture
def cluster(tmp_path, monkeypatch, require_binary):
    """A private copy of the stack (with secrets.env), the fake API server, the fake kubectl and
    a kubeconfig whose context `fake` points at the fake server."""
    kubectl = require_binary("kubectl", "kubectl")
    root = tmp_path / "root"
    shutil.copytree(REPO / "stack", root / "stack",
                    ignore=shutil.ignore_patterns("app", "__pycache__", "secrets.env"))
    base = root / "stack" / "k8s" / "base"
    shutil.copyfile(base / "secrets.env.example", base / "secrets.env")
    monkeypatch.setenv("HARNESS_ROOT", str(root))

    FakeApi.requests = []
    FakeApi.deployment = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL.replace("{python}", sys.executable).replace("{kubectl}", kubectl))
    fake.chmod(0o755)
    log = tmp_path / "kubectl-calls.jsonl"
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    monkeypatch.setenv("FAKE_API_PORT", str(port))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "fake", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}},
                     {"name": "other", "context": {"cluster": "fake", "user": "fake"}}],
    }))
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    try:
        yield {"kubectl": str(fake), "calls": log, "port": port, "root": root}
    finally:
        server.shutdown()
        server.server_close()


def _calls(cluster) -> list[list[str]]:
    return [json.loads(line) for line in cluster["calls"].read_text().splitlines()]


# -- the workload, from the real rendering -----------------------------------------------------


@pytest.mark.parametrize(("overlay", "namespace", "hpa"), [
    ("development", "servicedesk-dev", None),
    ("staging", "servicedesk-staging", "servicedesk-app"),
    ("production", "servicedesk", "servicedesk-app"),
])
def test_the_workload_is_read_from_each_rendered_overlay(overlay, namespace, hpa, stack_copy,
                                                         require_binary):
    kubectl = require_binary("kubectl", "kubectl")
    base = stack_copy / "k8s" / "base"
    shutil.copyfile(base / "secrets.env.example", base / "secrets.env")
    folder = stack_copy / "k8s" / "overlays" / overlay
    rendered = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True,
                              timeout=60, check=True).stdout
    workload = read_workload(rendered)
    assert workload.namespace == namespace
    assert workload.hpa == hpa
    assert (workload.deployment, workload.service) == ("servicedesk-app", "servicedesk-app")
    assert (workload.selector, workload.container_port, workload.service_port) == \
        ("app=servicedesk", 3000, 80)
    assert workload.progress_deadline == 600  # Kubernetes' default; the Deployment sets none


def test_a_rendering_without_a_matching_service_is_a_config_error():
    deployment = {"kind": "Deployment", "metadata": {"name": "x"},
                  "spec": {"selector": {"matchLabels": {"app": "x"}}}}
    with pytest.raises(ConfigError, match="no Service selects"):
        read_workload(yaml.safe_dump(deployment))


# -- the backend against the fake cluster ------------------------------------------------------


def test_apply_rollout_observe_and_detach(cluster, tmp_path):
    stack = KubernetesStack(context="fake", overlay="staging", log_dir=tmp_path / "logs",
                            kubectl=cluster["kubectl"], poll_interval=0.2,
                            prometheus_url=None)
    try:
        endpoints = stack.up()
        assert endpoints.service_url == f"http://127.0.0.1:{cluster['port']}"
        assert [r.name for r in endpoints.replicas] == list(PODS)
        with httpx.Client(timeout=5.0) as client:
            for replica in endpoints.replicas:
                assert replica.url == (f"http://127.0.0.1:{cluster['port']}/api/v1/namespaces/"
                                       f"{NAMESPACE}/pods/{replica.name}:3000/proxy")
                assert client.get(f"{replica.url}/api/metrics").text.startswith("servicedesk_")
        assert endpoints.extra == {"context": "fake", "namespace": NAMESPACE,
                                   "overlay": "staging"}
        deadline = time.monotonic() + 10
        while len(stack.observations) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(stack.observations) >= 3  # the watcher keeps reading the API
        assert stack.ready()
        kubectl_pids = [p.pid for p in (stack._proxy, stack._forward)]
        assert all(psutil.pid_exists(pid) for pid in kubectl_pids)
    finally:
        stack.down()

    # Both long-running kubectl processes are gone.
    for pid in kubectl_pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    calls = _calls(cluster)
    overlay = str(cluster["root"] / "stack" / "k8s" / "overlays" / "staging")
    assert calls[0] == ["kustomize", overlay]  # rendering needs no cluster, so no context
    assert calls[1] == ["--context", "fake", "apply", "-k", overlay]
    assert calls[2] == ["--context", "fake", "-n", NAMESPACE, "rollout", "status",
                        "deployment/servicedesk-app", "--timeout=600s"]
    assert ["--context", "fake", "proxy", "--port=0", "--address=127.0.0.1"] in calls
    assert ["--context", "fake", "-n", NAMESPACE, "port-forward", "--address=127.0.0.1",
            "service/servicedesk-app", ":80"] in calls
    saved = json.loads((tmp_path / "logs" / "k8s.json").read_text())
    assert saved["workload"]["hpa"] == "servicedesk-app"
    first = saved["observations"][0]
    assert (first["pods"], first["ready"], first["restarts"]) == (2, 2, 1)
    assert (first["hpa_current"], first["hpa_desired"]) == (2, 2)
    assert first["utilization"] == {"cpu": 40, "memory": 55}
    # The Kubernetes client went to the context's server (the fake), not the current context's.
    assert any(r.startswith(f"/api/v1/namespaces/{NAMESPACE}/pods?") for r in FakeApi.requests)


def test_a_target_replaces_the_port_forward(cluster, tmp_path):
    target = f"http://127.0.0.1:{cluster['port']}"
    stack = KubernetesStack(context="fake", overlay="staging", log_dir=tmp_path,
                            kubectl=cluster["kubectl"], target=target + "/")
    try:
        assert stack.up().service_url == target
    finally:
        stack.down()
    assert not any("port-forward" in call for call in _calls(cluster))


def test_a_failed_rollout_is_a_stack_error_and_down_is_safe(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_ROLLOUT_FAIL", "1")
    stack = KubernetesStack(context="fake", overlay="staging", log_dir=tmp_path,
                            kubectl=cluster["kubectl"])
    with pytest.raises(StackError, match="exceeded its progress deadline"):
        stack.up()
    stack.down()
    stack.down()


def test_without_secrets_env_nothing_is_applied(cluster, tmp_path):
    (cluster["root"] / "stack" / "k8s" / "base" / "secrets.env").unlink()
    stack = KubernetesStack(context="fake", overlay="staging", log_dir=tmp_path,
                            kubectl=cluster["kubectl"])
    with pytest.raises(ConfigError, match=r"secrets.env: missing"):
        stack.up()
    assert not cluster["calls"].exists()


def test_an_unknown_overlay_names_the_allowed_ones(cluster, tmp_path):
    with pytest.raises(ConfigError, match=r"allowed: development, production, staging"):
        KubernetesStack(context="fake", overlay="qa", log_dir=tmp_path)


def test_the_cli_needs_a_context_for_k8s(tmp_path):
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--stack", "k8s",
                           "--no-progress", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HARNESS_STACK": ""})
    assert done.returncode == 2
    assert "--context" in done.stderr and "Traceback" not in done.stderr


# -- a rollout: kubectl patches the Deployment, its controller rolls, the API is read ------------


@pytest.fixture
def deploy(cluster, tmp_path):
    """deploy(deadline): the staging overlay up on the fake cluster, whose Deployment rolls
    with that progressDeadlineSeconds."""
    stacks = []

    def up(deadline: int, scale_to: int | None = None) -> KubernetesStack:
        FakeApi.deployment = FakeDeployment(deadline=deadline, scale_to=scale_to)
        stack = KubernetesStack(context="fake", overlay="staging", log_dir=tmp_path / "logs",
                                kubectl=cluster["kubectl"], poll_interval=60)
        stacks.append(stack)
        stack.up()
        return stack

    yield up
    for stack in stacks:
        stack.down()


def _roll(stack, fault: Rollout):
    """The injector's way: the backend's capability, the rollout, its event."""
    injector = FaultInjector([fault], FaultTarget.of(stack.capabilities()))
    injector.start(time.time() - fault.at)
    deadline = time.monotonic() + 60
    while not injector.events and time.monotonic() < deadline:
        time.sleep(0.05)
    (event,) = injector.stop(timeout=30)
    return event


def test_the_deployment_is_the_capability_and_its_plan_is_the_live_one(deploy):
    deployed = deploy(1)
    assert deployed.capabilities().deployment is deployed
    assert deployed.capabilities().replicas is None  # the cluster runs the pods
    assert deployed.rollout_plan() == RolloutPlan(replicas=2, max_surge=1, max_unavailable=0,
                                                  min_ready_seconds=0, progress_deadline=1,
                                                  termination_grace=40, pre_stop=5)
    state = deployed.state()
    assert (state.revision, state.replicas, state.observed, state.terminating) == (1, 2, True, 0)
    assert [(rs.name, rs.revision, rs.replicas, rs.ready) for rs in state.replica_sets] == \
        [("servicedesk-app-r1", 1, 2, 2)]


def test_a_rollout_is_kubectl_set_env_and_the_deployments_own_rollout(deploy, cluster):
    deployed = deploy(60)
    event = _roll(deployed, Rollout(kind="rollout", at=0,
                                    app_settings={"CACHE_TTL_SECONDS": "60"}))
    assert event.outcome == Outcome.INJECTED, event.detail
    facts = event.facts
    assert (facts["status"], facts["old_revision"], facts["new_revision"]) == ("complete", 1, 2)
    assert (facts["replicas"], facts["max_surge"], facts["max_unavailable"]) == (2, 1, 0)
    assert facts["retired"] == ["servicedesk-app-r1-0", "servicedesk-app-r1-1"]
    assert not facts["rolled_back"]
    samples = facts["samples"]
    assert max(s["new"] + s["old"] for s in samples) == 3  # the surge of one
    assert min(s["new_ready"] + s["old_ready"] for s in samples) == 2  # nothing unavailable
    assert any(s["terminating"] for s in samples)
    assert (samples[-1]["new"], samples[-1]["new_ready"], samples[-1]["old"]) == (2, 2, 0)
    assert ["--context", "fake", "-n", NAMESPACE, "set", "env", "deployment/servicedesk-app",
            "--containers=app", "CACHE_TTL_SECONDS=60"] in _calls(cluster)
    assert not any("undo" in call for call in _calls(cluster))
    checks = {c.id.rsplit(".", 1)[-1]: c.verdict
              for c in rollout_checks(event, _quiet_load(), SloSpec(), origin=event.injected_at)}
    assert checks == {"failed-requests": Verdict.PASS, "ready-floor": Verdict.PASS,
                      "surge-ceiling": Verdict.PASS, "p99": Verdict.SKIPPED,
                      "completed": Verdict.PASS}


def test_an_image_and_settings_are_one_rollout_between_pause_and_resume(deploy, cluster):
    deployed = deploy(60)
    event = _roll(deployed, Rollout(kind="rollout", at=0, image="servicedesk:v2",
                                    app_settings={"A": "1"}))
    assert (event.facts["status"], event.facts["new_revision"]) == ("complete", 2)
    deployment = ["deployment/servicedesk-app"]
    assert [c[4:] for c in _calls(cluster) if c[4:5] in (["set"], ["rollout"])][-4:] == [
        ["rollout", "pause", *deployment], ["set", "image", *deployment, "app=servicedesk:v2"],
        ["set", "env", *deployment, "--containers=app", "A=1"],
        ["rollout", "resume", *deployment]]
    assert FakeApi.deployment.image == "servicedesk:v2"


def test_a_rollout_completes_at_the_replica_count_an_hpa_wrote_meanwhile(deploy):
    deployed = deploy(60, scale_to=3)
    event = _roll(deployed, Rollout(kind="rollout", at=0, app_settings={"A": "1"}))
    assert event.facts["status"] == "complete"
    last = event.facts["samples"][-1]
    assert (last["new"], last["new_ready"], last["old"]) == (3, 3, 0)


@pytest.mark.parametrize(("deployments", "faults"), [
    (1, None),  # the Deployment's own deadline: its Progressing condition says so
    (600, 1.0),  # the fault's, shorter: the harness gives up first (`rollout status --timeout`)
])
def test_a_bad_version_stops_at_the_deadline_and_is_undone(deploy, cluster, deployments, faults):
    deployed = deploy(deployments)
    event = _roll(deployed, Rollout(kind="rollout", at=0, bad=True, progress_deadline=faults))
    facts = event.facts
    assert (facts["status"], facts["rolled_back"], facts["bad"]) == \
        ("deadline-exceeded", True, True)
    assert facts["progress_deadline_seconds"] == 1
    calls = _calls(cluster)
    assert ["--context", "fake", "-n", NAMESPACE, "set", "env", "deployment/servicedesk-app",
            "--containers=app", "ARTIFICIAL_UNREADY=true"] in calls
    assert calls[-1] == ["--context", "fake", "-n", NAMESPACE, "rollout", "undo",
                         "deployment/servicedesk-app"]
    samples = facts["samples"]
    assert all(s["new_ready"] == 0 for s in samples)  # the bad version never turned ready
    assert (samples[-1]["old_ready"], samples[-1]["new"], samples[-1]["terminating"]) == (2, 0, 0)
    assert facts["retired"] == []  # the old pods served throughout
    checks = {c.id.rsplit(".", 1)[-1]: c.verdict
              for c in rollout_checks(event, _quiet_load(), SloSpec(), origin=event.injected_at)}
    assert checks["stopped-at-deadline"] == Verdict.PASS
    assert checks["old-serving"] == Verdict.PASS
    assert checks["ready-floor"] == Verdict.PASS


def _quiet_load() -> LoadResult:
    """No requests: the capacity and deadline checks judge the API's samples alone."""
    return LoadResult(started_at=0.0, ended_at=600.0, intervals=(), errors=(), stages=())
