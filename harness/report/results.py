"""The run's result record and its versioned JSON form (results.json).

Every number a report shows comes from a RunResult; `compare` and `plan` read results.json back.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.calibrate.probe import Calibration
from harness.load.aggregate import RequestStats, TimelinePoint
from harness.load.health import GeneratorRow, GeneratorSummary
from harness.load.latency import LatencySummary
from harness.load.records import ErrorCount, StagePlan
from harness.report.distribution import EndpointPoint
from harness.report.replay import ReplayTable
from harness.verify.check import CheckResult, Verdict, Window
from harness.verify.headroom import Headroom, Limit, MemoryTrend, SteadyState

__all__ = [
    "RESULTS_FILE",
    "SCHEMA_VERSION",
    "ErrorCount",
    "GeneratorRow",
    "GeneratorSummary",
    "ReplicaPoint",
    "RequestStats",
    "RunResult",
    "RunStatus",
    "ServerSummary",
    "TimelinePoint",
    "load_results",
]

RESULTS_FILE = "results.json"  # in the run's report folder
SCHEMA_VERSION = 1


class RunStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # a check failed
    INTERRUPTED = "interrupted"  # Ctrl-C / SIGTERM: the report is partial
    ERROR = "error"  # the stack or a dependency failed
    UNTRUSTED = "untrusted"  # no check failed, but the load generator saturated: nothing proven


@dataclass(frozen=True)
class ReplicaPoint:
    """A replica's resource use at one scrape."""

    t: float
    replica: str
    cpu_percent: float  # of one core
    rss_mb: float


@dataclass(frozen=True)
class ServerSummary:
    """What the replicas' /api/metrics said over the run."""

    scrapes: int
    failed_scrapes: int
    requests: float
    p95_ms: float | None  # from the server-side duration histogram
    cache_hit_percent: float | None
    db_query_p95_ms: float | None
    max_in_flight: float | None
    max_pool_in_use: float | None
    tickets_created: float | None
    sla_breaches: float | None


@dataclass(frozen=True)
class RunResult:
    run_id: str
    scenario: str
    scenario_description: str
    stack: str
    status: RunStatus
    exit_status: int
    started_at: float
    ended_at: float
    checks: tuple[CheckResult, ...]
    totals: RequestStats
    per_request: dict[str, RequestStats]
    groups: dict[str, RequestStats]
    stages: tuple[StagePlan, ...]
    timeline: tuple[TimelinePoint, ...]
    replicas: tuple[ReplicaPoint, ...]
    server: ServerSummary | None
    errors: tuple[ErrorCount, ...]
    endpoints: dict[str, str]  # names to URLs, secrets already removed
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # later stages' sections (scaling, pools)
    schema_version: int = SCHEMA_VERSION
    generator: GeneratorSummary | None = None  # how the load generators fared (saturation)
    headroom: Headroom | None = None  # how far each uncrossed threshold lies, in req/s
    tags: dict[str, str] = field(default_factory=dict)  # --tag and the scenario's tags:
    # the steady-state stages only: what the SLO checks judged, shown beside them
    steady: RequestStats | None = None
    # How utilization_of_target stages got their rates (harness.calibrate); None: none did.
    calibration: Calibration | None = None
    # latency distribution, steady state: name ("all requests", groups) -> (percentile, ms)
    latency_curves: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    endpoint_p95: dict[str, list[EndpointPoint]] = field(default_factory=dict)  # p95 over time
    load_started_at: float | None = None  # epoch of t = 0 on every time axis (wall clock)
    # A run that scaled: its load replayed at other CPU targets (harness.plan.whatif).
    replay: ReplayTable | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.calibration is not None:
            data["calibration"] = self.calibration.to_dict()
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, default=str)


def _latency(data: dict[str, Any]) -> LatencySummary:
    return LatencySummary(**data)


def _stats(data: dict[str, Any]) -> RequestStats:
    corrected = data.get("corrected")
    return RequestStats(**{**data, "latency": _latency(data["latency"]),
                           "corrected": _latency(corrected) if corrected else None})


def _generator(data: dict[str, Any] | None) -> GeneratorSummary | None:
    if not data:
        return None
    rows = tuple(GeneratorRow(**row) for row in data.get("generators", ()))
    return GeneratorSummary(**{**data, "generators": rows})


def _check(data: dict[str, Any]) -> CheckResult:
    window = data.get("window")
    return CheckResult(
        **{
            **data,
            "verdict": Verdict(data["verdict"]),
            "window": Window(**window) if window else None,
        }
    )


def _headroom(data: dict[str, Any] | None) -> Headroom | None:
    if not data:
        return None
    steady = dict(data["steady"])
    trend = steady.get("memory_trend")
    steady["memory_trend"] = MemoryTrend(**trend) if trend else None
    return Headroom(SteadyState(**steady), tuple(Limit(**limit) for limit in data["limits"]))


def load_results(path: Path) -> RunResult:
    """Read results.json back (for compare, plan and history); ConfigError naming the file
    when it is unreadable, truncated or of the wrong shape."""
    from harness.errors import ConfigError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), f"line {exc.lineno}, column {exc.colno}",
                          f"not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "expected a JSON object at the top level")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ConfigError(str(path), "schema_version", f"unsupported version {version!r}", "1")
    try:
        return _result(data)
    except KeyError as exc:
        raise ConfigError(str(path), str(exc.args[0]), "required field is missing") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(str(path), None, f"malformed: {type(exc).__name__}: {exc}") from None


def _result(data: dict[str, Any]) -> RunResult:
    server = data.get("server")
    return RunResult(
        run_id=data["run_id"],
        scenario=data["scenario"],
        scenario_description=data["scenario_description"],
        stack=data["stack"],
        status=RunStatus(data["status"]),
        exit_status=int(data["exit_status"]),
        started_at=float(data["started_at"]),
        ended_at=float(data["ended_at"]),
        checks=tuple(_check(c) for c in data["checks"]),
        totals=_stats(data["totals"]),
        per_request={k: _stats(v) for k, v in data["per_request"].items()},
        groups={k: _stats(v) for k, v in data["groups"].items()},
        stages=tuple(StagePlan(**s) for s in data["stages"]),
        timeline=tuple(TimelinePoint(**p) for p in data["timeline"]),
        replicas=tuple(ReplicaPoint(**p) for p in data["replicas"]),
        server=ServerSummary(**server) if server else None,
        errors=tuple(ErrorCount(**e) for e in data["errors"]),
        endpoints=dict(data["endpoints"]),
        notes=tuple(data.get("notes", ())),
        extra=dict(data.get("extra", {})),
        generator=_generator(data.get("generator")),
        headroom=_headroom(data.get("headroom")),
        tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        steady=_stats(data["steady"]) if data.get("steady") else None,
        calibration=Calibration.from_dict(data["calibration"]) if data.get("calibration") else None,
        latency_curves={str(k): [(float(p), float(v)) for p, v in curve]
                        for k, curve in (data.get("latency_curves") or {}).items()},
        endpoint_p95={str(k): [EndpointPoint(**p) for p in points]
                      for k, points in (data.get("endpoint_p95") or {}).items()},
        load_started_at=data.get("load_started_at"),
        replay=ReplayTable.from_dict(data["replay"]) if data.get("replay") else None,
        schema_version=SCHEMA_VERSION,
    )
