"""Capacity from a step run: the knee, what one replica carries at the HPA target, and what a
projected load needs in replicas, database connections, Redis memory and money, per environment.

Every rule here is one a person can redo by hand from the stage table of the report:

- knee: the first stage whose p95 exceeds the SLO's p95 or whose error rate exceeds
  `max_error_percent`; the stage before it is the last good one. When p95 is the cause, the
  offered load at which p95 crosses the SLO is interpolated linearly between the two stages.
- CPU model: per-replica CPU (% of one core) against per-replica requests/s over the good stages,
  a least-squares line `cpu = a + b x rps` (through the origin when there are fewer than two
  good stages or the fitted intercept is negative).
- RPS per replica at the HPA target: `(target% x CPU request - a) / b`, e.g. 70 % of 500m is
  35 % of a core.
- replicas for a projected load: `ceil(projected x (1 + headroom) / rps_per_replica)`, at least
  the environment's minReplicas; it fits when it is at most maxReplicas.
- database connections: `(replicas + maxSurge) x DB_POOL_MAX` against
  `max_connections - superuser_reserved_connections - headroom` (stack/environments.yaml).
- Redis memory: ticket bodies are cached for CACHE_TTL_SECONDS, so at most
  `ticket reads/s x TTL` keys live at once, each `TICKET_ENTRY_BYTES` (measured, see below).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.config.k8s import ScalingSpec
from harness.load.health import CPU_LIMIT_PERCENT
from harness.plan.pricing import CostLine, PriceTable, monthly_cost
from harness.plan.stages import StageLoad
from harness.plan.targets import TargetSizing

__all__ = [
    "GENERATOR_SATURATED",
    "TICKET_BODY_BYTES",
    "TICKET_ENTRY_BYTES",
    "CapacityPlan",
    "CpuModel",
    "EnvironmentPlan",
    "Knee",
    "PlanInputs",
    "find_knee",
    "fit_cpu",
    "interpolate_rps",
    "make_plan",
    "replicas_for",
]

# The mean size of a cached ticket body (GET /api/tickets/{id}, compact JSON), measured with the
# reference app in-process over 400 seeded tickets: 495 bytes (409-563). tests/plan measures it
# again and fails when it drifts by more than a quarter from this number.
TICKET_BODY_BYTES = 495
# Redis's own bookkeeping per key with a TTL (dict entry, key and value objects and SDS headers,
# the expires entry) plus the key "servicedesk:ticket:<id>": about 100 bytes on 64-bit Redis 7.
REDIS_KEY_OVERHEAD_BYTES = 100
TICKET_ENTRY_BYTES = TICKET_BODY_BYTES + REDIS_KEY_OVERHEAD_BYTES
TICKET_READ = "GET /api/tickets/{id}"


GENERATOR_SATURATED = "load generator saturated"


@dataclass(frozen=True)
class Knee:
    """Where the step run stopped being a measurement of the system within its SLO.

    `stage` is the first stage out: p95 above the SLO, errors above the limit, or the load
    generator saturated in its settled part (its latency is then partly the generator's, so the
    stage proves nothing either way). A knee of the system is `found` when p95 or errors caused
    it; otherwise `why_not` says exactly why there is none.
    """

    stage: StageLoad | None  # the first stage out of the SLO (None: every stage within it)
    last_good: StageLoad | None
    cause: str  # "p95 above the SLO", "errors", GENERATOR_SATURATED, joined by " and "; or ""
    crossing_users: float | None  # offered load where p95 crossed the SLO (interpolated)
    crossing_rps: float | None
    why_not: str = ""  # when no knee of the system was found: why, in numbers

    @property
    def found(self) -> bool:
        return self.stage is not None and self.cause != GENERATOR_SATURATED

    @property
    def untrusted(self) -> bool:
        """The first stage out had a saturated generator: its latency is partly the generator's."""
        return GENERATOR_SATURATED in self.cause

    @property
    def capacity_rps(self) -> float | None:
        """Throughput of the last good stage: what this setup carried within the SLO."""
        return self.last_good.rps if self.last_good is not None else None


@dataclass(frozen=True)
class CpuModel:
    intercept_percent: float  # a: per-replica CPU at zero load, % of one core
    slope_percent_per_rps: float  # b: % of a core per request/s
    stages: tuple[int, ...]  # which stages were fitted
    method: str
    target_percent: float  # the HPA target in % of one core (e.g. 35)

    @property
    def rps_at_target(self) -> float | None:
        if self.slope_percent_per_rps <= 0:
            return None
        return max(self.target_percent - self.intercept_percent, 0.0) / self.slope_percent_per_rps


