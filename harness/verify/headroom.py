"""How far the run's steady state is from each threshold it did not cross, in request rate.

A threshold the load never crossed is not verified, but it is not unknown either: from the steady
state's own measurements each one has a request rate at which it would be reached.

- HPA on CPU: a replica's utilization is its request rate x CPU-seconds per request over its
  CPU request (harness.calibrate.cpu; idle CPU counted into every request, as the HPA sees it,
  which makes the answer a little early, never late). The HPA first adds replicas when the mean
  rises above target x (1 + tolerance): at `rate = (1 + tol) x target x request x replicas /
  cpu_per_request`.
- HPA on memory: a replica's resident memory against its request. Memory follows load only if
  it grows with the request rate; a least-squares fit of resident memory on the per-replica rate
  at every scrape, holding time and each replica's own level apart (statsmodels' OLS), says
  whether it does (slope > 0 at p < 0.05). Where it does not, no request rate reaches the
  target, and the record says by how much memory would have to grow instead.
- A replica's pool: Little's law, connections in use = per-replica request rate x the time a
  request holds a connection (the app's servicedesk_db_query_duration_seconds: each timed from
  the acquired connection to its release, so its sum per request is the hold per request). The
  pool is saturated when that reaches DB_POOL_MAX: `rate = replicas x DB_POOL_MAX / hold`.
- The database server: at maxReplicas the pools together hold `rate x hold` connections, each
  pool at least DB_POOL_MIN and at most DB_POOL_MAX open, beside the server's other clients;
  the limit is max_connections - reserved. When maxReplicas x DB_POOL_MAX plus the others fits,
  no rate reaches it.

Every rate assumes the work per request stays what the steady state measured (holds and CPU per
request grow once the machine saturates): it says where a threshold lies, not that the system
would get there healthy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import statsmodels.api as sm

from harness.calibrate.cpu import REQUEST_COUNTER, measure_cpu
from harness.collect.counters import increase
from harness.collect.scrape import Scrape
from harness.config.k8s import ScalingSpec
from harness.stack.autoscaler import DEFAULT_TOLERANCE
from harness.verify.check import CheckResult

__all__ = [
    "HOLD_SUM",
    "MEMORY_GAUGE",
    "Headroom",
    "Limit",
    "Limits",
    "SteadyState",
    "annotate",
    "headroom_from",
    "limits_for",
    "measure_steady_state",
]

HOLD_SUM = "servicedesk_db_query_duration_seconds_sum"
MEMORY_GAUGE = "process_resident_memory_bytes"
IN_USE_GAUGE = "servicedesk_db_pool_connections_in_use"
SIGNIFICANCE = 0.05  # for "memory grows with the request rate"
# ... and by enough to matter: at least a MiB over the rates measured (a flat line fits exactly
# and would otherwise pass any test on rounding noise).
MIN_EFFECT_BYTES = 2**20


@dataclass(frozen=True)
class MemoryTrend:
    """Resident memory of a replica against its request rate, one point per scrape interval,
    time since the load started and each replica's own level held apart (least squares): memory
    that only grew with time (caches, allocator) is not put down to load."""

    slope_bytes_per_rps: float
    p_value: float  # of the rate's slope
    points: int
    highest_rps: float  # the highest per-replica rate among the points
    bytes_per_second: float  # growth with time, at a constant rate

    @property
    def grows(self) -> bool:
        return (self.slope_bytes_per_rps * self.highest_rps >= MIN_EFFECT_BYTES
                and self.p_value < SIGNIFICANCE)


@dataclass(frozen=True)
class SteadyState:
    """What the replicas did over the steady window (seconds since the load started)."""

    start: float
    end: float
    request_rate: float  # req/s over all replicas
    replicas: float  # mean replicas scraped in the window
    cpu_seconds_per_request: float | None
    memory_bytes_per_replica: float | None  # mean resident memory
    hold_seconds_per_request: float | None  # pooled-connection time per request
    pool_in_use_mean: float | None  # mean of every replica's in-use gauge (Little's law check)
    other_server_connections: float | None  # server clients that are not the replicas' pools
    memory_trend: MemoryTrend | None = None


@dataclass(frozen=True)
class Limits:
    """The thresholds, from the stack definitions and the run's settings."""

    cpu_target_percent: float | None
    memory_target_percent: float | None
    tolerance: float  # scale-up above target x (1 + tolerance)
    cpu_request_cores: float | None
    memory_request_bytes: float | None
    max_replicas: int
    pool_min: int
    pool_max: int
    max_connections: int | None = None
    reserved_connections: int | None = None
    server_measured: bool = True  # False: the bundled PostgreSQL's settings, no server ran


