"""Health checks present and sane: the three Kubernetes probes on the app's endpoints, a startup
budget that covers boot, liveness never quicker to act than readiness; compose healthchecks and
start order; a HEALTHCHECK in the image."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from harness.config.k8s import APP_PORT
from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import APP_CONTAINER, app_container, workloads
from harness.validate.units import compose_seconds

__all__ = ["BOOT_BUDGET_SECONDS", "ENDPOINTS", "RULES", "check"]

# The seed asks for a startup probe of 30 attempts; whatever the period, the kubelet must wait at
# least this long for a cold start (migrations, cache warm-up) before it restarts the pod.
BOOT_BUDGET_SECONDS = 60
ENDPOINTS = {
    "startupProbe": "/api/health/startup",
    "livenessProbe": "/api/health/live",
    "readinessProbe": "/api/health/ready",
}
COMPOSE_HEALTHY = ("postgres", "redis", "app", "nginx")

MISSING = Rule(
    "probes.missing",
    Severity.ERROR,
    "the app container has startup, liveness and readiness probes",
    "add the probe (startup /api/health/startup, liveness /api/health/live, readiness "
    "/api/health/ready)",
)
ENDPOINT = Rule(
    "probes.endpoint",
    Severity.ERROR,
    "each probe asks the app's own health endpoint on port 3000",
    "point the probe at the endpoint named in the message, port 3000 (or the port named http)",
)
STARTUP_BUDGET = Rule(
    "probes.startup-budget",
    Severity.ERROR,
    f"startup failureThreshold x periodSeconds covers boot (>= {BOOT_BUDGET_SECONDS} s; seed: "
    "30 attempts)",
    "raise startupProbe.failureThreshold (the seed: 30) or periodSeconds",
)
LIVENESS_STRICTER = Rule(
    "probes.liveness-stricter",
    Severity.ERROR,
    "liveness is not stricter than readiness (a slow pod leaves the Service before it is killed)",
    "give livenessProbe a failureThreshold x periodSeconds and timeout at least readiness's",
)
TIMEOUT = Rule(
    "probes.timeout",
    Severity.WARNING,
    "a probe's timeoutSeconds is shorter than its periodSeconds",
    "lower timeoutSeconds below periodSeconds",
)
COMPOSE_HEALTHCHECK = Rule(
    "probes.compose-healthcheck",
    Severity.ERROR,
    "compose postgres, redis, app and nginx have healthchecks; app's start period covers boot",
    "add a healthcheck (app: GET /api/health/ready, start_period >= the boot budget)",
)
COMPOSE_DEPENDS_ON = Rule(
    "probes.compose-depends-on",
    Severity.ERROR,
    "compose app waits for healthy postgres and redis",
    "depends_on: {postgres: {condition: service_healthy}, redis: {condition: service_healthy}}",
)
IMAGE_HEALTHCHECK = Rule(
    "probes.image-healthcheck",
    Severity.WARNING,
    "the image declares a HEALTHCHECK",
    "add HEALTHCHECK CMD ... /api/health/live to the Dockerfile's final stage",
)
RULES = (
    MISSING,
    ENDPOINT,
    STARTUP_BUDGET,
    LIVENESS_STRICTER,
    TIMEOUT,
    COMPOSE_HEALTHCHECK,
    COMPOSE_DEPENDS_ON,
    IMAGE_HEALTHCHECK,
)


def _window(probe: Mapping[str, Any]) -> int:
    return int(probe.get("failureThreshold", 3)) * int(probe.get("periodSeconds", 10))


def _port_matches(port: Any, container: Mapping[str, Any]) -> bool:
    if isinstance(port, int):
        return port == APP_PORT
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p.get("containerPort", 0)) == APP_PORT
    return False


def _check_k8s(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        for obj in workloads(target):
            container = app_container(obj)
            if container is None:
                continue
            where = target.where(obj, f"container {APP_CONTAINER}")
            probes = {kind: container.get(kind) for kind in ENDPOINTS}
            for kind, path in ENDPOINTS.items():
                probe = probes[kind]
                if not isinstance(probe, Mapping):
                    yield MISSING.finding(where, message=f"no {kind}")
                    continue
                http = probe.get("httpGet") or {}
                if http.get("path") != path or not _port_matches(http.get("port"), container):
                    yield ENDPOINT.finding(
                        where,
                        message=f"{kind} asks {http.get('path')!r} on port "
                        f"{http.get('port')!r}; want {path} on {APP_PORT}",
                    )
                if int(probe.get("timeoutSeconds", 1)) >= int(probe.get("periodSeconds", 10)):
                    yield TIMEOUT.finding(
                        where,
                        message=f"{kind} timeoutSeconds {probe.get('timeoutSeconds')} >= "
                        f"periodSeconds {probe.get('periodSeconds', 10)}",
                    )
            startup = probes["startupProbe"]
            if isinstance(startup, Mapping) and _window(startup) < BOOT_BUDGET_SECONDS:
                yield STARTUP_BUDGET.finding(
                    where,
                    message=f"startupProbe gives up after {startup.get('failureThreshold', 3)} x "
                    f"{startup.get('periodSeconds', 10)} s = {_window(startup)} s < "
                    f"{BOOT_BUDGET_SECONDS} s",
                )
            live, ready = probes["livenessProbe"], probes["readinessProbe"]
            if isinstance(live, Mapping) and isinstance(ready, Mapping):
                live_t, ready_t = (
                    int(live.get("timeoutSeconds", 1)),
                    int(ready.get("timeoutSeconds", 1)),
                )
                if _window(live) < _window(ready) or live_t < ready_t:
                    yield LIVENESS_STRICTER.finding(
                        where,
                        message=f"liveness acts after {_window(live)} s (timeout {live_t} s), "
                        "readiness after "
                        f"{_window(ready)} s (timeout {ready_t} s): pods are restarted before "
                        "they are taken out of rotation",
                    )


def _check_compose(stack: Stack) -> Iterator[Finding]:
    compose = stack.compose
    for name in COMPOSE_HEALTHY:
        svc = compose.service(name)
        if svc is None:
            continue
        where = compose.where(name)
        health = svc.get("healthcheck")
        if not isinstance(health, Mapping) or health.get("disable") or not health.get("test"):
            yield COMPOSE_HEALTHCHECK.finding(where, message=f"service {name} has no healthcheck")
            continue
        if (
            name == "app"
            and compose_seconds(health.get("start_period", "0s")) < BOOT_BUDGET_SECONDS
        ):
            yield COMPOSE_HEALTHCHECK.finding(
                where,
                message=f"start_period {health.get('start_period', '0s')} is shorter than the "
                "boot budget "
                f"({BOOT_BUDGET_SECONDS} s)",
            )
    app = compose.service("app")
    if app is not None:
        depends = app.get("depends_on") or {}
        for dep in ("postgres", "redis"):
            condition = (
                (depends.get(dep) or {}).get("condition") if isinstance(depends, Mapping) else None
            )
            if condition != "service_healthy":
                yield COMPOSE_DEPENDS_ON.finding(
                    compose.where("app"),
                    message=f"app does not wait for {dep} to be healthy (condition {condition!r})",
                )


def _check_dockerfile(stack: Stack) -> Iterator[Finding]:
    final = re.split(r"(?im)^\s*FROM\s", stack.dockerfile_text)[-1]
    if not re.search(r"(?im)^\s*HEALTHCHECK\s+(?!NONE)", final):
        yield IMAGE_HEALTHCHECK.finding(
            target="image", file=stack.dockerfile, object="final stage", message="no HEALTHCHECK"
        )


def check(stack: Stack) -> Iterator[Finding]:
    yield from _check_k8s(stack)
    yield from _check_compose(stack)
    yield from _check_dockerfile(stack)
