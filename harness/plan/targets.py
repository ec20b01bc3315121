"""Each deployment target's scaling bounds and sizes, for the capacity plan.

- the database and cache configuration and the instance classes: stack/environments.yaml (read
  through harness.validate.environments, the same reader `harness validate` uses);
- HPA min/max replicas: the bundled HPA (stack/k8s/base/hpa.yaml) with each overlay's JSON-patch
  `replace` operations on /spec/minReplicas and /spec/maxReplicas applied, or no autoscaling when
  the overlay deletes the HPA (then the Deployment's replicas, after the overlay's patches);
- `compose`: one app container, no autoscaling.

Only the patch forms the bundled overlays use are understood (JSON 6902 `replace` on those three
paths, and a strategic-merge `$patch: delete` of the HPA); anything else is left as the base says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.config.k8s import ScalingSpec
from harness.errors import ConfigError
from harness.validate.environments import ENVIRONMENTS_FILE, load_environments
from harness.validate.model import EnvironmentSpec

__all__ = ["TargetSizing", "load_targets"]


@dataclass(frozen=True)
class TargetSizing:
    target: str
    environment: EnvironmentSpec
    autoscaled: bool
    min_replicas: int
    max_replicas: int
    max_surge: int  # extra pods during a rolling update, at max_replicas


def _surge(value: int | str, replicas: int) -> int:
    if isinstance(value, int):
        return value
    return math.ceil(int(value.rstrip("%")) / 100.0 * replicas)


def _patches(path: Path) -> list[Mapping[str, Any]]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(str(path), None, f"unreadable: {exc}") from None
    patches = doc.get("patches") or [] if isinstance(doc, Mapping) else []
    return [p for p in patches if isinstance(p, Mapping)]


def _overlay(path: Path, base: tuple[bool, int, int, int]) -> tuple[bool, int, int, int]:
    """(autoscaled, min, max, deployment replicas) after the overlay's patches."""
    autoscaled, low, high, replicas = base
    for patch in _patches(path):
        kind = (patch.get("target") or {}).get("kind")
        try:
            body = yaml.safe_load(str(patch.get("patch", ""))) or []
        except yaml.YAMLError:
            continue
        if isinstance(body, Mapping):
            if body.get("$patch") == "delete" and body.get("kind") == "HorizontalPodAutoscaler":
                autoscaled = False
            continue
        for op in body if isinstance(body, list) else []:
            if not isinstance(op, Mapping) or op.get("op") != "replace":
                continue
            where, value = op.get("path"), op.get("value")
            if not isinstance(value, int):
                continue
            if kind == "HorizontalPodAutoscaler" and where == "/spec/minReplicas":
                low = value
            elif kind == "HorizontalPodAutoscaler" and where == "/spec/maxReplicas":
                high = value
            elif kind == "Deployment" and where == "/spec/replicas":
                replicas = value
    return autoscaled, low, high, replicas


def load_targets(stack_dir: Path, scaling: ScalingSpec) -> tuple[TargetSizing, ...]:
    """Every target of stack/environments.yaml with its replica bounds."""
    path = stack_dir / ENVIRONMENTS_FILE
    try:
        declared = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("targets") or {}
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise ConfigError(str(path), "targets", f"unreadable: {exc}") from None
    environments = load_environments(stack_dir, list(declared))
    base = (True, scaling.hpa.min_replicas, scaling.hpa.max_replicas,
            scaling.deployment.replicas)
    out = []
    for target, environment in environments.items():
        if target == "compose":
            autoscaled, low, high = False, 1, 1
        else:
            kustomization = stack_dir / "k8s" / target / "kustomization.yaml"
            autoscaled, low, high, replicas = (
                _overlay(kustomization, base) if target != "base" and kustomization.is_file()
                else base
            )
            if not autoscaled:
                low = high = replicas
        surge = 0 if target == "compose" else _surge(scaling.deployment.max_surge, high)
        out.append(TargetSizing(target, environment, autoscaled, low, high, surge))
    return tuple(out)
