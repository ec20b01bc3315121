"""The `k8s` backend: a bundled overlay applied to a real cluster, observed through its API.

`up` renders the overlay (`kubectl kustomize`) to learn the namespace, Deployment, Service and HPA
from the files themselves, applies it (`kubectl apply -k`), waits for the rollout within the
Deployment's own progress deadline, starts `kubectl proxy` on 127.0.0.1 (each pod's /api/metrics
is scraped through the API server) and, without `--target`, `kubectl port-forward` to the Service
(one pod takes all the load then: give the Ingress URL with `--target` for a real spread). While
the run lasts, pods (ready, restarts) and the HPA (current and desired replicas, utilization) are
read from the Kubernetes API every few seconds; `down` saves them (`k8s.json`) and what the
cluster's Prometheus saw (`--prometheus`), and stops the two kubectl processes. The applied
resources stay: the harness deployed an environment, it does not delete it (`kubectl delete -k`).
For a `rollout` fault it is the ClusterDeployment capability: `kubectl set env` and `kubectl
rollout undo` change the Deployment's template, and the Deployment, its ReplicaSets and its pods
being deleted are read through the API (harness.faults.rollout samples them).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness import paths
from harness.config.k8s import (
    APP_PORT,
    DEFAULT_PROGRESS_DEADLINE_SECONDS,
    DEFAULT_TERMINATION_GRACE_SECONDS,
    pre_stop_sleep,
)
from harness.errors import ConfigError, DependencyError, StackError
from harness.stack import processes, prometheus
from harness.stack.backend import Endpoints, Leftovers, Replica
from harness.stack.capabilities import Capabilities
from harness.stack.engine import LOOPBACK, Runner
from harness.stack.processes import ManagedProcess
from harness.stack.rollout import DeploymentState, ReplicaSetCount, RolloutPlan, resolve_fenceposts

__all__ = ["KubernetesStack", "Observation", "Workload", "read_workload"]

_SERVING = re.compile(r"Starting to serve on (\S+):(\d+)")
_FORWARDING = re.compile(r"Forwarding from (?:127\.0\.0\.1|\[::1\]):(\d+)")


@dataclass(frozen=True)
class Workload:
    """What the rendered overlay says the harness should look at."""

    namespace: str
    deployment: str
    selector: str  # a label selector, e.g. "app=servicedesk"
    container_port: int
    service: str
    service_port: int
    hpa: str | None
    progress_deadline: float  # seconds: the Deployment's progressDeadlineSeconds (default 600)
    container: str = "app"  # the app's container (`kubectl set image`)


def read_workload(manifests: str) -> Workload:
    """The app's Deployment, Service and HPA from `kubectl kustomize` output."""
    docs = [d for d in yaml.safe_load_all(manifests) if isinstance(d, dict)]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(str(doc.get("kind")), []).append(doc)
    deployments = by_kind.get("Deployment") or []
    if len(deployments) != 1:
        raise ConfigError("the rendered overlay", "Deployment",
                          f"expected one Deployment, found {len(deployments)}")
    deployment = deployments[0]
    spec = deployment.get("spec") or {}
    labels = ((spec.get("selector") or {}).get("matchLabels")) or {}
    containers = (((spec.get("template") or {}).get("spec") or {}).get("containers")) or [{}]
    ports = containers[0].get("ports") or [{}]
    container_port = int(ports[0].get("containerPort", APP_PORT))
    namespace = (deployment.get("metadata") or {}).get("namespace") or "default"
    service = next((s for s in by_kind.get("Service") or []
                    if _selector(s).items() <= labels.items() and _selector(s)), None)
    if service is None:
        raise ConfigError("the rendered overlay", "Service",
                          f"no Service selects the Deployment's pods ({labels})")
    hpas = by_kind.get("HorizontalPodAutoscaler") or []
    return Workload(
        namespace=namespace,
        deployment=deployment["metadata"]["name"],
        selector=",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        container_port=container_port,
        service=service["metadata"]["name"],
        service_port=int(((service.get("spec") or {}).get("ports") or [{}])[0].get("port", 80)),
        hpa=hpas[0]["metadata"]["name"] if hpas else None,
        progress_deadline=float(spec.get("progressDeadlineSeconds",
                                         DEFAULT_PROGRESS_DEADLINE_SECONDS)),
        container=str(containers[0].get("name", "app")),
    )


def _selector(service: Mapping[str, Any]) -> dict[str, str]:
    return dict((service.get("spec") or {}).get("selector") or {})


@dataclass(frozen=True)
class Observation:
    """The cluster at one moment: pods and the real HPA."""

    t: float
    pods: int
    ready: int
    restarts: int
    hpa_current: int | None = None
    hpa_desired: int | None = None
    utilization: Mapping[str, int] | None = None  # resource -> current average utilization %
    ready_pods: tuple[str, ...] = ()