@dataclass(frozen=True)
class Limit:
    """One threshold: the request rate at which the steady state would reach it."""

    id: str  # "hpa.cpu", "hpa.memory", "pool.saturation", "server.connections"
    title: str
    rate: float | None  # req/s; None: no request rate reaches it (why: basis)
    multiple: float | None  # rate / the steady state's rate
    basis: str  # the rule and the numbers that give the rate
    extrapolated: bool = False  # far beyond the rates the run measured (a trend, not a model)

    def line(self) -> str:
        if self.rate is None:
            return f"{self.title}: not reached by load; {self.basis}"
        return (f"{self.title}: at {self.rate:,.0f} req/s, {self.multiple:.2f}x this load; "
                f"{self.basis}")


@dataclass(frozen=True)
class Headroom:
    steady: SteadyState
    limits: tuple[Limit, ...]

    def get(self, limit_id: str) -> Limit | None:
        return next((limit for limit in self.limits if limit.id == limit_id), None)

    def lines(self) -> tuple[str, ...]:
        s = self.steady
        head = (f"Headroom from the steady state ({s.start:.0f}-{s.end:.0f} s: "
                f"{s.request_rate:,.1f} req/s over {s.replicas:.1f} replicas)")
        return (head, *(limit.line() for limit in self.limits))


# --- measuring the steady state ------------------------------------------------------------


def _by_replica(scrapes: Iterable[Scrape], start: float, end: float) -> dict[str, list[Scrape]]:
    out: dict[str, list[Scrape]] = {}
    for scrape in scrapes:
        if scrape.ok and start <= scrape.t <= end:
            out.setdefault(scrape.replica, []).append(scrape)
    for seen in out.values():
        seen.sort(key=lambda s: s.t)
    return out


def _value(scrape: Scrape, name: str) -> float | None:
    values = [m.value for m in scrape.samples if m.name == name]
    return sum(values) if values else None


def _load_requests(scrape: Scrape) -> float:
    return sum(m.value for m in scrape.samples if m.name == REQUEST_COUNTER
               and not dict(m.labels).get("route", "").startswith(("/api/health/", "/api/metrics")))


def _memory_trend(by_replica: dict[str, list[Scrape]]) -> MemoryTrend | None:
    rates: list[float] = []
    times: list[float] = []
    rows: list[int] = []
    ys: list[float] = []
    for index, seen in enumerate(by_replica.values()):
        for a, b in zip(seen[:-1], seen[1:], strict=False):
            rss, dt = _value(b, MEMORY_GAUGE), b.t - a.t
            if rss is None or dt <= 0:
                continue
            rates.append(max(_load_requests(b) - _load_requests(a), 0.0) / dt)
            times.append(b.t)
            rows.append(index)
            ys.append(rss)
    replicas = sorted(set(rows))
    if len(ys) < len(replicas) + 3 or len(set(rates)) < 2:
        return None
    t0 = min(times)
    design = np.column_stack([rates, [t - t0 for t in times],
                              *([1.0 if r == k else 0.0 for r in rows] for k in replicas)])
    fit = sm.OLS(np.asarray(ys), design).fit()
    if not np.isfinite(fit.pvalues[0]):
        return None
    return MemoryTrend(float(fit.params[0]), float(fit.pvalues[0]), len(ys),
                       round(max(rates), 3), float(fit.params[1]))


