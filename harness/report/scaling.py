"""The autoscaler, the server connections and the pools, as the report reads them from `extra`.

    extra["scaling"]     = ScalingTrace.section (harness.stack.trace), read back by its reader
    extra["connections"] = ConnectionTrace.section (harness.collect.traces), read back by its reader
    extra["pools"]       = PoolTrace.section (harness.collect.traces), likewise

Times are seconds since the load started. Each `read_*` turns its section into frozen records, or
gives None when the section is absent or not in that shape (the report then shows it as a plain
table, as any other section). The sentences and table rows every format shows are made here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.collect.traces import ConnectionSample, PoolSample, SectionError
from harness.collect.traces import read_connections as read_connection_trace
from harness.collect.traces import read_pools as read_pool_trace
from harness.report.formatting import MISSING, format_number, format_seconds
from harness.report.results import RunResult
from harness.stack.autoscaler import DEFAULT_TOLERANCE, Decision, MetricRecommendation
from harness.stack.trace import ReplicaCount, ScalingTrace, TraceError, read_trace

__all__ = [
    "DEFAULT_TOLERANCE",
    "PRESSURE",
    "Capacity",
    "ConnectionSample",
    "Connections",
    "Hpa",
    "PoolSample",
    "Pools",
    "ReplicaCount",
    "Scaling",
    "change",
    "decision_rows",
    "decisions_summary",
    "read_capacity",
    "read_connections",
    "read_pools",
    "pool_sentence",
    "read_scaling",
    "scaling_sentences",
]


# --- scaling ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hpa:
    """The HorizontalPodAutoscaler the autoscaler ran: bounds, targets (% of request), tolerance."""

    min_replicas: int | None
    max_replicas: int | None
    targets: Mapping[str, float]
    tolerance_down: float = DEFAULT_TOLERANCE
    tolerance_up: float = DEFAULT_TOLERANCE
    sync_period_seconds: float | None = None
    scale_down_window_seconds: float | None = None

    @classmethod
    def of(cls, trace: ScalingTrace) -> Hpa:
        hpa = trace.hpa
        up, down = hpa.scale_up.tolerance, hpa.scale_down.tolerance
        return cls(
            min_replicas=hpa.min_replicas,
            max_replicas=hpa.max_replicas,
            targets={m.resource: float(m.average_utilization) for m in hpa.metrics},
            tolerance_down=trace.tolerance if down is None else down,
            tolerance_up=trace.tolerance if up is None else up,
            sync_period_seconds=trace.sync_period_seconds,
            scale_down_window_seconds=float(hpa.scale_down.stabilization_window_seconds),
        )

    def band(self, metric: str) -> tuple[float, float] | None:
        """The utilization (%) within which the metric leaves the replica count alone."""
        target = self.targets.get(metric)
        if target is None:
            return None
        return target * (1.0 - self.tolerance_down), target * (1.0 + self.tolerance_up)


def change(decision: Decision) -> int:
    """Replicas the decision added (negative: removed)."""
    return decision.applied - decision.current


@dataclass(frozen=True)
class Scaling:
    hpa: Hpa
    decisions: tuple[Decision, ...]  # times in seconds since the load started
    replicas: tuple[ReplicaCount, ...]  # the count after every sync (and at the start)

    def counts(self) -> tuple[ReplicaCount, ...]:
        """Replica counts over time: the recorded ones, else those the decisions applied."""
        if self.replicas:
            return self.replicas
        return tuple(ReplicaCount(d.time, d.applied) for d in self.decisions)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Metric names in the HPA's order, then any other a decision names."""
        names = dict.fromkeys(self.hpa.targets)
        for decision in self.decisions:
            names.update(dict.fromkeys(m.metric for m in decision.per_metric))
        return tuple(names)

    @property
    def peak_replicas(self) -> int | None:
        values = [c.replicas for c in self.counts()] + [d.applied for d in self.decisions]
        return max(values, default=None)

    @property
    def first_scale_up(self) -> Decision | None:
        return next((d for d in self.decisions if change(d) > 0), None)

    @property
    def reasons(self) -> Counter[str]:
        return Counter(str(d.reason) for d in self.decisions)


