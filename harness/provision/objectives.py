"""The SLO spec as objectives with error budgets, and the multi-window, multi-burn-rate table.

Both the Prometheus rules and the Datadog monitors are drawn from these records, so a change to
loadtests/slo.yaml moves every threshold at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness import paths
from harness.config.model import SloSpec
from harness.errors import ConfigError

__all__ = [
    "BURN_WINDOWS",
    "BurnWindow",
    "Objective",
    "Severity",
    "number",
    "objectives",
    "prometheus_duration",
]

Severity = Literal["page", "ticket"]


@dataclass(frozen=True)
class Objective:
    """One SLO: the share of requests that must be good, and what "bad" means.

    Attributes:
        slo: the id used in rule labels and monitor tags ("availability", "latency-p95").
        kind: "errors" (5xx answers are bad) or "latency" (slower than `threshold_seconds`).
        target: the good share, e.g. 0.995.
        threshold_seconds: the latency bound (a histogram bucket bound), for kind "latency".
    """

    slo: str
    kind: Literal["errors", "latency"]
    target: float
    description: str
    threshold_seconds: float | None = None

    @property
    def budget(self) -> float:
        """The error budget: the share of requests allowed to be bad."""
        return round(1.0 - self.target, 12)


def objectives(spec: SloSpec) -> tuple[Objective, ...]:
    """Availability, then one latency objective per percentile the spec sets."""
    found = [
        Objective(
            slo="availability",
            kind="errors",
            target=round(spec.availability_percent / 100.0, 12),
            description=f"{number(spec.availability_percent)} % of requests answered without a "
            "server error (5xx)",
        )
    ]
    for percentile, ms in (("p95", spec.latency.p95_ms), ("p99", spec.latency.p99_ms)):
        if ms is None:
            continue
        share = int(percentile[1:])
        found.append(
            Objective(
                slo=f"latency-{percentile}",
                kind="latency",
                target=share / 100.0,
                threshold_seconds=round(ms / 1000.0, 9),
                description=f"{share} % of requests answered within {number(ms)} ms",
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class BurnWindow:
    """One row of the SRE workbook's multi-window, multi-burn-rate table (chapter 5, "Alerting
    on SLOs"): alert when both the long and the short window burn faster than `factor`, the
    rate that spends `budget_spent` of the period's budget within `long_seconds`."""

    severity: Severity
    long_seconds: int
    short_seconds: int
    budget_spent: float

    def factor(self, period_seconds: float) -> float:
        return round(self.budget_spent * period_seconds / self.long_seconds, 9)


# The workbook's table; for a 30-day period it gives the familiar 14.4, 6, 3 and 1.
BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow("page", 3600, 300, 0.02),
    BurnWindow("page", 6 * 3600, 1800, 0.05),
    BurnWindow("ticket", 86400, 2 * 3600, 0.10),
    BurnWindow("ticket", 3 * 86400, 6 * 3600, 0.10),
)


def check_period(spec: SloSpec) -> float:
    """The compliance period in seconds; it must hold the longest burn-rate window."""
    longest = max(w.long_seconds for w in BURN_WINDOWS)
    if spec.compliance_period < longest:
        raise ConfigError(
            str(paths.slo_spec_path()),
            "compliance_period",
            f"{prometheus_duration(spec.compliance_period)} is shorter than the longest "
            f"burn-rate window ({prometheus_duration(longest)})",
            f"a period of at least {prometheus_duration(longest)}, e.g. 28d or 30d",
        )
    return spec.compliance_period


def number(value: float) -> str:
    """A threshold as people write it: 14.4, 0.005, 6 (never 0.005000000000000004)."""
    return f"{value:.12g}"


def prometheus_duration(seconds: float) -> str:
    """A Prometheus duration in the largest unit that divides it: 30d, 6h, 5m, 90s."""
    whole = int(round(seconds))
    if whole <= 0 or abs(whole - seconds) > 1e-9:
        raise ValueError(f"not a whole number of seconds: {seconds!r}")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"
