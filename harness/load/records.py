"""What the load stage hands on: per-interval counts and encoded histograms per request name,
and how each load generator fared in that interval."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ErrorCount",
    "GeneratorSample",
    "Interval",
    "LoadResult",
    "NameInterval",
    "StagePlan",
]


@dataclass(frozen=True)
class NameInterval:
    """One request name (e.g. "GET /api/tickets/{id}") within one interval."""

    name: str
    requests: int
    failures: int
    histogram: str  # encoded HdrHistogram of response times in microseconds, from the actual send
    # Encoded HdrHistogram of latency from the *intended* send time (coordinated-omission
    # corrected); present only when some of these requests were paced at an arrival rate.
    corrected: str | None = None


@dataclass(frozen=True)
class GeneratorSample:
    """One load generator (the local process or one worker) over one interval.

    `cpu_percent` is of one core (a generator is one gevent loop, so 100 % is its ceiling);
    `loop_lag_*` is how late a 50 ms timer fired, i.e. how long a response that had already
    arrived waited before the generator noticed it; `cpu_wait_percent` is the share of the
    interval its event loop was ready to run but waited for a core (the kernel's run-queue wait;
    None where the OS does not say); `intended` and `sent` count arrival-rate (open-model) sends
    that were due and that went out in the interval.
    """

    generator: str
    cpu_percent: float
    loop_lag_p99_ms: float
    loop_lag_max_ms: float
    loop_lag_p50_ms: float = 0.0
    users: int = 0
    intended: float = 0.0
    sent: int = 0
    rss_mb: float = 0.0
    gc_pause_max_ms: float = 0.0  # the longest garbage collection in the interval
    gc_pause_ms: float = 0.0  # all of them together
    nice: int = 0  # its scheduling priority in the interval (harness.load.priority)
    cpu_wait_percent: float | None = None
    realtime: bool = False  # it ran under a realtime policy (harness.load.priority)
    # Responses it recorded, and how many of them were timed on the wire (from the send to the
    # kernel's receive stamp) rather than by its loop (harness.load.wire).
    responses: int = 0
    kernel_timed: int = 0


@dataclass(frozen=True)
class Interval:
    """A slice of the run; times are seconds since the load started."""

    start: float
    end: float
    users: int
    names: tuple[NameInterval, ...]
    generators: tuple[GeneratorSample, ...] = ()

    @property
    def requests(self) -> int:
        return sum(n.requests for n in self.names)

    @property
    def failures(self) -> int:
        return sum(n.failures for n in self.names)

    @property
    def intended(self) -> float:
        """Arrival-rate sends due in this interval, over every generator (0 in a closed stage)."""
        return sum(g.intended for g in self.generators)

    @property
    def sent(self) -> int:
        return sum(g.sent for g in self.generators)


@dataclass(frozen=True)
class ErrorCount:
    name: str
    error: str
    occurrences: int


@dataclass(frozen=True)
class StagePlan:
    """One scenario stage as planned and run: the one stage record after the scenario file
    (harness.config.model.Stage), handed to the load process, the checks and the report.

    Times are seconds since the load started. A closed-model stage runs `users` users; an
    open-model stage sends `rate` requests/s and `users` is the concurrency that keeps it
    (harness.load.pacing.concurrency_for); `utilization_of_target` is set when that rate was
    sized by the calibration (harness.calibrate) as a multiple of the HPA's CPU target.
    """

    index: int
    name: str
    start: float
    end: float
    users: int
    steady: bool
    rate: float | None = None
    spawn_rate: float = 10.0
    utilization_of_target: float | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class WorkerExit:
    """A load worker that exited on its own during the run (the harness did not stop it)."""

    worker: int  # 1-based, as the logs name it (load-worker-N.log)
    status: int

    def __str__(self) -> str:
        return f"load worker {self.worker} exited with status {self.status} during the run"


@dataclass(frozen=True)
class LoadResult:
    started_at: float  # epoch seconds
    ended_at: float
    intervals: tuple[Interval, ...]
    errors: tuple[ErrorCount, ...]
    stages: tuple[StagePlan, ...]
    interrupted: bool = False
    workers: int = 0  # 0: one local generator process; N: a Locust master and N workers
    worker_exits: tuple[WorkerExit, ...] = ()
    # Workers whose final report never reached the master: their last requests are not counted.
    late_reports: int = 0

    @property
    def duration(self) -> float:
        return max(self.ended_at - self.started_at, 0.0)

    @property
    def generator_notes(self) -> tuple[str, ...]:
        """What went wrong with the generators, in words, for the run's notes."""
        late = (f"{self.late_reports} load worker(s) did not send their final report: the "
                "requests they made after their last report are not counted",)
        return (*map(str, self.worker_exits), *(late if self.late_reports else ()))
