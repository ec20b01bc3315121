"""What the local autoscaler did, as one frozen record: the HPA it ran, every decision, the replica
counts over time, and per sync the per-replica samples it decided on (so a run can be replayed).

``ScalingTrace.section(origin)`` writes results.json's ``extra["scaling"]`` (times in seconds since
``origin``); ``read_trace`` reads that section back into the same record (times as written). Both
edges are here, so the shape has one owner.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, cast

from harness.config.k8s import (
    HpaMetricTarget,
    HpaSpec,
    ResourceName,
    Resources,
    ScalingPolicy,
    ScalingRules,
)
from harness.stack.autoscaler import Decision, MetricRecommendation, PodSample, Reason

__all__ = [
    "MEASURED",
    "ReplicaCount",
    "ScalingTrace",
    "SyncSample",
    "TraceError",
    "read_trace",
    "shifted",
]

# What the emulation feeds the algorithm, against what a cluster's HPA would read.
MEASURED = {
    "cpu": "each replica process's CPU time (user + system) over the interval since the previous "
           "sync, read at the sync itself (a replica seen for the first time: over a short window "
           "at the sync); no collection lag",
    "memory": "each replica process's resident set size (RSS) at the sync",
    "cluster": "metrics-server: the container's cgroup CPU usage averaged over its scrape window "
               "(about 15 s) and its working-set memory (RSS plus active page cache), collected "
               "by the kubelet and reaching the HPA up to one window plus a resync late",
}


class TraceError(ValueError):
    """A scaling section that is not in the shape ``ScalingTrace.section`` writes."""


@dataclass(frozen=True)
class ReplicaCount:
    """Replicas at time ``t``: ``replicas`` running (starting or ready), ``ready`` of them ready
    (None: not recorded, take ``replicas``), ``desired`` the count the HPA wrote."""

    t: float
    replicas: int
    ready: int | None = None
    desired: int | None = None

    @property
    def ready_replicas(self) -> int:
        return self.replicas if self.ready is None else self.ready


@dataclass(frozen=True)
class SyncSample:
    """What one sync saw: the scale target's count (``current``) and every replica's sample."""

    t: float
    current: int
    pods: tuple[PodSample, ...]


@dataclass(frozen=True)
class ScalingTrace:
    """The autoscaler's whole run, frozen (times on one clock: epoch seconds while running)."""

    hpa: HpaSpec
    requests: Resources
    sync_period_seconds: float
    tolerance: float
    kubernetes_version: tuple[int, int]
    decisions: tuple[Decision, ...]
    counts: tuple[ReplicaCount, ...]
    syncs: tuple[SyncSample, ...] = ()
    error: str | None = None

    def tolerance_setting(self) -> float | dict[str, float]:
        """One number, or per direction when the manifest's behavior sets them (1.33+)."""
        up, down = self.hpa.scale_up.tolerance, self.hpa.scale_down.tolerance
        if up is None and down is None:
            return self.tolerance
        return {"up": self.tolerance if up is None else up,
                "down": self.tolerance if down is None else down}

    def section(self, origin: float) -> dict[str, Any]:
        """results.json's ``extra["scaling"]``: times in seconds since ``origin``."""
        def at(t: float | None) -> float | None:
            return None if t is None else round(t - origin, 3)

        hpa = self.hpa
        major, minor = self.kubernetes_version
        return {
            "hpa": {
                "name": hpa.name,
                "target": {"kind": hpa.target_kind, "name": hpa.target_name},
                "min_replicas": hpa.min_replicas,
                "max_replicas": hpa.max_replicas,
                "targets": {m.resource: m.average_utilization for m in hpa.metrics},
                "sync_period_seconds": self.sync_period_seconds,
                "tolerance": self.tolerance_setting(),
                "scale_down_window_seconds": hpa.scale_down.stabilization_window_seconds,
                "kubernetes_version": f"{major}.{minor}",
                "behavior": {
                    "present": hpa.has_behavior,
                    "scale_up": _rules_dict(hpa.scale_up),
                    "scale_down": _rules_dict(hpa.scale_down),
                },
                "requests": {"cpu_millicores": self.requests.cpu_millicores,
                             "memory_bytes": self.requests.memory_bytes},
                "measured": dict(MEASURED),
            },
            "decisions": [{**d.as_dict(), "time": at(d.time)} for d in self.decisions],
            "replicas": [
                {"t": at(c.t), "replicas": c.replicas,
                 **({"ready": c.ready} if c.ready is not None else {}),
                 **({"desired": c.desired} if c.desired is not None else {})}
                for c in self.counts
            ],
            "syncs": [
                {"t": at(s.t), "current": s.current,
                 "pods": [{"name": p.name, "ready": p.ready,
                           "cpu_millicores": _rounded(p.cpu_millicores),
                           "memory_bytes": _rounded(p.memory_bytes),
                           "started_at": at(p.started_at),
                           "ready_changed_at": at(p.ready_changed_at),
                           "cpu_window_start": at(p.cpu_window_start)} for p in s.pods]}
                for s in self.syncs
            ],
            **({"error": self.error} if self.error else {}),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _rules_dict(rules: ScalingRules) -> dict[str, Any]:
    return {
        "stabilization_window_seconds": rules.stabilization_window_seconds,
        "select_policy": rules.select_policy,
        "policies": [asdict(p) for p in rules.policies],
        "tolerance": rules.tolerance,
    }


# --------------------------------------------------------------------------- reading back


def read_trace(section: Any) -> ScalingTrace:
    """``extra["scaling"]`` back into a ScalingTrace; TraceError says what is wrong."""
    try:
        return _read(section)
    except TraceError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TraceError(f"not a scaling section as the harness writes it ({exc!r})") from None


def _read(section: Any) -> ScalingTrace:
    if not isinstance(section, Mapping):
        raise TraceError("the scaling section is not a mapping")
    hpa_data = section["hpa"]
    if "behavior" not in hpa_data or "requests" not in hpa_data:
        raise TraceError("the scaling section has no HPA behavior or requests (written by an "
                         "older harness)")
    behavior = hpa_data["behavior"]
    hpa = HpaSpec(
        min_replicas=int(hpa_data["min_replicas"]),
        max_replicas=int(hpa_data["max_replicas"]),
        metrics=tuple(HpaMetricTarget(_resource(k), int(v))
                      for k, v in hpa_data["targets"].items()),
        scale_up=_rules(behavior["scale_up"]),
        scale_down=_rules(behavior["scale_down"]),
        has_behavior=bool(behavior["present"]),
        name=str(hpa_data.get("name") or ""),
        target_kind=str((hpa_data.get("target") or {}).get("kind") or "Deployment"),
        target_name=str((hpa_data.get("target") or {}).get("name") or ""),
    )
    requests = Resources(_int_or_none(hpa_data["requests"].get("cpu_millicores")),
                                _int_or_none(hpa_data["requests"].get("memory_bytes")))
    tolerance = hpa_data.get("tolerance", 0.1)
    base = float(tolerance) if not isinstance(tolerance, Mapping) else 0.1
    major, minor = (int(p) for p in str(hpa_data.get("kubernetes_version", "1.33")).split("."))
    syncs = tuple(
        SyncSample(float(s["t"]), int(s["current"]),
                   tuple(_pod(p) for p in s["pods"]))
        for s in section.get("syncs") or ()
    )
    counts = tuple(
        ReplicaCount(float(c["t"]), int(c["replicas"]), _int_or_none(c.get("ready")),
                     _int_or_none(c.get("desired")))
        for c in section.get("replicas") or ()
    )
    decisions = tuple(_decision(d) for d in section.get("decisions") or ())
    return ScalingTrace(hpa, requests, float(hpa_data["sync_period_seconds"]), base,
                        (major, minor), decisions, counts, syncs, section.get("error"))


def _resource(name: Any) -> ResourceName:
    if name not in ("cpu", "memory"):
        raise TraceError(f"the HPA metric {name!r} is not cpu or memory")
    return cast(ResourceName, name)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        raise TraceError(f"{value!r} is not a finite number")
    return number


def _rules(data: Mapping[str, Any]) -> ScalingRules:
    return ScalingRules(
        stabilization_window_seconds=int(data["stabilization_window_seconds"]),
        select_policy=data["select_policy"],
        policies=tuple(ScalingPolicy(p["type"], int(p["value"]), int(p["period_seconds"]))
                       for p in data["policies"]),
        tolerance=_float_or_none(data.get("tolerance")),
    )


def _pod(data: Mapping[str, Any]) -> PodSample:
    return PodSample(
        name=str(data["name"]), ready=bool(data["ready"]),
        cpu_millicores=_float_or_none(data.get("cpu_millicores")),
        memory_bytes=_float_or_none(data.get("memory_bytes")),
        started_at=_float_or_none(data.get("started_at")),
        ready_changed_at=_float_or_none(data.get("ready_changed_at")),
        cpu_window_start=_float_or_none(data.get("cpu_window_start")),
    )


def _decision(data: Mapping[str, Any]) -> Decision:
    per_metric = tuple(
        MetricRecommendation(
            metric=str(m["metric"]), utilization_percent=_int_or_none(m.get("utilization_percent")),
            target_percent=int(m["target_percent"]), ratio=_float_or_none(m.get("ratio")),
            replicas=_int_or_none(m.get("replicas")), reason=Reason(m["reason"]),
            ready_pods=int(m.get("ready_pods", 0)), unready_pods=int(m.get("unready_pods", 0)),
            missing_pods=int(m.get("missing_pods", 0)), message=str(m.get("message", "")),
        )
        for m in data.get("per_metric") or ()
    )
    return Decision(float(data["time"]), int(data["current"]), per_metric,
                    int(data["recommended"]), int(data["desired"]), int(data["applied"]),
                    Reason(data["reason"]), str(data.get("message", "")))


def shifted(trace: ScalingTrace, offset: float) -> ScalingTrace:
    """The same trace with every time moved by ``offset`` (a clock's origin to another's)."""
    def move(t: float | None) -> float | None:
        return None if t is None else t + offset

    return replace(
        trace,
        decisions=tuple(replace(d, time=d.time + offset) for d in trace.decisions),
        counts=tuple(replace(c, t=c.t + offset) for c in trace.counts),
        syncs=tuple(
            SyncSample(s.t + offset, s.current, tuple(
                replace(p, started_at=move(p.started_at), ready_changed_at=move(p.ready_changed_at),
                        cpu_window_start=move(p.cpu_window_start)) for p in s.pods))
            for s in trace.syncs
        ),
    )

