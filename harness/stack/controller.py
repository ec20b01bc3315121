"""A Deployment's controllers for replica processes: keep the desired count running, gated by
probes, and answer the PodDisruptionBudget's question (may one more replica go now?).

On Kubernetes, a killed pod is replaced by its ReplicaSet at once and is sent traffic only once
its readiness probe passes; a scale-up creates every missing pod at once, and each is probed in
the background (startup probe, then readiness) while the HPA goes on syncing; a container that
keeps crashing is restarted with the kubelet's back-off (10 s, doubling, at most 5 min).
Evictions (a drain) go through the disruption budget: with `maxUnavailable: 1`, one pod at a
time. This module does the same for the `embedded` and `local` backends, in a thread, and
records every exit, start and readiness change it sees.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from harness.config.k8s import DisruptionBudget
from harness.stack.processes import ManagedProcess

__all__ = ["ProbeTiming", "ReplicaController", "ReplicaEvent"]

BACKOFF_INITIAL = 10.0  # the kubelet's crash-loop back-off
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0  # a replica up this long resets the back-off


@dataclass(frozen=True)
class ReplicaEvent:
    """Something that happened to a replica; `t` in epoch seconds."""

    t: float
    replica: str
    event: str  # exited | started | ready | unready | not-started | stopped
    detail: str = ""
    expected: bool = False  # the harness caused it (a fault, a scale-down)


@dataclass(frozen=True)
class ReplicaState:
    """What the controller knows of one replica: ready or not, and since when (monotonic)."""

    ready: bool
    started_at: float | None
    ready_changed_at: float | None


@dataclass(frozen=True)
class ProbeTiming:
    """How often the controller looks and probes, in seconds; the probe fields of a pod spec."""

    period: float = 0.5  # between rounds (exits, starts, probes of replicas not yet ready)
    readiness_period: float = 5.0  # between readiness probes of a ready replica
    readiness_failures: int = 3  # failures in a row that make a ready replica unready
    timeout: float = 3.0  # of one probe request
    startup_attempts: int = 30  # startup probes before a replica counts as not started
    startup_period: float = 1.0  # between startup probes


@dataclass
class _Startup:
    """A replica whose startup probe has not passed yet."""

    attempts: int = 0
    next_probe: float = 0.0


class ReplicaController:
    """Keeps `desired` replicas of a replica set running.

    The set is reached through callables so the controller can be tested without processes:
    `running()` the current processes, `remove(p)` forgets one, `start()` starts one,
    `startup_url(p)` its startup probe (tried as often and as far apart as `timing` says,
    without blocking the loop), `ready_url(p)` its readiness probe.

    Attributes:
        desired: the replica count to keep (the autoscaler or `scale` sets it).
        budget: the PodDisruptionBudget.
        events: everything seen, in order.
    """

    def __init__(
        self,
        *,
        desired: int,
        running: Callable[[], list[ManagedProcess]],
        remove: Callable[[ManagedProcess], bool],
        start: Callable[[], ManagedProcess],
        startup_url: Callable[[ManagedProcess], str],
        ready_url: Callable[[ManagedProcess], str],
        budget: DisruptionBudget | None = None,
        timing: ProbeTiming = ProbeTiming(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.desired = desired
        self.budget = budget or DisruptionBudget()
        self.events: list[ReplicaEvent] = []
        self._running = running
        self._remove = remove
        self._start = start
        self._startup_url = startup_url
        self._timing = timing
        self._starting: dict[str, _Startup] = {}
        self._started_at: dict[str, float] = {}
        self._ready_changed_at: dict[str, float] = {}
        self._clock = clock
        self._ready_url = ready_url
        self._last_probe: dict[str, float] = {}
        self._ready: dict[str, bool] = {}
        self._misses: dict[str, int] = {}
        self._expected_exits: dict[int, str] = {}
        self._crashes = 0
        self._retry_at = 0.0
        self._last_crash = 0.0
        self._events_lock = threading.Lock()
        self._reconcile = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    # -- what others ask ----------------------------------------------------------------------

    def record(self, replica: str, event: str, detail: str = "", *, expected: bool = False) -> None:
        with self._events_lock:
            self.events.append(ReplicaEvent(time.time(), replica, event, detail, expected))

    def snapshot(self) -> list[ReplicaEvent]:
        with self._events_lock:
            return list(self.events)

    def mark_ready(self, replica: str, started_at: float | None = None) -> None:
        """A replica whose startup and readiness probes the caller has just seen pass."""
        if started_at is not None:
            self._started_at.setdefault(replica, started_at)
        if not self._ready.get(replica):
            self._set_ready(replica, True)
            self._misses[replica] = 0

    def mark_gone(self, replica: str) -> None:
        """A replica the caller has just ended: no longer ready, whatever it answered last."""
        self._starting.pop(replica, None)
        if replica in self._ready:
            self._set_ready(replica, False)

    def is_ready(self, replica: str) -> bool:
        return bool(self._ready.get(replica))

    def is_available(self, replica: str, min_ready_seconds: float) -> bool:
        """Ready for at least `min_ready_seconds` (a Deployment's available replica)."""
        if not self._ready.get(replica):
            return False
        since = self._ready_changed_at.get(replica)
        return since is None or self._clock() - since >= min_ready_seconds

    def state(self, replica: str) -> ReplicaState:
        return ReplicaState(bool(self._ready.get(replica)), self._started_at.get(replica),
                            self._ready_changed_at.get(replica))

    def _set_ready(self, replica: str, ready: bool) -> None:
        self._ready[replica] = ready
        self._ready_changed_at[replica] = self._clock()

    def ready_count(self) -> int:
        alive = {p.name for p in self._running() if p.alive()}
        return sum(1 for name in alive if self._ready.get(name))

    def disruptions_allowed(self) -> int:
        return self.budget.allowed(self.desired, self.ready_count())

    def expect_exit(self, process: ManagedProcess, reason: str) -> None:
        """The harness is about to end this replica on purpose (a fault): not a crash."""
        self._expected_exits[process.pid] = reason

    # -- the loop -----------------------------------------------------------------------------

    def start(self, lifetime: float = 7 * 86400) -> None:
        self._deadline = time.monotonic() + lifetime

        def run() -> None:
            try:
                with httpx.Client(timeout=self._timing.timeout) as client:
                    while not self._stop.is_set() and time.monotonic() < self._deadline:
                        self.tick(client)
                        self._stop.wait(self._timing.period)
            except BaseException as exc:  # noqa: BLE001 - reported by the run, not lost
                self.error = exc

        self._thread = threading.Thread(target=run, name="replica-controller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def tick(self, client: httpx.Client) -> None:
        """One round: notice exits, probe startup and readiness, start what is missing."""
        if not self._reconcile.acquire(blocking=False):
            return  # a round is still running; look again next round
        try:
            self._reap()
            self._replace()  # before the probes: a round of probe timeouts must not delay it
            self._probe_startup(client)
            self._probe(client)
        finally:
            self._reconcile.release()

    def _reap(self) -> None:
        for process in self._running():
            code = process.popen.poll()
            if code is None or not self._remove(process):
                continue
            self._ready.pop(process.name, None)
            self._starting.pop(process.name, None)
            reason = self._expected_exits.pop(process.pid, None)
            detail = _exit_text(code)
            if reason is None:
                now = time.monotonic()
                if now - self._last_crash > BACKOFF_RESET:
                    self._crashes = 0
                self._crashes += 1
                self._last_crash = now
                delay = 0.0 if self._crashes == 1 else min(
                    BACKOFF_INITIAL * 2 ** (self._crashes - 2), BACKOFF_MAX)
                self._retry_at = now + delay
                if delay:
                    detail += f"; restart back-off {delay:g}s"
            if reason is not None:
                detail = f"{detail} ({reason})"
            self.record(process.name, "exited", detail, expected=reason is not None)

    def _probe_startup(self, client: httpx.Client) -> None:
        """The startup probe of every replica still starting, each on its own period; once it
        passes, readiness is probed (from this same round on)."""
        now = self._clock()
        for process in self._running():
            startup = self._starting.get(process.name)
            if startup is None or not process.alive() or now < startup.next_probe:
                continue
            startup.attempts += 1
            startup.next_probe = now + self._timing.startup_period
            try:
                ok = client.get(self._startup_url(process)).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                del self._starting[process.name]
                self._ready[process.name] = False  # traffic only once readiness passes
                self._misses[process.name] = 0
            elif startup.attempts >= self._timing.startup_attempts:
                del self._starting[process.name]
                self.record(process.name, "not-started",
                            f"startup probe failed {startup.attempts} times "
                            f"({self._timing.startup_period:g}s apart)")
                self._ready[process.name] = False

    def _probe(self, client: httpx.Client) -> None:
        """Readiness as the kubelet probes it: a ready replica every readiness period (the
        manifest's), one not yet ready at every tick so its first success is seen at once."""
        now = time.monotonic()
        for process in self._running():
            if not process.alive() or process.name not in self._ready:
                continue
            if self._ready[process.name] and \
                    now - self._last_probe.get(process.name, 0.0) < self._timing.readiness_period:
                continue
            self._last_probe[process.name] = now
            try:
                response = client.get(self._ready_url(process))
                ok = response.status_code == 200
                status = _status_of(response)
            except httpx.HTTPError as exc:
                ok, status = False, type(exc).__name__
            if ok:
                self._misses[process.name] = 0
                if not self._ready[process.name]:
                    self._set_ready(process.name, True)
                    self.record(process.name, "ready")
            else:
                self._misses[process.name] = self._misses.get(process.name, 0) + 1
                misses = self._misses[process.name]
                if self._ready[process.name] and misses >= self._timing.readiness_failures:
                    self._set_ready(process.name, False)
                    self.record(process.name, "unready",
                                f"{misses} readiness probes failed (the last: {status})")

    def _replace(self) -> None:
        """Start every missing replica at once, as a ReplicaSet creates its pods; their probes
        run in the following rounds. A crash's back-off delays only the next start."""
        alive = [p for p in self._running() if p.alive()]
        missing = self.desired - len(alive)
        if missing <= 0 or time.monotonic() < self._retry_at:
            return
        for _ in range(missing):
            process = self._start()
            now = self._clock()
            self._started_at[process.name] = now
            self._ready_changed_at[process.name] = now  # the pod's Ready=False condition
            self._starting[process.name] = _Startup(next_probe=now)
            self.record(process.name, "started",
                        f"pid {process.pid}, {len(alive) + 1} of {self.desired} running")
            alive.append(process)


def _status_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"http {response.status_code}"
    status = body.get("status") if isinstance(body, dict) else None
    return str(status) if status else f"http {response.status_code}"


def _exit_text(code: int) -> str:
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"
