"""What-if: a run's recorded utilization replayed through the same HPA with other settings.

The scaling trace (harness.stack.trace) holds, per sync, every replica's CPU and memory. The
replay keeps the run's total CPU demand at each sync and spreads it over the replay's own
replicas: ``utilization = total_usage / (replicas_replay x request)`` (what the replicas would
each use had there been that many); memory per replica stays as recorded (it does not follow
the load's share). Each sync goes through harness.stack.autoscaler.Autoscaler exactly as the
live loop does; a replica the replay adds becomes ready after the run's own measured startup
time. It replays recorded load: it cannot say what latency the other replica counts would have
given, only whether the run's SLO breaches fell where the replay would have had fewer replicas.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from harness.config.k8s import HpaMetricTarget, HpaSpec
from harness.report.results import RunResult, TimelinePoint
from harness.stack.autoscaler import Autoscaler, Decision, PodSample
from harness.stack.trace import ScalingTrace, SyncSample, read_trace
from harness.verify.check import CheckResult, Verdict

__all__ = [
    "CAVEAT",
    "REPORT_TARGETS",
    "Breach",
    "ReplayOutcome",
    "ReplayReport",
    "ReplaySetting",
    "breaches_of",
    "replay",
    "replay_run",
    "run_outcome",
    "measured_startups",
    "startup_seconds",
]

CAVEAT = ("replays the run's recorded CPU demand through the same HPA algorithm; it cannot "
          "predict latency at other replica counts")
REPORT_TARGETS = (50, 60, 70, 80, 90)  # CPU targets a run that scaled is replayed at
_LONG_AGO = 1e6  # the replay's first replicas started long before (past CPU initialization)


@dataclass(frozen=True)
class ReplaySetting:
    """HPA settings to replay with; None: the run's own."""

    cpu_target: int | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    scale_down_window: float | None = None

    def applied_to(self, hpa: HpaSpec) -> HpaSpec:
        metrics = tuple(
            HpaMetricTarget("cpu", self.cpu_target)
            if m.resource == "cpu" and self.cpu_target is not None else m
            for m in hpa.metrics
        )
        scale_down = hpa.scale_down
        if self.scale_down_window is not None:
            scale_down = dataclasses.replace(
                scale_down, stabilization_window_seconds=int(round(self.scale_down_window)))
        return dataclasses.replace(
            hpa, metrics=metrics, scale_down=scale_down,
            min_replicas=hpa.min_replicas if self.min_replicas is None else self.min_replicas,
            max_replicas=hpa.max_replicas if self.max_replicas is None else self.max_replicas,
        )


@dataclass(frozen=True)
class Breach:
    """Where the run broke its SLO: ``start``-``end`` seconds since the load started."""

    start: float
    end: float
    what: str


@dataclass(frozen=True)
class ReplayOutcome:
    """One setting's replay (or the run itself): replicas over time and what they cost."""

    label: str
    cpu_target: int | None
    min_replicas: int
    max_replicas: int
    scale_down_window: float
    peak_replicas: int
    replica_minutes: float
    seconds_above_target: float
    scale_events: int
    breaches: int
    breaches_with_fewer: int  # breaches where this setting had fewer replicas than the run
    replicas: tuple[tuple[float, int], ...]  # (time, replicas) after every sync

    def describe(self) -> str:
        target = "no cpu metric" if self.cpu_target is None else f"cpu {self.cpu_target} %"
        return (f"{target}, {self.min_replicas}-{self.max_replicas} replicas, scale-down "
                f"window {self.scale_down_window:g} s")

    def as_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["replicas"] = [{"t": t, "replicas": r} for t, r in self.replicas]
        return data


@dataclass(frozen=True)
class ReplayReport:
    """A run and its replays under other settings."""

    run_id: str
    syncs: int
    sync_period_seconds: float
    startup_seconds: float
    startup_measured: bool  # False: no replica started in the run; one sync period assumed
    run: ReplayOutcome
    replays: tuple[ReplayOutcome, ...]
    caveat: str = CAVEAT

    def startup_text(self) -> str:
        if self.startup_measured:
            return (f"new replicas ready {self.startup_seconds:.1f} s after they start (the "
                    "run's median)")
        return (f"new replicas ready {self.startup_seconds:g} s after they start (one sync: "
                "no replica started in the run)")

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id, "syncs": self.syncs,
            "sync_period_seconds": self.sync_period_seconds,
            "startup_seconds": round(self.startup_seconds, 3),
            "startup_measured": self.startup_measured, "caveat": self.caveat,
            "run": self.run.as_dict(), "replays": [r.as_dict() for r in self.replays],
        }