def measure_steady_state(scrapes: Sequence[Scrape], *, origin: float, start: float, end: float,
                         server_totals: Sequence[tuple[float, int]] = (),
                         whole_run: tuple[float, float] | None = None) -> SteadyState:
    """The steady window [start, end] (seconds since `origin`, the load's start) of the scrapes.

    `server_totals`: (epoch, client connections) readings of the database server, if any.
    `whole_run`: the window over which memory is set against the request rate (it needs the
    rate to vary: the ramps count too); the steady window when None.
    """
    a, b = origin + start, origin + end
    use = measure_cpu(scrapes, a, b)
    by_replica = _by_replica(scrapes, a, b)
    memory = [v for seen in by_replica.values() for s in seen
              if (v := _value(s, MEMORY_GAUGE)) is not None]
    holds = [increase([v for s in seen if (v := _value(s, HOLD_SUM)) is not None])
             for seen in by_replica.values()]
    in_use = [v for seen in by_replica.values() for s in seen
              if (v := _value(s, IN_USE_GAUGE)) is not None]
    sizes = [_mean(v for s in seen if (v := _value(s, "servicedesk_db_pool_size"))
                             is not None) for seen in by_replica.values()]
    others = None
    totals = [total for t, total in server_totals if a <= t <= b]
    known_sizes = [size for size in sizes if size is not None]
    if totals and known_sizes:
        others = max(sum(totals) / len(totals) - sum(known_sizes), 0.0)
    lo, hi = (origin + whole_run[0], origin + whole_run[1]) if whole_run else (a, b)
    # A replica scraped for half the window counts half (the longest span is the window).
    span = max((seen[-1].t - seen[0].t for seen in by_replica.values()), default=0.0)
    replicas = use.replica_seconds / span if span > 0 else 0.0
    return SteadyState(
        start=start, end=end, request_rate=use.requests_per_second,
        replicas=round(replicas, 3), cpu_seconds_per_request=use.per_request,
        memory_bytes_per_replica=sum(memory) / len(memory) if memory else None,
        hold_seconds_per_request=(sum(holds) / use.requests
                                  if use.requests > 0 and any(holds) else None),
        pool_in_use_mean=sum(in_use) / len(in_use) if in_use else None,
        other_server_connections=others,
        memory_trend=_memory_trend(_by_replica(scrapes, lo, hi)),
    )


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


# --- from the steady state to the limits -----------------------------------------------------


def _multiple(rate: float, steady: SteadyState) -> float | None:
    return rate / steady.request_rate if steady.request_rate > 0 else None


def _limit(limit_id: str, title: str, rate: float | None, steady: SteadyState,
           basis: str, *, extrapolated: bool = False) -> Limit:
    if rate is None or not math.isfinite(rate):
        return Limit(limit_id, title, None, None, basis)
    return Limit(limit_id, title, round(rate, 1), _round(_multiple(rate, steady)), basis,
                 extrapolated)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _replicas(steady: SteadyState) -> int:
    return max(int(round(steady.replicas)), 1)


def _hpa(steady: SteadyState, limits: Limits) -> tuple[Limit, ...]:
    """The HPA's scale-up limits, CPU then memory, each where the HPA scales on it: the use per
    replica above which it scales is the target beyond the tolerance, of the request."""
    found = []
    for resource, target, request, limit_of in (
        ("CPU", limits.cpu_target_percent, limits.cpu_request_cores, _hpa_cpu),
        ("memory", limits.memory_target_percent, limits.memory_request_bytes, _hpa_memory),
    ):
        if target is None or not request:
            continue
        above = target * (1 + limits.tolerance)
        title = f"HPA scale-up on {resource} (above {above:g} % of request)"
        bar = target / 100.0 * (1 + limits.tolerance) * request
        found.append(limit_of(steady, title, request, bar))
    return tuple(found)