@dataclass(frozen=True)
class EnvironmentPlan:
    target: str
    autoscaled: bool
    min_replicas: int
    max_replicas: int
    replicas_needed: int | None
    replicas: int | None  # what the environment would run: needed, clamped to its bounds
    fits: bool | None
    db_instance: str | None
    db_connections_needed: int | None  # (replicas + surge) x pool max
    db_connections_budget: int
    db_fits: bool | None
    redis_instance: str | None
    redis_bytes_needed: float | None
    redis_maxmemory: int
    redis_instance_bytes: int | None
    redis_fits: bool | None
    costs: tuple[CostLine, ...]

    @property
    def monthly_total(self) -> float:
        return round(sum(c.monthly for c in self.costs), 2)


@dataclass(frozen=True)
class PlanInputs:
    slo_p95_ms: float
    max_error_percent: float
    headroom: float  # e.g. 0.25: size for 25 % more than the projected load
    pool_max: int  # DB_POOL_MAX
    cache_ttl_seconds: float  # CACHE_TTL_SECONDS
    reference_users: int  # the peak scenario's users: what "current load" means
    projected_rps: float | None = None
    growth: float | None = None


@dataclass(frozen=True)
class CapacityPlan:
    run_id: str
    scenario: str
    stages: tuple[StageLoad, ...]
    knee: Knee
    cpu: CpuModel
    inputs: PlanInputs
    current_rps: float | None  # the stress run's throughput at the reference users
    projected_rps: float | None
    replicas_exact: float | None  # projected x (1 + headroom) / rps_at_target
    ticket_read_share: float
    environments: tuple[EnvironmentPlan, ...]
    prices: PriceTable
    notes: tuple[str, ...]


def _generator_text(stage: StageLoad) -> str:
    cpu = (f", busiest interval {stage.generator_cpu_percent:.0f} % of its core"
           if stage.generator_cpu_percent is not None else "")
    text = (f"the load generator saturated at {stage.users} users ({stage.name}: "
            f"{stage.saturated_intervals} saturated interval(s){cpu})")
    if stage.generator_cpu_percent is not None and stage.generator_cpu_percent < CPU_LIMIT_PERCENT:
        # Below its CPU limit, it was its event loop that lagged: starved, not busy.
        text += (": its event loop lagged while it had CPU to spare, so other processes on this "
                 "machine (the replicas among them) kept it from its core")
    return text


def _why_not(stage: StageLoad | None, previous: StageLoad | None, slo_p95_ms: float,
             max_error_percent: float) -> str:
    if stage is not None:  # the generator, alone, ended the measurement
        before = (f"; the last trustworthy stage, {previous.users} users, carried "
                  f"{previous.rps:.0f} req/s at p95 {_ms(previous.p95_ms)}"
                  if previous is not None else "")
        return (f"no knee of the system: {_generator_text(stage)} while p95 and errors were "
                f"still within the SLO{before}. Run again with more load-generator cores "
                "(--workers N) or on a machine with cores to spare, so that the system, not the "
                "generator, meets its limit first")
    if previous is None:
        return "no knee: the run has no stage with requests"
    return (f"no knee: every stage stayed within the SLO (p95 <= {slo_p95_ms:g} ms, errors <= "
            f"{max_error_percent:g} %) and the load generator kept up, up to {previous.users} "
            f"users ({previous.rps:.0f} req/s, p95 {_ms(previous.p95_ms)}, busiest generator "
            f"interval {_percent(previous.generator_cpu_percent)} of its core): the run never "
            "loaded the system to its limit; step higher")


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def find_knee(stages: Sequence[StageLoad], slo_p95_ms: float, max_error_percent: float) -> Knee:
    """The first stage out of the SLO, of the error limit, or of the generator's limits."""
    previous: StageLoad | None = None
    for stage in stages:
        slow = stage.p95_ms is not None and stage.p95_ms > slo_p95_ms
        failing = stage.error_percent > max_error_percent
        saturated = stage.saturated_intervals > 0
        if slow or failing or saturated:
            cause = " and ".join(text for text, on in (
                ("p95 above the SLO", slow), ("errors", failing),
                (GENERATOR_SATURATED, saturated)) if on)
            users = rps = None
            # A saturated generator's latency is partly its own: no crossing drawn from it.
            if slow and not saturated and previous is not None and previous.p95_ms is not None \
                    and stage.p95_ms is not None and stage.p95_ms > previous.p95_ms:
                share = (slo_p95_ms - previous.p95_ms) / (stage.p95_ms - previous.p95_ms)
                users = previous.users + share * (stage.users - previous.users)
                rps = previous.rps + share * (stage.rps - previous.rps)
            why = (_why_not(stage, previous, slo_p95_ms, max_error_percent)
                   if cause == GENERATOR_SATURATED else "")
            return Knee(stage, previous, cause, users, rps, why)
        previous = stage
    return Knee(None, previous, "", None, None,
                _why_not(None, previous, slo_p95_ms, max_error_percent))


