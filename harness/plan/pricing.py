"""The dated price table (stack/pricing.yaml) and the monthly cost of one environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config.load import read_yaml
from harness.errors import ConfigError

__all__ = ["PRICING_FILE", "CostLine", "PriceTable", "load_prices", "monthly_cost"]

PRICING_FILE = "pricing.yaml"


@dataclass(frozen=True)
class PriceTable:
    source_file: str
    as_of: str
    retrieved: str
    region: str
    currency: str
    hours_per_month: float
    instances: Mapping[str, float]  # per hour
    vcpu_hour: float
    gib_hour: float
    control_plane_hour: float

    def instance_hourly(self, name: str) -> float:
        if name not in self.instances:
            raise ConfigError(self.source_file, ["instances", name], "no price for this instance "
                              "class", ", ".join(sorted(self.instances)))
        return self.instances[name]


@dataclass(frozen=True)
class CostLine:
    item: str  # e.g. "5 app pods (500m CPU, 0.5 GiB)"
    monthly: float


def _number(value: Any, source: str, field: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(source, field, f"expected a non-negative number, got {value!r}")
    return float(value)


def load_prices(stack_dir: Path) -> PriceTable:
    path = stack_dir / PRICING_FILE
    source = str(path)
    doc = read_yaml(path, missing="missing: the plan's monthly costs come from it")
    if not isinstance(doc, Mapping) or doc.get("version") != 1:
        raise ConfigError(source, "version", "missing or unsupported", "1")
    for key in ("as_of", "region", "currency"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ConfigError(source, key, "missing", "a non-empty string")
    instances = doc.get("instances")
    pods, cluster = doc.get("pods"), doc.get("cluster")
    if not isinstance(instances, Mapping) or not isinstance(pods, Mapping) or not isinstance(
            cluster, Mapping):
        raise ConfigError(source, None, "needs the mappings instances, pods and cluster")
    return PriceTable(
        source_file=source,
        as_of=str(doc["as_of"]),
        retrieved=str(doc.get("retrieved", "")),
        region=str(doc["region"]),
        currency=str(doc["currency"]),
        hours_per_month=_number(doc.get("hours_per_month", 730), source, ["hours_per_month"]),
        instances={str(k): _number(v, source, ["instances", str(k)]) for k, v in instances.items()},
        vcpu_hour=_number(pods.get("vcpu_hour"), source, ["pods", "vcpu_hour"]),
        gib_hour=_number(pods.get("gib_hour"), source, ["pods", "gib_hour"]),
        control_plane_hour=_number(cluster.get("control_plane_hour"), source,
                                   ["cluster", "control_plane_hour"]),
    )


def monthly_cost(prices: PriceTable, *, pods: int, pod_cpu_cores: float, pod_memory_gib: float,
                 database: str | None, cache: str | None, cluster: bool) -> tuple[CostLine, ...]:
    """Cost lines of one environment for a month (prices.hours_per_month hours)."""
    hours = prices.hours_per_month
    lines = []
    if pods:
        per_pod = (pod_cpu_cores * prices.vcpu_hour + pod_memory_gib * prices.gib_hour) * hours
        lines.append(CostLine(f"{pods} app pod{'s' if pods != 1 else ''} "
                              f"({pod_cpu_cores:g} vCPU, {pod_memory_gib:g} GiB requested)",
                              round(pods * per_pod, 2)))
    if cluster:
        lines.append(CostLine("Kubernetes control plane",
                              round(prices.control_plane_hour * hours, 2)))
    if database:
        lines.append(CostLine(f"PostgreSQL {database}",
                              round(prices.instance_hourly(database) * hours, 2)))
    if cache:
        lines.append(CostLine(f"Redis {cache}", round(prices.instance_hourly(cache) * hours, 2)))
    return tuple(lines)