def _hpa_cpu(steady: SteadyState, title: str, request: float, bar: float) -> Limit:
    cost = steady.cpu_seconds_per_request
    if not cost:
        return _limit("hpa.cpu", title, None, steady, "no replica CPU or no requests measured")
    n = _replicas(steady)
    rate = bar * n / cost
    now = steady.request_rate / n * cost / request * 100.0
    return _limit("hpa.cpu", title, rate, steady,
                  f"{cost * 1000:.2f} ms of CPU per request, {n} replicas of "
                  f"{request * 1000:g}m: utilization {now:.0f} % now, "
                  f"{100 * bar / request:g} % at {bar / cost:,.0f} req/s per replica")


def _hpa_memory(steady: SteadyState, title: str, request: float, bar: float) -> Limit:
    rss = steady.memory_bytes_per_replica
    if rss is None:
        return _limit("hpa.memory", title, None, steady, "no replica memory measured")
    now = f"{rss / 2**20:.0f} MiB = {100 * rss / request:.0f} % of {request / 2**20:g} MiB"
    if rss >= bar:
        return _limit("hpa.memory", title, steady.request_rate, steady, f"already there: {now}")
    trend = steady.memory_trend
    if trend is None or not trend.grows:
        slope = (f"{trend.slope_bytes_per_rps / 2**10:+.1f} KiB per req/s, p = "
                 f"{trend.p_value:.2f} over {trend.points} scrapes; with time "
                 f"{trend.bytes_per_second * 60 / 2**20:+.1f} MiB a minute"
                 if trend is not None else "the request rate did not vary enough to tell")
        return _limit("hpa.memory", title, None, steady,
                      f"memory does not grow with the request rate ({slope}); {now}; it would "
                      f"take {(bar - rss) / 2**20:.0f} MiB more per replica")
    n = _replicas(steady)
    # From where the steady state is, along the rate's slope.
    per_replica = steady.request_rate / n + (bar - rss) / trend.slope_bytes_per_rps
    extrapolated = per_replica > 2 * trend.highest_rps
    far = (f"; extrapolated far beyond the {trend.highest_rps:,.0f} req/s per replica measured"
           if extrapolated else "")
    return _limit("hpa.memory", title, per_replica * n, steady,
                  f"{now}; memory grows {trend.slope_bytes_per_rps / 2**10:.1f} KiB per req/s "
                  f"of a replica (p = {trend.p_value:.3f}, {trend.points} scrapes), reaching "
                  f"{bar / 2**20:.0f} MiB at {per_replica:,.0f} req/s per replica{far}",
                  extrapolated=extrapolated)


def _pool(steady: SteadyState, limits: Limits) -> Limit | None:
    hold = steady.hold_seconds_per_request
    if hold is None:
        return None
    title = f"A replica's pool saturated (all {limits.pool_max} of DB_POOL_MAX in use)"
    if hold <= 0:
        return _limit("pool.saturation", title, None, steady, "requests held no connection")
    n = _replicas(steady)
    per_replica = limits.pool_max / hold
    little = steady.request_rate / n * hold
    seen = (f"; the gauges saw {steady.pool_in_use_mean:.2f} in use on average"
            if steady.pool_in_use_mean is not None else "")
    return _limit("pool.saturation", title, per_replica * n, steady,
                  f"Little's law: a request holds a connection {hold * 1000:.2f} ms, so "
                  f"{steady.request_rate / n:,.1f} req/s per replica keep {little:.2f} in use"
                  f"{seen}; {limits.pool_max} at {per_replica:,.0f} req/s per replica "
                  f"over {n} replicas")