def fit_cpu(stages: Sequence[StageLoad], target_percent: float) -> CpuModel:
    points = [(s.rps_per_replica, s.cpu_percent_per_replica, s.index) for s in stages
              if s.replicas > 0 and s.rps > 0]
    indexes = tuple(i for _, _, i in points)
    if len(points) >= 2:
        n = len(points)
        mean_x = sum(x for x, _, _ in points) / n
        mean_y = sum(y for _, y, _ in points) / n
        sxx = sum((x - mean_x) ** 2 for x, _, _ in points)
        if sxx > 0:
            slope = sum((x - mean_x) * (y - mean_y) for x, y, _ in points) / sxx
            intercept = mean_y - slope * mean_x
            if slope > 0 and intercept >= 0:
                return CpuModel(intercept, slope, indexes,
                                f"least squares over {n} stages", target_percent)
    sxx = sum(x * x for x, _, _ in points)
    slope = sum(x * y for x, y, _ in points) / sxx if sxx > 0 else 0.0
    return CpuModel(0.0, slope, indexes,
                    f"through the origin over {len(points)} stage(s)", target_percent)


def interpolate_rps(stages: Sequence[StageLoad], users: float) -> float | None:
    """Throughput at `users` offered load, linear between the stages around it."""
    ordered = sorted((s for s in stages if s.rps > 0), key=lambda s: s.users)
    if not ordered:
        return None
    if users <= ordered[0].users:
        return ordered[0].rps * users / ordered[0].users if ordered[0].users else ordered[0].rps
    for low, high in zip(ordered, ordered[1:], strict=False):
        if low.users <= users <= high.users:
            share = (users - low.users) / (high.users - low.users) if high.users > low.users else 0
            return low.rps + share * (high.rps - low.rps)
    return None  # beyond the run's highest stage


def replicas_for(rps: float, rps_per_replica: float, headroom: float, min_replicas: int = 1
                 ) -> int:
    return max(min_replicas, math.ceil(rps * (1.0 + headroom) / rps_per_replica - 1e-9))


def _environment(sizing: TargetSizing, needed: int | None, projected: float | None,
                 inputs: PlanInputs, ticket_share: float, scaling: ScalingSpec,
                 prices: PriceTable) -> EnvironmentPlan:
    env = sizing.environment
    replicas = fits = None
    if needed is not None:
        fits = needed <= sizing.max_replicas
        replicas = min(max(needed, sizing.min_replicas), sizing.max_replicas)
    pods_for_connections = (needed if needed is not None else sizing.max_replicas)
    connections = (pods_for_connections + sizing.max_surge) * inputs.pool_max
    budget = (env.postgres.max_connections - env.postgres.superuser_reserved_connections
              - env.postgres_headroom)
    redis_bytes = None
    redis_fits = None
    if projected is not None:
        keys = projected * ticket_share * inputs.cache_ttl_seconds
        redis_bytes = keys * TICKET_ENTRY_BYTES
        limit = min(env.redis.maxmemory or math.inf, env.redis_memory or math.inf)
        redis_fits = redis_bytes <= limit
    requests = scaling.deployment.requests
    pod_cores = (requests.cpu_millicores or 0) / 1000.0
    pod_gib = (requests.memory_bytes or 0) / 2**30
    pods = replicas if replicas is not None else sizing.min_replicas
    costs = monthly_cost(prices, pods=pods if sizing.target != "compose" else 0,
                         pod_cpu_cores=pod_cores, pod_memory_gib=pod_gib,
                         database=env.postgres_instance, cache=env.redis_instance,
                         cluster=sizing.target != "compose")
    return EnvironmentPlan(
        target=sizing.target, autoscaled=sizing.autoscaled, min_replicas=sizing.min_replicas,
        max_replicas=sizing.max_replicas, replicas_needed=needed, replicas=replicas, fits=fits,
        db_instance=env.postgres_instance, db_connections_needed=connections,
        db_connections_budget=budget, db_fits=connections <= budget,
        redis_instance=env.redis_instance, redis_bytes_needed=redis_bytes,
        redis_maxmemory=env.redis.maxmemory, redis_instance_bytes=env.redis_memory,
        redis_fits=redis_fits, costs=costs,
    )


