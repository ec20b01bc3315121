"""Requests and limits set, and HPA utilization targets a pod can actually reach with them."""

from __future__ import annotations

from collections.abc import Iterator

from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import containers, hpa_for, workloads
from harness.validate.units import format_bytes, k8s_cpu, k8s_memory

__all__ = ["RULES", "check"]

MISSING = Rule(
    "resources.missing",
    Severity.ERROR,
    "every container sets cpu and memory requests and limits",
    "set resources.requests and resources.limits for cpu and memory",
)
REQUEST_ABOVE_LIMIT = Rule(
    "resources.request-above-limit",
    Severity.ERROR,
    "no request exceeds its limit",
    "lower the request or raise the limit",
)
HPA_UNREACHABLE = Rule(
    "resources.hpa-unreachable",
    Severity.ERROR,
    "HPA target utilization x request stays below the limit (else the HPA can never scale on it)",
    "lower averageUtilization, lower the request, or raise the limit",
)
RULES = (MISSING, REQUEST_ABOVE_LIMIT, HPA_UNREACHABLE)

_PARSE = {"cpu": k8s_cpu, "memory": k8s_memory}


def _show(resource: str, value: float) -> str:
    return f"{value * 1000:.0f}m" if resource == "cpu" else format_bytes(value)


def check(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        for obj in workloads(target):
            hpa = hpa_for(target, obj)
            pod_requests: dict[str, float] = {"cpu": 0.0, "memory": 0.0}
            pod_limits: dict[str, float] = {"cpu": 0.0, "memory": 0.0}
            complete = True
            for c in containers(obj):
                where = target.where(obj, f"container {c.get('name')}")
                res = c.get("resources") or {}
                for resource in ("cpu", "memory"):
                    values = {}
                    for kind in ("requests", "limits"):
                        raw = (res.get(kind) or {}).get(resource)
                        if raw is None:
                            complete = False
                            yield MISSING.finding(
                                where, message=f"no {resource} in resources.{kind}"
                            )
                            continue
                        try:
                            values[kind] = _PARSE[resource](raw)
                        except ValueError as exc:
                            complete = False
                            yield MISSING.finding(
                                where, message=f"resources.{kind}.{resource} {raw!r}: want {exc}"
                            )
                    if len(values) == 2 and values["requests"] > values["limits"]:
                        yield REQUEST_ABOVE_LIMIT.finding(
                            where,
                            message=f"{resource} request {_show(resource, values['requests'])} "
                            "> limit "
                            f"{_show(resource, values['limits'])}",
                        )
                    pod_requests[resource] += values.get("requests", 0.0)
                    pod_limits[resource] += values.get("limits", 0.0)
            if hpa is None or not complete:
                continue
            for metric in hpa.spec.get("metrics") or []:
                if metric.get("type") != "Resource":
                    continue
                resource = str((metric.get("resource") or {}).get("name"))
                target_spec = (metric.get("resource") or {}).get("target") or {}
                if resource not in _PARSE or target_spec.get("type") != "Utilization":
                    continue
                utilization = float(target_spec.get("averageUtilization", 0))
                needed = utilization / 100 * pod_requests[resource]
                if needed >= pod_limits[resource]:
                    yield HPA_UNREACHABLE.finding(
                        target.where(hpa),
                        message=f"{resource} target {utilization:g} % of the request "
                        f"{_show(resource, pod_requests[resource])} is {_show(resource, needed)}, "
                        f"not below the limit {_show(resource, pod_limits[resource])}: "
                        f"a pod can never reach it",
                    )
