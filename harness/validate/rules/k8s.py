"""Reading rendered Kubernetes objects: the app's Deployment and container, its HPA and PDB,
label selectors, rolling-update surge, and the settings the app container receives."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.config.k8s import APP_CONTAINER, scaled_value
from harness.validate.model import K8sObject, RenderedTarget

__all__ = [
    "APP_CONTAINER",
    "Setting",
    "app_container",
    "app_deployment",
    "app_pods",
    "container_settings",
    "containers",
    "hpa_for",
    "pdb_for",
    "pod_labels",
    "pod_spec",
    "replica_range",
    "selector_matches",
    "settings_file",
    "surge",
    "workloads",
]

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def workloads(target: RenderedTarget) -> tuple[K8sObject, ...]:
    return tuple(o for o in target.objects if o.kind in WORKLOAD_KINDS)


def pod_spec(obj: K8sObject) -> Mapping[str, Any]:
    spec = ((obj.spec.get("template") or {}).get("spec")) or {}
    return spec if isinstance(spec, Mapping) else {}


def pod_labels(obj: K8sObject) -> Mapping[str, str]:
    return ((obj.spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def containers(obj: K8sObject) -> tuple[Mapping[str, Any], ...]:
    return tuple(c for c in pod_spec(obj).get("containers") or [] if isinstance(c, Mapping))


def app_deployment(target: RenderedTarget) -> K8sObject | None:
    for obj in target.of_kind("Deployment"):
        if any(c.get("name") == APP_CONTAINER for c in containers(obj)):
            return obj
    return None


def app_container(obj: K8sObject) -> Mapping[str, Any] | None:
    for c in containers(obj):
        if c.get("name") == APP_CONTAINER:
            return c
    return None


def app_pods(
    targets: Iterable[RenderedTarget],
) -> Iterator[tuple[RenderedTarget, K8sObject, Mapping[str, Any]]]:
    """Each rendering with its app Deployment and app container (renderings without skipped)."""
    for target in targets:
        dep = app_deployment(target)
        container = app_container(dep) if dep else None
        if dep is not None and container is not None:
            yield target, dep, container


def settings_file(target: RenderedTarget, dep: K8sObject) -> str:
    """The file the app's settings come from: the ConfigMap's, else the Deployment's."""
    return next((o.file for o in target.of_kind("ConfigMap")), dep.file)


def hpa_for(target: RenderedTarget, obj: K8sObject) -> K8sObject | None:
    for hpa in target.of_kind("HorizontalPodAutoscaler"):
        ref = hpa.spec.get("scaleTargetRef") or {}
        if ref.get("kind") == obj.kind and ref.get("name") == obj.name:
            return hpa
    return None


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics; an empty selector matches everything."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def pdb_for(target: RenderedTarget, obj: K8sObject) -> Iterator[K8sObject]:
    labels = pod_labels(obj)
    for pdb in target.of_kind("PodDisruptionBudget"):
        if selector_matches(pdb.spec.get("selector"), labels):
            yield pdb


def replica_range(target: RenderedTarget, obj: K8sObject) -> tuple[int, int]:
    """(fewest, most) pods the controller keeps: the HPA's bounds, else `replicas`."""
    hpa = hpa_for(target, obj)
    if hpa is not None:
        low = int(hpa.spec.get("minReplicas", 1))
        return low, int(hpa.spec.get("maxReplicas", low))
    replicas = int(obj.spec.get("replicas", 1))
    return replicas, replicas


def surge(obj: K8sObject, pods: int) -> int:
    """Extra pods a rolling update adds on top of `pods` (maxSurge rounds up, default 25 %)."""
    strategy = obj.spec.get("strategy") or {}
    if obj.kind != "Deployment" or strategy.get("type") == "Recreate":
        return 0
    rolling = strategy.get("rollingUpdate") or {}
    return scaled_value(rolling.get("maxSurge", "25%"), pods, round_up=True)


@dataclass(frozen=True, slots=True)
class Setting:
    """One environment variable the container gets: its value (None when it comes from a
    Secret), where it comes from (`configmap`, `secret`, `literal`, `field`) and which file."""

    value: str | None
    source: str
    file: str


def container_settings(
    target: RenderedTarget, container: Mapping[str, Any], file: str
) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for ref in container.get("envFrom") or []:
        prefix = ref.get("prefix") or ""
        if ref.get("configMapRef"):
            cm = target.get("ConfigMap", str(ref["configMapRef"].get("name")))
            if cm is not None:
                for key, value in (cm.body.get("data") or {}).items():
                    out[prefix + key] = Setting(str(value), "configmap", cm.file)
        if ref.get("secretRef"):
            secret = target.get("Secret", str(ref["secretRef"].get("name")))
            if secret is not None:
                data = {**(secret.body.get("data") or {}), **(secret.body.get("stringData") or {})}
                for key in data:
                    out[prefix + key] = Setting(None, "secret", secret.file)
    for var in container.get("env") or []:
        name = str(var.get("name"))
        if "value" in var:
            out[name] = Setting(str(var.get("value")), "literal", file)
            continue
        source = var.get("valueFrom") or {}
        if source.get("secretKeyRef"):
            out[name] = Setting(None, "secret", file)
        elif source.get("configMapKeyRef"):
            ref = source["configMapKeyRef"]
            cm = target.get("ConfigMap", str(ref.get("name")))
            value = (cm.body.get("data") or {}).get(ref.get("key")) if cm else None
            out[name] = Setting(
                None if value is None else str(value), "configmap", cm.file if cm else file
            )
        else:
            out[name] = Setting(None, "field", file)
    return out
