"""Each deployment target's scaling bounds and sizes, for the capacity plan.

- the database and cache configuration and the instance classes: stack/environments.yaml (read
  through harness.validate.environments, the same reader `harness validate` uses);
- replicas: each kustomize target rendered with `kubectl kustomize`, as `harness validate`
  renders it, and read with validate's readers: the HPA's min/max replicas, or the Deployment's
  replicas where the overlay deletes the HPA; the rolling update's surge at the maximum;
- `compose`: one app container, no autoscaling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.config.load import read_yaml
from harness.errors import ConfigError
from harness.validate.environments import ENVIRONMENTS_FILE, load_environments
from harness.validate.model import EnvironmentSpec
from harness.validate.render import render_targets
from harness.validate.rules.k8s import app_deployment, hpa_for, replica_range, surge

__all__ = ["TargetSizing", "load_targets"]

COMPOSE = "compose"


@dataclass(frozen=True)
class TargetSizing:
    target: str
    environment: EnvironmentSpec
    autoscaled: bool
    min_replicas: int
    max_replicas: int
    max_surge: int  # extra pods during a rolling update, at max_replicas


def load_targets(stack_dir: Path, *, kubectl: str = "kubectl") -> tuple[TargetSizing, ...]:
    """Every target of stack/environments.yaml with its replica bounds."""
    path = stack_dir / ENVIRONMENTS_FILE
    doc = read_yaml(path)
    declared = doc.get("targets") if isinstance(doc, Mapping) else None
    if not isinstance(declared, Mapping):
        raise ConfigError(str(path), "targets", "missing or not a mapping")
    environments = load_environments(stack_dir, list(declared))
    renderings = {
        r.name: r
        for r in render_targets(
            stack_dir, kubectl=kubectl, targets=[t for t in environments if t != COMPOSE]
        )
    }
    out = []
    for target, environment in environments.items():
        if target == COMPOSE:
            out.append(TargetSizing(target, environment, False, 1, 1, 0))
            continue
        rendering = renderings[target]
        dep = app_deployment(rendering)
        if dep is None:
            raise ConfigError(f"{stack_dir / rendering.path}", None,
                              "renders no Deployment with the app container")
        low, high = replica_range(rendering, dep)
        autoscaled = hpa_for(rendering, dep) is not None
        out.append(TargetSizing(target, environment, autoscaled, low, high, surge(dep, high)))
    return tuple(out)