ApiFactory = Callable[[str | None], Any]  # context -> kubernetes.client.ApiClient


def _api_client(context: str | None) -> Any:
    from kubernetes import config

    # KUBECONFIG as it is now (the client library reads it once, when first imported).
    files = os.environ.get("KUBECONFIG") or str(Path("~/.kube/config").expanduser())
    try:
        return config.new_client_from_config(config_file=files, context=context)
    except Exception as exc:  # ConfigException, a missing kubeconfig
        raise DependencyError(f"kubeconfig context {context!r} cannot be used: {exc}") from None


class KubernetesStack:
    """A bundled overlay on a real cluster. No autoscaler of the harness's: the HPA is observed.

    Attributes:
        observations: what the API said every `poll_interval` seconds while the run lasted.
    """

    name = "k8s"

    def __init__(
        self,
        *,
        context: str | None,
        overlay: str,
        log_dir: Path,
        target: str | None = None,
        prometheus_url: str | None = None,
        kubectl: str = "kubectl",
        poll_interval: float = 5.0,
        api: ApiFactory = _api_client,
        run: Runner = subprocess.run,
    ) -> None:
        overlays = paths.stack_dir() / "k8s" / "overlays"
        self.overlay_dir = overlays / overlay
        if not self.overlay_dir.is_dir():
            allowed = ", ".join(sorted(p.name for p in overlays.iterdir() if p.is_dir()))
            raise ConfigError(str(overlays), "--overlay", f"no overlay {overlay!r}", allowed)
        self.context = context
        self.log_dir = log_dir
        self.target = target.rstrip("/") if target else None
        self.prometheus_url = prometheus_url
        self.kubectl = kubectl
        self.poll_interval = poll_interval
        self.api_factory = api
        self.run = run
        self.workload: Workload | None = None
        self.observations: list[Observation] = []
        self._proxy: ManagedProcess | None = None
        self._forward: ManagedProcess | None = None
        self._proxy_url: str | None = None
        self._service_url: str | None = None
        self._api: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- up -----------------------------------------------------------------------------------

    def up(self) -> Endpoints:
        secrets_env = paths.k8s_base_dir() / "secrets.env"
        if not secrets_env.exists():
            raise ConfigError(str(secrets_env), None, "missing: copy secrets.env.example next to "
                              "it and set real values (the Secret is generated from it)")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        rendered = self._kubectl(["kustomize", str(self.overlay_dir)], timeout=120, context=False)
        self.workload = read_workload(rendered)
        self._kubectl(["apply", "-k", str(self.overlay_dir)], timeout=300)
        deadline = self.workload.progress_deadline
        self._kubectl(["-n", self.workload.namespace, "rollout", "status",
                       f"deployment/{self.workload.deployment}", f"--timeout={deadline:.0f}s"],
                      timeout=deadline + 30)
        self._api = self.api_factory(self.context)
        self._proxy_url = self._background("proxy", ["proxy", "--port=0", f"--address={LOOPBACK}"],
                                           _SERVING, lambda m: f"http://{LOOPBACK}:{m.group(2)}")
        if self.target:
            self._service_url = self.target
        else:
            self._service_url = self._background(
                "port-forward",
                ["-n", self.workload.namespace, "port-forward", f"--address={LOOPBACK}",
                 f"service/{self.workload.service}", f":{self.workload.service_port}"],
                _FORWARDING, lambda m: f"http://{LOOPBACK}:{m.group(1)}")
        self._wait_service()
        self.observations.append(self._observe())
        self._thread = threading.Thread(target=self._watch, name="k8s-observer", daemon=True)
        self._thread.start()
        return self.endpoints()

    def _kubectl(self, args: Sequence[str], *, timeout: float, context: bool = True) -> str:
        argv = [self.kubectl, *(["--context", self.context] if context and self.context else []),
                *args]
        try:
            done = self.run(argv, capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise DependencyError(f"{self.kubectl} is not installed") from None
        except subprocess.TimeoutExpired:
            raise StackError(f"`kubectl {args[0]}` did not finish within {timeout:.0f} s") from None
        with (self.log_dir / "kubectl.log").open("a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(argv)}\n{done.stdout if args[0] != 'kustomize' else ''}"
                         f"{done.stderr}\n")
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise StackError(f"`kubectl {' '.join(args[:3])}` failed: "
                             f"{lines[-1] if lines else done.returncode}")
        return done.stdout

    def _background(self, name: str, args: Sequence[str], ready: re.Pattern[str],
                    url: Callable[[re.Match[str]], str], timeout: float = 30.0) -> str:
        """A long-running kubectl (proxy, port-forward); its URL once it says where it listens."""
        argv = [self.kubectl, *(["--context", self.context] if self.context else []), *args]
        process = processes.start(f"kubectl-{name}", argv, env=_env(),
                                  log_path=self.log_dir / f"kubectl-{name}.log")
        if name == "proxy":
            self._proxy = process
        else:
            self._forward = process
        for _ in range(int(timeout * 4)):
            text = process.log_path.read_text(encoding="utf-8", errors="replace")
            match = ready.search(text)
            if match:
                return url(match)
            if not process.alive():
                raise StackError(f"kubectl {name} exited: {process.log_tail()}")
            time.sleep(0.25)
        raise StackError(f"kubectl {name} did not start listening within {timeout:.0f} s")

    def _wait_service(self, attempts: int = 30) -> None:
        assert self._service_url is not None  # noqa: S101
        last = ""
        with httpx.Client(timeout=5.0, verify=False) as client:  # noqa: S501 - self-signed ingress
            for _ in range(attempts):
                try:
                    if client.get(f"{self._service_url}/api/health/ready").status_code == 200:
                        return
                    last = "not ready"
                except httpx.HTTPError as exc:
                    last = type(exc).__name__
                time.sleep(1.0)
        raise StackError(f"{self._service_url} did not answer its readiness probe ({last})")

    # -- observing the cluster ----------------------------------------------------------------

    def _observe(self) -> Observation:
        from kubernetes import client

        assert self.workload is not None  # noqa: S101
        core = client.CoreV1Api(self._api)
        listed: Any = core.list_namespaced_pod(self.workload.namespace,
                                               label_selector=self.workload.selector)
        pods: list[Any] = list(listed.items or ())
        ready_pods = tuple(sorted(str(p.metadata.name) for p in pods if _ready(p)))
        restarts = sum(int(cs.restart_count or 0) for p in pods if p.status
                       for cs in (p.status.container_statuses or ()))
        current = desired = None
        utilization: dict[str, int] = {}
        if self.workload.hpa:
            hpa: Any = client.AutoscalingV2Api(self._api).read_namespaced_horizontal_pod_autoscaler(
                self.workload.hpa, self.workload.namespace)
            current, desired = hpa.status.current_replicas, hpa.status.desired_replicas
            for metric in hpa.status.current_metrics or ():
                resource = getattr(metric, "resource", None)
                if resource is not None and resource.current.average_utilization is not None:
                    utilization[resource.name] = int(resource.current.average_utilization)
        return Observation(time.time(), len(pods), len(ready_pods), restarts, current, desired,
                           utilization or None, ready_pods)

    def _watch(self) -> None:
        for _ in range(int(86400 / self.poll_interval)):  # a day at most
            if self._stop.wait(self.poll_interval):
                return
            try:
                seen = self._observe()
            except Exception as exc:  # the API is unreachable for a moment: keep watching
                (self.log_dir / "k8s-errors.log").open("a", encoding="utf-8").write(f"{exc}\n")
                continue
            with self._lock:
                self.observations.append(seen)

    def ready(self) -> bool:
        try:
            return self._observe().ready > 0
        except Exception:
            return False

    def endpoints(self) -> Endpoints:
        if self.workload is None or self._service_url is None:
            return Endpoints(backend=self.name, service_url="", replicas=())
        with self._lock:
            last = self.observations[-1] if self.observations else None
        w = self.workload
        replicas = tuple(
            Replica(name=pod, url=f"{self._proxy_url}/api/v1/namespaces/{w.namespace}/pods/"
                                  f"{pod}:{w.container_port}/proxy")
            for pod in (last.ready_pods if last else ())
        ) if self._proxy_url else ()
        return Endpoints(
            backend=self.name,
            service_url=self._service_url,
            replicas=replicas,
            prometheus_url=self.prometheus_url,
            database="the overlay's PostgreSQL (DATABASE_URL in the Secret)",
            cache="the overlay's Redis (CACHE_URL in the ConfigMap)",
            extra={"context": self.context or "(current)", "namespace": w.namespace,
                   "overlay": self.overlay_dir.name},
        )

    # -- a rollout: kubectl changes the template, the Deployment's controller rolls it ---------

    def _deployment(self) -> Any:
        from kubernetes import client

        assert self.workload is not None  # noqa: S101
        return client.AppsV1Api(self._api).read_namespaced_deployment(
            self.workload.deployment, self.workload.namespace)

    def rollout_plan(self) -> RolloutPlan:
        spec = self._deployment().spec
        replicas = int(spec.replicas if spec.replicas is not None else 1)
        rolling = (spec.strategy.rolling_update if spec.strategy else None)
        surge, unavailable = resolve_fenceposts(
            _int_or_percent(rolling.max_surge if rolling else None),
            _int_or_percent(rolling.max_unavailable if rolling else None), replicas)
        pod = spec.template.spec
        lifecycle = pod.containers[0].lifecycle if pod.containers else None
        return RolloutPlan(
            replicas=replicas, max_surge=surge, max_unavailable=unavailable,
            min_ready_seconds=float(spec.min_ready_seconds or 0),
            progress_deadline=float(spec.progress_deadline_seconds
                                    or DEFAULT_PROGRESS_DEADLINE_SECONDS),
            termination_grace=float(pod.termination_grace_period_seconds
                                    if pod.termination_grace_period_seconds is not None
                                    else DEFAULT_TERMINATION_GRACE_SECONDS),
            pre_stop=pre_stop_sleep(self._api.sanitize_for_serialization(lifecycle) or {}),
        )

    def change(self, settings: Mapping[str, str], image: str | None) -> None:
        assert self.workload is not None  # noqa: S101
        w = self.workload
        target = ["-n", w.namespace]
        edits = ([["set", "image", f"deployment/{w.deployment}", f"{w.container}={image}"]]
                 if image else [])
        if settings:  # the app's container only, not a sidecar beside it
            edits.append(["set", "env", f"deployment/{w.deployment}", f"--containers={w.container}",
                          *(f"{k}={v}" for k, v in sorted(settings.items()))])
        if len(edits) > 1:  # both in one rollout, as `kubectl rollout pause` is meant for
            edits = [["rollout", "pause", f"deployment/{w.deployment}"], *edits,
                     ["rollout", "resume", f"deployment/{w.deployment}"]]
        for edit in edits:
            self._kubectl([*target, *edit], timeout=60)

    def undo(self) -> None:
        assert self.workload is not None  # noqa: S101
        self._kubectl(["-n", self.workload.namespace, "rollout", "undo",
                       f"deployment/{self.workload.deployment}"], timeout=60)

    def state(self) -> DeploymentState:
        from kubernetes import client

        assert self.workload is not None  # noqa: S101
        deployment = self._deployment()
        apps = client.AppsV1Api(self._api)
        listed: Any = apps.list_namespaced_replica_set(self.workload.namespace,
                                                       label_selector=self.workload.selector)
        owned = [rs for rs in listed.items or ()
                 if any(o.uid == deployment.metadata.uid
                        for o in rs.metadata.owner_references or ())]
        pods: Any = client.CoreV1Api(self._api).list_namespaced_pod(
            self.workload.namespace, label_selector=self.workload.selector)
        status = deployment.status
        return DeploymentState(
            generation=int(deployment.metadata.generation or 0),
            observed_generation=int(status.observed_generation or 0),
            revision=_revision(deployment),
            replicas=int(deployment.spec.replicas if deployment.spec.replicas is not None else 1),
            replica_sets=tuple(ReplicaSetCount(
                str(rs.metadata.name), _revision(rs), int(rs.status.replicas or 0),
                int(rs.status.ready_replicas or 0), int(rs.status.available_replicas or 0))
                for rs in owned),
            terminating=sum(p.metadata.deletion_timestamp is not None for p in pods.items or ()),
            deadline_exceeded=any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
                                  for c in status.conditions or ()),
            pods=tuple((str(p.metadata.name), str(owner.name)) for p in pods.items or ()
                       if p.metadata.deletion_timestamp is None
                       for owner in p.metadata.owner_references or ()
                       if owner.kind == "ReplicaSet"),
        )

    # -- down ---------------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """The Deployment, rolled by kubectl; the pods and the HPA are observed, never driven."""
        return Capabilities(deployment=self)

    def down(self) -> Leftovers:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_interval + 10)
            self._thread = None
        if self.workload is not None:
            with self._lock:
                seen = [asdict(o) for o in self.observations]
            with contextlib.suppress(OSError):
                (self.log_dir / "k8s.json").write_text(json.dumps(
                    {"workload": asdict(self.workload), "observations": seen}, indent=2,
                    default=list), encoding="utf-8")
        if self.prometheus_url:
            with contextlib.suppress(Exception):
                prometheus.save_snapshot(self.prometheus_url, self.log_dir / "prometheus.json")
        for process in (self._forward, self._proxy):
            if process is not None:
                with contextlib.suppress(Exception):
                    processes.stop(process, timeout=5)
        self._forward = self._proxy = None
        if self._api is not None:
            with contextlib.suppress(Exception):
                self._api.close()
            self._api = None
        return Leftovers()  # the port-forward and proxy processes only


def _ready(pod: Any) -> bool:
    conditions = (pod.status.conditions or ()) if pod.status else ()
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _int_or_percent(value: Any) -> int | str:
    """A rolling update's maxSurge / maxUnavailable; unset is Kubernetes' 25%."""
    if value is None:
        return "25%"
    return value if isinstance(value, str) else int(value)


def _revision(resource: Any) -> int:
    annotations = resource.metadata.annotations or {}
    return int(annotations.get("deployment.kubernetes.io/revision", 0))


def _env() -> dict[str, str]:
    return dict(os.environ)
