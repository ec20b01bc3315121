"""Autoscaler and disruption budget against the Deployment: the HPA targets something that exists,
the Deployment's replicas sit inside the HPA's bounds, and the PodDisruptionBudget leaves room for
at least one voluntary disruption at the smallest size the HPA allows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from harness.config.k8s import DisruptionBudget
from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import pdb_for, pod_labels, replica_range, selector_matches

__all__ = ["RULES", "check"]

HPA_TARGET = Rule(
    "hpa.target",
    Severity.ERROR,
    "the HPA's scaleTargetRef names a workload in the same rendering",
    "point scaleTargetRef at the Deployment (apiVersion apps/v1, kind Deployment, its name)",
)
HPA_REPLICAS = Rule(
    "hpa.replicas",
    Severity.WARNING,
    "minReplicas <= Deployment replicas <= maxReplicas",
    "set the Deployment's replicas inside the HPA's bounds (or minReplicas <= maxReplicas)",
)
PDB_BLOCKS = Rule(
    "pdb.blocks-disruption",
    Severity.ERROR,
    "the PDB allows a voluntary disruption at the HPA's minimum (seed: minAvailable 2 vs "
    "minReplicas 2)",
    "use maxUnavailable: 1, or raise the HPA's minReplicas above minAvailable",
)
PDB_SELECTOR = Rule(
    "pdb.selector",
    Severity.ERROR,
    "every PDB selects the pods of a workload",
    "make spec.selector match the Deployment's pod labels",
)
PDB_MISSING = Rule(
    "pdb.missing",
    Severity.WARNING,
    "a workload that always runs 2+ pods has a PDB",
    "add a PodDisruptionBudget with maxUnavailable: 1",
)
RULES = (HPA_TARGET, HPA_REPLICAS, PDB_BLOCKS, PDB_SELECTOR, PDB_MISSING)

_SCALABLE = ("Deployment", "StatefulSet")


def _budget(spec: Mapping[str, Any]) -> DisruptionBudget:
    """The PDB's numbers, for the disruption controller's arithmetic (DisruptionBudget.allowed)."""
    if "minAvailable" in spec:
        return DisruptionBudget(max_unavailable=None, min_available=spec["minAvailable"])
    return DisruptionBudget(max_unavailable=spec.get("maxUnavailable", 0))


def check(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        for hpa in target.of_kind("HorizontalPodAutoscaler"):
            ref = hpa.spec.get("scaleTargetRef") or {}
            workload = target.get(str(ref.get("kind")), str(ref.get("name")))
            low, high = int(hpa.spec.get("minReplicas", 1)), int(hpa.spec.get("maxReplicas", 1))
            where = target.where(hpa)
            if workload is None:
                yield HPA_TARGET.finding(
                    where,
                    message=f"scaleTargetRef {ref.get('kind')}/{ref.get('name')} is not in "
                    "this rendering",
                )
                continue
            if low > high:
                yield HPA_REPLICAS.finding(
                    where,
                    message=f"minReplicas {low} > maxReplicas {high}",
                    severity=Severity.ERROR,
                )
            replicas = workload.spec.get("replicas")
            if replicas is not None and not low <= int(replicas) <= high:
                yield HPA_REPLICAS.finding(
                    target.where(workload),
                    message=f"replicas {replicas} outside the HPA's {low}-{high}",
                )
        workloads = [o for o in target.objects if o.kind in _SCALABLE]
        for pdb in target.of_kind("PodDisruptionBudget"):
            covered = [
                w for w in workloads if selector_matches(pdb.spec.get("selector"), pod_labels(w))
            ]
            if not covered:
                yield PDB_SELECTOR.finding(
                    target.where(pdb),
                    message="selects no workload's pods",
                )
        for workload in workloads:
            low, _ = replica_range(target, workload)
            pdbs = list(pdb_for(target, workload))
            if not pdbs and low >= 2:
                yield PDB_MISSING.finding(
                    target.where(workload),
                    message=f"always {low}+ pods but no PodDisruptionBudget",
                )
            for pdb in pdbs:
                allowed = _budget(pdb.spec).allowed(low, low)
                if allowed < 1:
                    budget = {
                        k: pdb.spec[k] for k in ("minAvailable", "maxUnavailable") if k in pdb.spec
                    }
                    yield PDB_BLOCKS.finding(
                        target.where(pdb),
                        message=f"{budget} with {workload.ref} at its minimum of {low} pod(s) "
                        "allows "
                        f"{allowed} voluntary disruption(s): node drains and upgrades block",
                    )