def replay_run(result: RunResult, settings: Sequence[ReplaySetting]) -> ReplayReport:
    """Every setting replayed over the run's scaling trace (TraceError or ValueError when the
    run has none to replay)."""
    section = result.extra.get("scaling")
    if section is None:
        raise ValueError("the run has no scaling trace (no local autoscaler ran)")
    trace = read_trace(section)
    if not trace.syncs:
        raise ValueError("the run's scaling trace has no per-replica samples to replay "
                         "(recorded by an older harness)")
    breaches = breaches_of(result)
    startup = startup_seconds(trace)
    return ReplayReport(
        run_id=result.run_id, syncs=len(trace.syncs),
        sync_period_seconds=trace.sync_period_seconds, startup_seconds=startup,
        startup_measured=bool(measured_startups(trace)), run=run_outcome(trace, breaches),
        replays=tuple(replay(trace, s, breaches, startup=startup) for s in settings),
    )


def measured_startups(trace: ScalingTrace) -> tuple[float, ...]:
    """Seconds from start to readiness of every replica that started during the run."""
    first_seen = {p.name for p in trace.syncs[0].pods} if trace.syncs else set()
    times: dict[str, float] = {}
    for sync in trace.syncs:
        for pod in sync.pods:
            if (pod.name not in first_seen and pod.ready and pod.started_at is not None
                    and pod.ready_changed_at is not None):
                times.setdefault(pod.name, pod.ready_changed_at - pod.started_at)
    return tuple(times.values())


def startup_seconds(trace: ScalingTrace) -> float:
    """The run's median time from a new replica's start to its readiness; one sync period
    when no replica started during the run (then the replay assumes ready by the next sync)."""
    times = measured_startups(trace)
    return statistics.median(times) if times else trace.sync_period_seconds


def _demand(sync: SyncSample) -> tuple[float, float | None]:
    """Total CPU millicores of the replicas that served (not those still starting), and the
    mean memory per replica."""
    cpu = 0.0
    for pod in sync.pods:
        starting = not pod.ready and (pod.ready_changed_at is None or pod.started_at is None
                                      or pod.ready_changed_at <= pod.started_at)
        if pod.cpu_millicores is not None and not starting:
            cpu += pod.cpu_millicores
    memory = [p.memory_bytes for p in sync.pods if p.memory_bytes is not None]
    return cpu, (sum(memory) / len(memory) if memory else None)


def replay(trace: ScalingTrace, setting: ReplaySetting, breaches: Sequence[Breach] = (),
           *, startup: float | None = None) -> ReplayOutcome:
    """The recorded syncs through an Autoscaler with ``setting``; pure."""
    if not trace.syncs:
        raise ValueError("the trace has no per-replica samples to replay")
    hpa = setting.applied_to(trace.hpa)
    request = trace.requests.cpu_millicores
    if not request:
        raise ValueError("the run's CPU request is unknown")
    autoscaler = Autoscaler(hpa, trace.requests, tolerance=trace.tolerance,
                            sync_period_seconds=trace.sync_period_seconds,
                            kubernetes_version=trace.kubernetes_version)
    delay = startup_seconds(trace) if startup is None else startup
    first = trace.syncs[0]
    begin = first.t - _LONG_AGO
    pods: list[tuple[str, float, float]] = [  # name, started, ready at
        (f"replay-{i}", begin, begin) for i in range(
            min(max(first.current, hpa.min_replicas), hpa.max_replicas))]
    serial = len(pods)
    previous_t: float | None = None
    decisions: list[Decision] = []
    above = 0.0
    target = hpa.target_for("cpu")
    for index, sync in enumerate(trace.syncs):
        cpu, memory = _demand(sync)
        share = cpu / len(pods)
        samples = [
            PodSample(name, sync.t >= ready_at, share, memory, started_at=started,
                      ready_changed_at=ready_at if sync.t >= ready_at else started,
                      cpu_window_start=previous_t if previous_t is not None else sync.t - 1.0)
            for name, started, ready_at in pods
        ]
        decision = autoscaler.decide(sync.t, len(pods), samples)
        decisions.append(decision)
        following = (trace.syncs[index + 1].t if index + 1 < len(trace.syncs)
                     else sync.t + trace.sync_period_seconds)
        if target is not None and cpu * 100 / (len(pods) * request) > target:
            above += following - sync.t
        while len(pods) < decision.applied:
            serial += 1
            pods.append((f"replay-{serial}", sync.t, sync.t + delay))
        if len(pods) > decision.applied:  # not-ready ones first, then the newest
            ranked = sorted(range(len(pods)), key=lambda i: (sync.t >= pods[i][2], -i))
            drop = set(ranked[: len(pods) - decision.applied])
            pods = [p for i, p in enumerate(pods) if i not in drop]
        previous_t = sync.t
    counts = _counts(decisions, first.current)
    return _outcome(f"cpu {target} %" if target is not None else "replay", hpa, counts,
                    trace, breaches, seconds_above=above,
                    events=sum(1 for d in decisions if d.changed))


