"""Rolling updates that drop nothing: new pods gated by readiness, a grace period that covers the
app's drain, and a rollout that takes no ready pod away where a PodDisruptionBudget promises
capacity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from harness.config.k8s import DEFAULT_TERMINATION_GRACE_SECONDS, pre_stop_sleep
from harness.validate.compose import service_environment
from harness.validate.model import Finding, K8sObject, RenderedTarget, Rule, Severity, Stack
from harness.validate.rules.k8s import (
    app_container,
    container_settings,
    containers,
    pdb_for,
    pod_spec,
    replica_range,
    surge,
)
from harness.validate.units import compose_seconds

__all__ = ["APP_DRAIN_DEFAULT_SECONDS", "RULES", "check"]

# The app's own default for SHUTDOWN_DRAIN_SECONDS (stack/app/servicedesk/settings.py; a test
# keeps the two equal), used when a rendering does not set the key.
APP_DRAIN_DEFAULT_SECONDS = 5.0
# Docker's default when the compose file says nothing (Kubernetes': harness.config.k8s).
COMPOSE_GRACE_DEFAULT_SECONDS = 10.0
_FALSE = ("0", "false", "no", "off")

READINESS = Rule(
    "rollout.readiness",
    Severity.ERROR,
    "every container of a RollingUpdate Deployment has a readinessProbe",
    "add a readinessProbe (the app: GET /api/health/ready on port http)",
)
GRACE = Rule(
    "rollout.grace-covers-drain",
    Severity.ERROR,
    "terminationGracePeriodSeconds (compose: stop_grace_period) exceeds the preStop sleep plus "
    "the app's SHUTDOWN_DRAIN_SECONDS",
    "raise terminationGracePeriodSeconds / stop_grace_period, or lower SHUTDOWN_DRAIN_SECONDS "
    "or the preStop sleep",
)
UNAVAILABLE = Rule(
    "rollout.max-unavailable",
    Severity.ERROR,
    "a Deployment under a PodDisruptionBudget rolls with maxUnavailable 0 and maxSurge >= 1",
    "strategy.rollingUpdate: {maxUnavailable: 0, maxSurge: 1}",
)
RULES = (READINESS, GRACE, UNAVAILABLE)


def _rolling(obj: K8sObject) -> bool:
    strategy = obj.spec.get("strategy") or {}
    return obj.kind == "Deployment" and strategy.get("type", "RollingUpdate") == "RollingUpdate"


def prestop_seconds(container: Mapping[str, Any]) -> float:
    """The preStop hook's sleep: the native `sleep` action or a `sleep N` in an exec command."""
    return pre_stop_sleep(container.get("lifecycle") or {})


def drain_seconds(settings: Mapping[str, str | None]) -> float | None:
    """What the app drains after SIGTERM with these settings (0 when the switch is off); None
    when SHUTDOWN_DRAIN_SECONDS is not a number."""
    graceful = settings.get("GRACEFUL_SHUTDOWN")
    if graceful is not None and graceful.strip().lower() in _FALSE:
        return 0.0
    drain = settings.get("SHUTDOWN_DRAIN_SECONDS")
    if drain is None:
        return APP_DRAIN_DEFAULT_SECONDS
    try:
        return float(drain)
    except ValueError:
        return None


def _unreadable(settings: Mapping[str, str | None]) -> str:
    return (
        f"SHUTDOWN_DRAIN_SECONDS={settings.get('SHUTDOWN_DRAIN_SECONDS')!r} is not a number of "
        "seconds: the grace period cannot be checked against the drain"
    )


def _check_readiness(target: RenderedTarget, obj: K8sObject) -> Iterator[Finding]:
    for container in containers(obj):
        if not isinstance(container.get("readinessProbe"), Mapping):
            yield READINESS.finding(
                target.where(obj, f"container {container.get('name')}"),
                message="no readinessProbe: a new pod counts as available as soon as its "
                "process starts, so the rollout stops old pods before the new ones can serve",
            )


def _check_grace(target: RenderedTarget, obj: K8sObject) -> Iterator[Finding]:
    container = app_container(obj)
    if container is None:
        return
    values = {k: s.value for k, s in container_settings(target, container, obj.file).items()}
    drain, prestop = drain_seconds(values), prestop_seconds(container)
    grace = float(pod_spec(obj).get("terminationGracePeriodSeconds",
                                    DEFAULT_TERMINATION_GRACE_SECONDS))
    if drain is None:
        yield GRACE.finding(target.where(obj), message=_unreadable(values))
    elif grace <= prestop + drain:
        yield GRACE.finding(
            target.where(obj),
            message=f"terminationGracePeriodSeconds {grace:g} <= preStop sleep {prestop:g} s + "
            f"SHUTDOWN_DRAIN_SECONDS {drain:g}: the kubelet kills the pod before its requests in "
            "flight finish",
        )


def _check_unavailable(target: RenderedTarget, obj: K8sObject) -> Iterator[Finding]:
    pdbs = list(pdb_for(target, obj))
    if not pdbs:
        return
    low, _ = replica_range(target, obj)
    rolling = (obj.spec.get("strategy") or {}).get("rollingUpdate") or {}
    raw = rolling.get("maxUnavailable", "25%")
    # Kubernetes rounds a percentage of maxUnavailable down; taken at the HPA's minimum.
    unavailable = (
        int(float(raw[:-1]) * low / 100) if isinstance(raw, str) and raw.endswith("%") else int(raw)
    )
    extra = surge(obj, low)
    if unavailable == 0 and extra >= 1:
        return
    yield UNAVAILABLE.finding(
        target.where(obj),
        message=f"maxUnavailable {raw} ({unavailable} pod(s) at the minimum of {low}), maxSurge "
        f"{extra} pod(s) under PodDisruptionBudget {pdbs[0].ref}: a rollout does not ask the PDB "
        "(only evictions do), so during a node drain the PDB allowed it takes pods down on top "
        "of the PDB's budget; the rule: maxUnavailable resolves to 0 and maxSurge to >= 1, so "
        "the rollout never lowers ready capacity and still makes progress",
    )


def _check_compose(stack: Stack) -> Iterator[Finding]:
    compose = stack.compose
    service = compose.service("app")
    if service is None:
        return
    env: Mapping[str, str | None] = service_environment(service)
    drain = drain_seconds(env)
    grace = compose_seconds(service.get("stop_grace_period", f"{COMPOSE_GRACE_DEFAULT_SECONDS}s"))
    if drain is None:
        yield GRACE.finding(compose.where("app"), message=_unreadable(env))
    elif grace <= drain:
        yield GRACE.finding(
            compose.where("app"),
            message=f"stop_grace_period {grace:g} s <= SHUTDOWN_DRAIN_SECONDS {drain:g}: Docker "
            "kills the container before its requests in flight finish",
        )


def check(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        for obj in target.of_kind("Deployment"):
            if not _rolling(obj):
                continue
            yield from _check_readiness(target, obj)
            yield from _check_grace(target, obj)
            yield from _check_unavailable(target, obj)
    yield from _check_compose(stack)