def read_scaling(extra: Mapping[str, Any]) -> Scaling | None:
    """extra["scaling"] through the trace's own reader, or None: absent, nothing recorded, or not
    a section the harness's autoscaler writes (TraceError: then it is shown as a plain table)."""
    section = extra.get("scaling")
    if section is None:
        return None
    try:
        trace = read_trace(section)
    except TraceError:
        return None
    if not trace.decisions and not trace.counts:
        return None
    return Scaling(Hpa.of(trace), tuple(sorted(trace.decisions, key=lambda d: d.time)),
                   tuple(sorted(trace.counts, key=lambda c: c.t)))


def _metric_text(use: MetricRecommendation) -> str:
    if use.utilization_percent is None:
        why = use.message or use.reason or "no metric"
        return f"{use.metric} {MISSING} ({why})"
    text = f"{use.metric} {format_number(use.utilization_percent, '%')}"
    if use.target_percent is not None:
        text += f" of {format_number(use.target_percent, '%')}"
    if use.replicas is not None:
        text += f" → {use.replicas}"
    return text


def decision_rows(scaling: Scaling) -> list[dict[str, str]]:
    """The decisions table: one row per sync, the count changes marked."""
    rows = []
    for d in scaling.decisions:
        rows.append({
            "time": f"{format_seconds(round(d.time, 1))} s",
            "replicas": f"{d.current} → {d.applied}" if change(d) else str(d.current),
            "recommended": MISSING if d.recommended is None else str(d.recommended),
            "reason": str(d.reason),
            "metrics": "\n".join(_metric_text(m) for m in d.per_metric) or MISSING,
            "message": d.message,
            "change": "up" if change(d) > 0 else ("down" if change(d) < 0 else ""),
        })
    return rows


def _by_reason(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in
                     sorted(reasons.items(), key=lambda item: (-item[1], item[0])))


def _change_text(decision: Decision) -> str:
    return (f"{decision.current} → {decision.applied} at "
            f"{format_seconds(round(decision.time, 1))} s")


def decisions_summary(scaling: Scaling, listed: int = 6) -> str:
    """"20 decisions; the count changed 2 times (3 → 5 at 14.2 s, …); by reason: …"."""
    decisions = scaling.decisions
    if not decisions:
        return "No decision was recorded."
    noun = "decision" if len(decisions) == 1 else "decisions"
    changes = [d for d in decisions if change(d)]
    if not changes:
        moves = "the replica count never changed"
    else:
        shown = ", ".join(_change_text(d) for d in changes[:listed])
        more = f" and {len(changes) - listed} more" if len(changes) > listed else ""
        times = "once" if len(changes) == 1 else f"{len(changes)} times"
        moves = f"the replica count changed {times} ({shown}{more})"
    return f"{len(decisions)} {noun}; {moves}; by reason: {_by_reason(scaling.reasons)}."


def scaling_sentences(scaling: Scaling) -> list[str]:
    """What summary.md says about the autoscaler: peak replicas, first scale-up, the decisions."""
    hpa = scaling.hpa
    counts = scaling.counts()
    start = counts[0].replicas if counts else None
    bounds = (f" (HPA {hpa.min_replicas}–{hpa.max_replicas})"
              if hpa.min_replicas is not None and hpa.max_replicas is not None else "")
    peak = scaling.peak_replicas
    first = f"Replicas: {start} at the start, at most {peak}{bounds}"
    if hpa.max_replicas is not None and peak is not None and peak >= hpa.max_replicas:
        first += ": the HPA's maximum was reached"
    up = scaling.first_scale_up
    if up is None:
        second = "No scale-up."
    else:
        why = f", {up.reason}" if up.reason and up.reason != "scale-up" else ""
        second = (f"First scale-up at {format_seconds(round(up.time, 1))} s "
                  f"({up.current} → {up.applied}{why}).")
    targets = ", ".join(f"{name} {format_number(value, '%')}"
                        for name, value in hpa.targets.items())
    sentences = [f"{first}.", second, decisions_summary(scaling)]
    if targets:
        sentences.append(f"Targets (% of request): {targets}, tolerance "
                         f"{format_number(hpa.tolerance_up * 100, '%')}.")
    return sentences


# --- server connections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Connections:
    """PostgreSQL's client connections (pg_stat_activity) over the run, and its limit."""

    samples: tuple[ConnectionSample, ...]
    failed_samples: int
    max_connections: int | None
    reserved: int | None
    limit: float | None  # max_connections − reserved: what the pools may open together
    full_scale: float | None  # HPA maxReplicas × DB_POOL_MAX (pool.connection-budget)

    @property
    def peak(self) -> int:
        return max((s.total for s in self.samples), default=0)