def run_outcome(trace: ScalingTrace, breaches: Sequence[Breach] = ()) -> ReplayOutcome:
    """The run itself in the same terms, for comparison."""
    if not trace.syncs:
        raise ValueError("the trace has no per-replica samples to replay")
    request = trace.requests.cpu_millicores or 1
    target = trace.hpa.target_for("cpu")
    above = 0.0
    for index, sync in enumerate(trace.syncs):
        cpu, _ = _demand(sync)
        following = (trace.syncs[index + 1].t if index + 1 < len(trace.syncs)
                     else sync.t + trace.sync_period_seconds)
        if target is not None and cpu * 100 / (max(sync.current, 1) * request) > target:
            above += following - sync.t
    counts = _counts(trace.decisions, trace.syncs[0].current)
    return _outcome("run", trace.hpa, counts, trace, breaches, seconds_above=above,
                    events=sum(1 for d in trace.decisions if d.changed))


def _counts(decisions: Sequence[Decision], initial: int) -> tuple[tuple[float, int], ...]:
    return tuple((d.time, d.applied) for d in decisions) or ((0.0, initial),)


def _at(counts: Sequence[tuple[float, int]], t: float, initial: int) -> int:
    value = initial
    for at, replicas in counts:
        if at > t:
            break
        value = replicas
    return value


def _outcome(label: str, hpa: HpaSpec, counts: tuple[tuple[float, int], ...],
             trace: ScalingTrace, breaches: Sequence[Breach], *, seconds_above: float,
             events: int) -> ReplayOutcome:
    first = trace.syncs[0]
    end = trace.syncs[-1].t + trace.sync_period_seconds
    minutes = 0.0
    for (at, replicas), nxt in zip(counts, [*(c[0] for c in counts[1:]), end], strict=True):
        minutes += replicas * max(0.0, nxt - at) / 60.0
    run_counts = _counts(trace.decisions, first.current)
    fewer = 0
    for breach in breaches:
        moments = [breach.start, *(at for at, _ in counts if breach.start <= at <= breach.end)]
        if any(_at(counts, m, first.current) < _at(run_counts, m, first.current)
               for m in moments):
            fewer += 1
    return ReplayOutcome(
        label=label, cpu_target=hpa.target_for("cpu"), min_replicas=hpa.min_replicas,
        max_replicas=hpa.max_replicas,
        scale_down_window=float(hpa.scale_down.stabilization_window_seconds),
        peak_replicas=max(r for _, r in counts), replica_minutes=round(minutes, 2),
        seconds_above_target=round(seconds_above, 1), scale_events=events,
        breaches=len(breaches), breaches_with_fewer=fewer, replicas=counts,
    )


# --------------------------------------------------------------------------- the run's breaches


def _threshold(checks: Sequence[CheckResult], check_id: str) -> float | None:
    check = next((c for c in checks if c.id == check_id), None)
    return None if check is None else check.threshold


def breaches_of(result: RunResult) -> tuple[Breach, ...]:
    """Where the run broke its SLO: every failed sliding-window check's window, and every
    timeline interval whose p95/p99 (corrected where recorded) or error rate was over the SLO.
    Times relative to the load's start, as the scaling trace's."""
    found = [
        Breach(c.window.start, c.window.end, f"{c.id} failed")
        for c in result.checks
        if c.id.startswith("slo.sliding.") and c.verdict is Verdict.FAIL and c.window is not None
    ]
    p95 = _threshold(result.checks, "slo.latency.p95")
    p99 = _threshold(result.checks, "slo.latency.p99")
    errors = _threshold(result.checks, "slo.error-rate")
    previous = 0.0
    for point in result.timeline:
        over = _over(point, p95, p99, errors)
        if over:
            found.append(Breach(previous, point.t, over))
        previous = point.t
    return tuple(found)


def _over(point: TimelinePoint, p95: float | None, p99: float | None,
          errors: float | None) -> str:
    seen_p95 = point.corrected_p95_ms if point.corrected_p95_ms is not None else point.p95_ms
    seen_p99 = point.corrected_p99_ms if point.corrected_p99_ms is not None else point.p99_ms
    parts = []
    if p95 is not None and seen_p95 is not None and seen_p95 > p95:
        parts.append(f"p95 {seen_p95:.0f} ms > {p95:g} ms")
    if p99 is not None and seen_p99 is not None and seen_p99 > p99:
        parts.append(f"p99 {seen_p99:.0f} ms > {p99:g} ms")
    if errors is not None and math.isfinite(point.error_percent) and point.error_percent > errors:
        parts.append(f"errors {point.error_percent:.2f} % > {errors:g} %")
    return ", ".join(parts)
