"""The k8s backend without a cluster: what can be proven here, is.

- The workload (namespace, Deployment, Service, HPA, rollout deadline) is read from the real
  `kubectl kustomize` rendering of every bundled overlay.
- The rest runs against a fake API server (recorded-style JSON for pods and the HPA, a pod proxy
  answering /api/metrics, a readiness probe) and a fake `kubectl` that records its arguments and
  prints what the real one prints for `proxy` and `port-forward`. The Kubernetes Python client
  talks HTTP to the fake through a kubeconfig, as it would to a cluster.
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

from harness.errors import ConfigError, StackError
from harness.stack.k8s import KubernetesStack, read_workload

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


class FakeApi(BaseHTTPRequestHandler):
    requests: list[str] = []

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
        if url.path == pods:
            assert parse_qs(url.query)["labelSelector"] == ["app=servicedesk"]
            items = [_pod(PODS[0], 0), _pod(PODS[1], 1)]
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