def _check(result: RunResult, check_id: str) -> Any:
    return next((c for c in result.checks if c.id == check_id), None)


def read_connections(result: RunResult) -> Connections | None:
    """extra["connections"] (through its own reader, harness.collect.traces) with its limit:
    from the section, else from the pool checks; None when absent, empty or in another shape."""
    section = result.extra.get("connections")
    if section is None:
        return None
    try:
        trace = read_connection_trace(section)
    except SectionError:
        return None
    if not trace.samples:
        return None
    samples, failed = trace.samples, trace.failed_samples
    max_connections, reserved = trace.max_connections, trace.reserved
    server = _check(result, "pool.server-connections")
    limit: float | None = None
    if max_connections is not None:
        limit = float(max_connections - (reserved or 0))
    elif server is not None and server.threshold is not None:
        limit = float(server.threshold)
    budget = _check(result, "pool.connection-budget")
    full_scale = budget.observed if budget is not None else None
    return Connections(samples, failed, max_connections, reserved, limit, full_scale)


# --- pools -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pools:
    samples: tuple[PoolSample, ...]
    pool_max: float | None  # DB_POOL_MAX: the samples' max, else the pool.max-in-use threshold

    @property
    def replicas(self) -> tuple[str, ...]:
        return tuple(sorted({s.replica for s in self.samples}))

    @property
    def peak_in_use(self) -> int:
        return max((s.in_use for s in self.samples), default=0)

    @property
    def peak_waiting(self) -> int:
        return max((s.waiting for s in self.samples), default=0)

    def share_at_least(self, fraction: float) -> tuple[int, int]:
        """(samples with in use >= fraction x DB_POOL_MAX, samples); (0, n) without a max."""
        if not self.pool_max:
            return 0, len(self.samples)
        bar = fraction * self.pool_max - 1e-9
        return sum(1 for s in self.samples if s.in_use >= bar), len(self.samples)

    def busiest_mean_in_use(self) -> float:
        """The mean in use of the replica whose mean is highest."""
        means = [
            sum(s.in_use for s in self.samples if s.replica == name)
            / max(sum(1 for s in self.samples if s.replica == name), 1)
            for name in self.replicas
        ]
        return max(means, default=0.0)


PRESSURE = 0.8  # of DB_POOL_MAX in use: a pool under pressure


def pool_sentence(pools: Pools) -> str:
    """Occupancy against the max, in use (lent out), not merely open."""
    text = f"Database pools: at most {pools.peak_in_use}"
    if pools.pool_max:
        text += (f" of {format_number(pools.pool_max)} connections in use on one replica "
                 f"({100 * pools.peak_in_use / pools.pool_max:.0f} % of DB_POOL_MAX; lent out, "
                 "not merely open)")
        high, total = pools.share_at_least(PRESSURE)
        text += f"; at least {100 * PRESSURE:.0f} % in use in {high} of {total} samples"
    else:
        text += " connections in use on one replica"
    return (f"{text}; the busiest replica held {pools.busiest_mean_in_use():.1f} in use on "
            f"average; at most {pools.peak_waiting} requests waiting.")


def read_pools(result: RunResult) -> Pools | None:
    """extra["pools"] through its own reader (harness.collect.traces); None when absent, empty
    or in another shape."""
    section = result.extra.get("pools")
    if section is None:
        return None
    try:
        samples = read_pool_trace(section).samples
    except SectionError:
        return None
    if not samples:
        return None
    maxima = [s.max for s in samples if s.max is not None]
    pool_max: float | None = float(max(maxima)) if maxima else None
    check = _check(result, "pool.max-in-use")
    if pool_max is None and check is not None and check.threshold is not None:
        pool_max = float(check.threshold)
    return Pools(samples, pool_max)


@dataclass(frozen=True)
class Capacity:
    """The sections with a view of their own in report.html; None where absent or unreadable."""

    scaling: Scaling | None
    connections: Connections | None
    pools: Pools | None

    @property
    def shown(self) -> frozenset[str]:
        """The extra keys these views show (not repeated as generic tables)."""
        views = {"scaling": self.scaling, "connections": self.connections, "pools": self.pools}
        return frozenset(key for key, view in views.items() if view is not None)


def read_capacity(result: RunResult) -> Capacity:
    return Capacity(read_scaling(result.extra), read_connections(result), read_pools(result))