def _server(steady: SteadyState, limits: Limits) -> Limit | None:
    if limits.max_connections is None or limits.reserved_connections is None:
        return None
    hold = steady.hold_seconds_per_request
    limit = limits.max_connections - limits.reserved_connections
    m = limits.max_replicas
    others = steady.other_server_connections or 0.0
    title = (f"Server connections at maxReplicas {m} reach {limit} "
             f"(max_connections {limits.max_connections} - {limits.reserved_connections})")
    if not limits.server_measured:
        title += ", the bundled PostgreSQL's (this run had none)"
    ceiling = m * limits.pool_max + others
    if ceiling <= limit:
        return _limit("server.connections", title, None, steady,
                      f"the pools cap at {m} x DB_POOL_MAX {limits.pool_max} = "
                      f"{m * limits.pool_max} plus {others:.0f} other clients = {ceiling:.0f}")
    if hold is None or hold <= 0:
        return _limit("server.connections", title, None, steady, "no hold time measured")
    floor = m * limits.pool_min + others
    rate = max(limit - others, 0.0) / hold
    return _limit("server.connections", title, rate, steady,
                  f"{m} pools of {limits.pool_min}-{limits.pool_max} plus {others:.0f} other "
                  f"clients (at least {floor:.0f}); in use = rate x {hold * 1000:.2f} ms hold, "
                  f"{limit - others:.0f} at {rate:,.0f} req/s")


def headroom_from(steady: SteadyState, limits: Limits) -> Headroom:
    found = (*_hpa(steady, limits), _pool(steady, limits), _server(steady, limits))
    return Headroom(steady, tuple(limit for limit in found if limit is not None))


# --- into the checks' evidence ----------------------------------------------------------------

# Which limits each check's evidence carries: a threshold the run did not cross is given as the
# rate at which it would be.
_CHECK_LIMITS = {
    "autoscaling.scale-up": ("hpa.cpu", "hpa.memory"),
    "pool.max-in-use": ("pool.saturation",),
    "pool.server-connections": ("server.connections",),
    "pool.connection-budget": ("server.connections",),
}


def _short(limit: Limit) -> str:
    if limit.rate is None:
        return f"{limit.title}: not reached by load ({limit.basis})"
    return f"{limit.title}: at {limit.rate:,.0f} req/s ({limit.multiple:.2f}x this load)"


def annotate(checks: Sequence[CheckResult], headroom: Headroom | None) -> tuple[CheckResult, ...]:
    """The checks, each threshold check carrying its headroom in its evidence (and its reason,
    when skipped)."""
    if headroom is None:
        return tuple(checks)
    out = []
    for check in checks:
        found = [limit for i in _CHECK_LIMITS.get(check.id, ()) if (limit := headroom.get(i))]
        if not found:
            out.append(check)
            continue
        text = "headroom: " + "; ".join(_short(limit) for limit in found)
        reason = f"{check.reason}; {text}" if check.reason else None
        out.append(replace(check, evidence=f"{check.evidence}; {text}", reason=reason))
    return tuple(out)


def limits_for(scaling: ScalingSpec, app_settings: Mapping[str, str], *,
               tolerance: float = DEFAULT_TOLERANCE,
               server_limits: tuple[int, int] | None = None,
               server_measured: bool = True) -> Limits:
    """The thresholds of the bundled stack (HPA, requests) and of the run's app settings."""
    hpa, requests = scaling.hpa, scaling.deployment.requests
    return Limits(
        cpu_target_percent=_float(hpa.target_for("cpu")),
        memory_target_percent=_float(hpa.target_for("memory")),
        tolerance=hpa.scale_up.tolerance if hpa.scale_up.tolerance is not None else tolerance,
        cpu_request_cores=(requests.cpu_millicores / 1000.0
                           if requests.cpu_millicores else None),
        memory_request_bytes=float(requests.memory_bytes) if requests.memory_bytes else None,
        max_replicas=hpa.max_replicas,
        pool_min=int(app_settings.get("DB_POOL_MIN", "10")),
        pool_max=int(app_settings.get("DB_POOL_MAX", "50")),
        max_connections=server_limits[0] if server_limits else None,
        reserved_connections=server_limits[1] if server_limits else None,
        server_measured=server_measured,
    )


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)