def _diagnostics(knee: Knee, cpu: CpuModel, good: Sequence[StageLoad]) -> list[str]:
    """What a reader should know before trusting the numbers."""
    notes = []
    measured = max((s.rps_per_replica for s in good), default=0.0)
    if cpu.rps_at_target is not None and cpu.rps_at_target > measured * 1.05:
        notes.append(
            f"req/s per replica at the HPA target ({cpu.rps_at_target:.0f}) is extrapolated: "
            f"the good stages reached {measured:.0f} req/s per replica at most, below the target "
            "CPU; a run whose replicas reach the target would measure it")
    stage = knee.stage if knee.found else None
    if stage is None:
        return notes
    if knee.untrusted:
        notes.append(
            f"the first stage out of the SLO ({stage.users} users) also had a saturated "
            "load generator: part of its latency was the generator's, so the knee lies at or "
            "below it; run again with more load-generator cores (--workers N) to place it")
    if stage.cpu_percent_per_replica < cpu.target_percent:
        notes.append(
            f"at the knee the replicas used {stage.cpu_percent_per_replica:.0f} % of a core "
            f"each, under the HPA target of {cpu.target_percent:g} %: the autoscaler had no "
            "reason to add replicas and the bottleneck was elsewhere (the machine's shared "
            "cores, the database, or the load generator), so this knee is the test bed's, not "
            "the app's")
    return notes


def make_plan(*, run_id: str, scenario: str, stages: Sequence[StageLoad], inputs: PlanInputs,
              scaling: ScalingSpec, targets: Sequence[TargetSizing], prices: PriceTable,
              request_rates: Mapping[str, float], notes: Sequence[str] = ()) -> CapacityPlan:
    """`request_rates`: the run's requests/s per request name (for the ticket-read share)."""
    knee = find_knee(stages, inputs.slo_p95_ms, inputs.max_error_percent)
    good = [s for s in stages if knee.stage is None or s.index < knee.stage.index]
    all_notes = list(notes)
    if knee.why_not:
        all_notes.append(knee.why_not)
    if not good:
        all_notes.append("no stage stayed within the SLO: the CPU model uses every stage")
        good = list(stages)
    cpu_target = scaling.hpa.target_for("cpu") or 70
    request_millicores = scaling.deployment.requests.cpu_millicores or 1000
    cpu = fit_cpu(good, cpu_target * request_millicores / 1000.0)
    current = interpolate_rps(stages, inputs.reference_users)
    if current is None:
        all_notes.append(f"the run never reached the reference load of {inputs.reference_users} "
                         "users; pass --projected-rps")
    projected = inputs.projected_rps
    if projected is None and current is not None:
        projected = current * (inputs.growth if inputs.growth is not None else 1.0)
    per_replica = cpu.rps_at_target
    all_notes += _diagnostics(knee, cpu, good)
    exact = needed = None
    if projected is not None and per_replica:
        exact = projected * (1.0 + inputs.headroom) / per_replica
        needed = replicas_for(projected, per_replica, inputs.headroom)
    total_rate = sum(request_rates.values())
    share = request_rates.get(TICKET_READ, 0.0) / total_rate if total_rate > 0 else 0.0
    environments = tuple(
        _environment(t, None if needed is None else max(needed, t.min_replicas), projected,
                     inputs, share, scaling, prices)
        for t in targets
    )
    return CapacityPlan(
        run_id=run_id, scenario=scenario, stages=tuple(stages), knee=knee, cpu=cpu,
        inputs=inputs, current_rps=current, projected_rps=projected, replicas_exact=exact,
        ticket_read_share=share, environments=environments, prices=prices,
        notes=tuple(all_notes),
    )
