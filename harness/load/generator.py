"""One load generator process's own instruments: recording, pacing and health.

Used inside the Locust process only (it imports gevent and patches Locust's HTTP clients there,
never in the harness's own process). A generator is the local process, or one Locust worker.
"""

from __future__ import annotations

import gc
import inspect
import math
import re
import time
import weakref
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import gevent
import psutil
from gevent import GreenletExit, getcurrent

from harness.load.pacing import Pacer
from harness.load.priority import cpu_wait_seconds, current_nice, is_realtime
from harness.load.recorder import Recorder
from harness.load.tls import SharedTls
from harness.load.wire import ReceiveStamps

__all__ = ["Generator", "error_text", "freeze_heap", "task_name", "warm_stack_inspection"]

LAG_PERIOD = 0.05  # seconds between event-loop lag probes
IDLE_WAIT = 0.05  # a paced user whose task sent nothing waits this long before the next task

_URL_PREFIX = re.compile(r"^URL \S+: ")
# Found without importing Locust, which would monkey-patch whatever process imports this module.
_LOCUST = str(Path(getattr(find_spec("locust"), "origin", None) or "locust").parent)
# A request still waiting for its response when its user was stopped (the load ended, or the
# user was ramped down) failed: it never completed. Its latency is how long it had waited.
IN_FLIGHT_ERROR = "timeout: no response before its user was stopped (end of load or ramp-down)"


def error_text(exception: object) -> str:
    """Errors grouped by kind, not by URL: "URL http://h/x?y=1: code=401" -> "code=401"."""
    return _URL_PREFIX.sub("", str(exception))[:300] or type(exception).__name__


def task_name(user: Any, tb: TracebackType | None) -> str:
    """The task an exception escaped from: the first frame of user code below Locust's own
    (the task, on_start or wait_time), as "UserClass.function"."""
    owner = getattr(user, "user", user)  # a TaskSet's user, or the user itself
    frame_tb = tb
    while frame_tb is not None:
        code = frame_tb.tb_frame.f_code
        if not code.co_filename.startswith(_LOCUST):
            qualname = code.co_qualname
            return qualname if "." in qualname else f"{type(owner).__name__}.{qualname}"
        frame_tb = frame_tb.tb_next
    return type(owner).__name__


def _marking_stop(stop: Any, stopping: weakref.WeakSet[Any]) -> Any:
    """User.stop that first marks the user as told to stop (in `stopping`)."""

    def marking_stop(user: Any, force: bool = False) -> Any:
        stopping.add(user)
        return stop(user, force)

    return marking_stop


def _request_key(session: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The name Locust would have reported for this request, "METHOD name"."""
    method = kwargs.get("method", args[0] if args else "?")
    url = str(kwargs.get("url", args[1] if len(args) > 1 else ""))
    name = kwargs.get("name", args[2] if len(args) > 2 else None)
    name = name or getattr(session, "request_name", None)
    if not name:
        parts = urlsplit(url)
        name = url if not parts.scheme else (parts.path or "/") + (
            f"?{parts.query}" if parts.query else "")
    return f"{method} {name}"


def freeze_heap(**_: Any) -> None:
    """Move every object alive now (Locust, gevent, the locustfile, the spawned users and their
    connections) out of the garbage collector's reach. Without it a full collection walks all
    of them, tens of milliseconds (measured: 56,000 objects after the imports alone) during
    which no response is noticed, the generator's own latency tail. Called at the start and
    whenever spawning completes; objects frozen and later dropped are freed by reference
    counting as usual, only cycles among them stay until the process ends."""
    gc.freeze()


def warm_stack_inspection(**_: Any) -> None:
    """Locust's Runner.stop() names its caller with inspect.stack(), whose first call resolves
    the file of every loaded module (25 ms measured; 18 ms of loop lag at the end of a peak run,
    which that interval's requests carried). One call before the load fills inspect's cache, so
    the stop costs about a millisecond."""
    inspect.stack()


def _rank(ordered: list[float], percent: float) -> float:
    """The nearest-rank percentile of sorted values (0 for none), in the unit given, to 0.01."""
    if not ordered:
        return 0.0
    return round(ordered[max(0, math.ceil(percent / 100.0 * len(ordered)) - 1)], 2)


class _Health:
    """CPU of this process, event-loop lag, garbage-collection pauses and RSS, per report."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._lags: list[float] = []  # ms each probe woke late since the last sample
        self._cpu = time.process_time()
        self._cpu_wait = cpu_wait_seconds()
        self._wall = time.monotonic()
        self._greenlet: gevent.Greenlet | None = None
        self._gc_began = 0.0
        self._gc_max = 0.0  # the longest collection since the last sample, seconds
        self._gc_total = 0.0

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_began = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_began
        self._gc_total += took
        self._gc_max = max(self._gc_max, took)

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._probe)
        if self._on_gc not in gc.callbacks:
            gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _probe(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            gevent.sleep(LAG_PERIOD)
            self._lags.append(max(0.0, clock() - before - LAG_PERIOD) * 1000.0)

    def sample(self) -> dict[str, float | bool | None]:
        """Since the last sample. A few C calls and a sort of ~40 probes: it runs on the event
        loop, where a histogram per sample (a fresh 188 KB one, Python loops for percentiles)
        cost milliseconds on a cold cache."""
        cpu, wall = time.process_time(), time.monotonic()
        elapsed = wall - self._wall
        percent = 100.0 * (cpu - self._cpu) / elapsed if elapsed > 0 else 0.0
        waited, before = cpu_wait_seconds(), self._cpu_wait
        self._cpu, self._cpu_wait, self._wall = cpu, waited, wall
        wait_percent = (round(100.0 * (waited - before) / elapsed, 2)
                        if waited is not None and before is not None and elapsed > 0 else None)
        lags, self._lags = sorted(self._lags), []
        gc_max, gc_total, self._gc_max, self._gc_total = self._gc_max, self._gc_total, 0.0, 0.0
        return {
            "gc_max": round(gc_max * 1000.0, 2),
            "gc_ms": round(gc_total * 1000.0, 2),
            "cpu": round(percent, 1),
            "cpu_wait": wait_percent,
            "lag_p50": _rank(lags, 50.0),
            "lag_p99": _rank(lags, 99.0),
            "lag_max": round(lags[-1], 2) if lags else 0.0,
            "rss": round(self._process.memory_info().rss / 1_048_576, 1),
            "nice": current_nice(),
            "realtime": is_realtime(),
        }


class Generator:
    """Records every response of this process's users, paces arrival-rate stages, and reports
    both (with its health) on demand.

    Attributes:
        name: "local", or "worker-N".
        pacer: the arrival-rate schedule (share of the whole rate this generator sends).
        planned: seconds from the start to the load's planned end, when known.
    """

    def __init__(self, *, name: str, pacer: Pacer, planned: float | None = None) -> None:
        self.name = name
        self.pacer = pacer
        # Seconds from the start to the load's planned end: Locust stops the users at its next
        # tick or a little later; until then they send nothing more (no load after the end).
        self.planned = planned
        self._t0: float | None = None
        self.recorder = Recorder()
        self.health = _Health()
        self._late: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        # Users told to stop, and paced users whose task just sent: kept beside Locust's user
        # objects rather than written into them.
        self._stopping: weakref.WeakSet[Any] = weakref.WeakSet()
        self._just_sent: weakref.WeakSet[Any] = weakref.WeakSet()
        self._sent = 0
        self._responses = 0  # responses recorded since the last report
        self._arrival_timed = 0  # of those, timed to their arrival
        # When each request was sent and its response arrived (harness.load.wire).
        self.stamps = ReceiveStamps()
        self._reported_at = time.monotonic()
        self._user_count = lambda: 0

    # --- wiring into Locust -------------------------------------------------------------
    def install(self, events: Any, user_classes: Iterable[type], user_count: Any,
                pace: bool | None = None) -> None:
        """Listen to every request; when any stage has a rate (or `pace`: a worker learns its
        schedule from the master later), pace the HTTP clients and make paced users run their
        tasks back to back (the schedule, not think time, spaces them)."""
        from locust.clients import HttpSession
        from locust.contrib.fasthttp import FastHttpSession

        self._user_count = user_count
        self.stamps.install()
        events.request.add_listener(self._on_request)
        events.user_error.add_listener(self._on_user_error)
        events.test_start.add_listener(warm_stack_inspection)  # before the freeze: its cache too
        tls = SharedTls(user_classes)  # one TLS context per class, not one per user
        events.test_start.add_listener(lambda environment, **_: tls.build(environment.host))
        events.test_start.add_listener(freeze_heap)
        events.spawning_complete.add_listener(freeze_heap)
        for session in (HttpSession, FastHttpSession):
            session.request = self._tracked(session.request)  # type: ignore[method-assign]
        for user_class in user_classes:
            user_class.stop = _marking_stop(user_class.stop,  # type: ignore[attr-defined]
                                            self._stopping)
        if self.pacer.paces if pace is None else pace:
            for user_class in user_classes:
                user_class.wait_time = self._paced_wait(user_class.wait_time)  # type: ignore[attr-defined]

    def start(self) -> None:
        """The test starts: the schedule's clock starts now."""
        self._t0 = time.monotonic()
        self.pacer.start(self._t0)
        self._reported_at = time.monotonic()
        self.health.start()

    def _on_request(self, request_type: str, name: str, response_time: float,
                    exception: Any = None, start_time: float | None = None,
                    **_: Any) -> None:
        key = f"{request_type} {name}"
        late = self._late.pop(getcurrent(), None) if self.pacer.paces else None
        self._responses += 1
        # From its first bytes sent to its response's last bytes' arrival, not from when its
        # code asked until this greenlet ran again (harness.load.wire); never more than
        # Locust's own clock says.
        timed = response_time or 0.0
        arrival = self.stamps.arrival_ms(start_time)
        if arrival is not None and arrival <= timed:
            timed = arrival
            self._arrival_timed += 1
        self.recorder.record(key, timed, exception is not None,
                             None if late is None else late * 1000.0)
        if exception is not None:
            self.recorder.error(key, error_text(exception))

    def over(self) -> bool:
        """Whether the load's planned end has passed."""
        if self._t0 is None or self.planned is None:
            return False
        return time.monotonic() - self._t0 >= self.planned

    def _on_user_error(self, user_instance: Any, exception: BaseException,
                       tb: TracebackType | None, **_: Any) -> None:
        key = f"TASK {task_name(user_instance, tb)}"
        self.recorder.failure(key)
        self.recorder.error(key, f"{type(exception).__name__}: {exception}"[:300])

    def _tracked(self, request: Any) -> Any:
        """`request`, paced when the schedule says so, and counted as a failed timeout when its
        user is stopped while it waits (Locust reports nothing for it then)."""
        generator = self

        def tracked_request(session: Any, *args: Any, **kwargs: Any) -> Any:
            if generator.over():
                from locust.exception import StopUser

                raise StopUser  # nothing is sent after the planned end
            if generator.pacer.paces:
                generator._pace(session)
            user = getattr(session, "user", None)
            # A user told to stop may still start one request before Locust's kill reaches it
            # (it woke in the same loop turn); that one is the generator's abort, not the
            # system's failure.
            told_to_stop = user is not None and user in generator._stopping
            started = time.perf_counter()
            generator.stamps.start()
            try:
                return request(session, *args, **kwargs)
            except (GreenletExit, gevent.Timeout):
                if not told_to_stop:
                    generator._in_flight(_request_key(session, args, kwargs),
                                         (time.perf_counter() - started) * 1000.0)
                raise

        return tracked_request

    def _in_flight(self, key: str, waited_ms: float) -> None:
        late = self._late.pop(getcurrent(), None) if self.pacer.paces else None
        self.recorder.record(key, waited_ms, True, None if late is None else late * 1000.0)
        self.recorder.error(key, IN_FLIGHT_ERROR)

    def _pace(self, session: Any) -> None:
        """Wait for this request's slot in the arrival-rate schedule."""
        pacer = self.pacer
        intended = pacer.claim(time.monotonic())
        if intended is None:
            return
        wait = intended - time.monotonic()
        if wait > 0:
            gevent.sleep(wait)
        user = getattr(session, "user", None)
        if (user is not None and user in self._stopping) or self.over():
            # Told to stop, or the load's planned end passed, while it waited for its slot.
            from locust.exception import StopUser

            raise StopUser
        now = time.monotonic()
        if pacer.active(now):
            self._late[getcurrent()] = max(0.0, now - intended)
            self._sent += 1
            if user is not None:
                self._just_sent.add(user)

    def _paced_wait(self, wait_time: Any) -> Any:
        generator = self

        def paced_wait(user: Any) -> float:
            if generator.pacer.active(time.monotonic()):
                if user in generator._just_sent:
                    generator._just_sent.discard(user)
                    return 0.0
                return IDLE_WAIT  # the task sent nothing: don't spin
            return float(wait_time(user))

        return paced_wait

    # --- reporting ----------------------------------------------------------------------
    def report(self) -> dict[str, Any]:
        """Everything since the last report, with this generator's health over that time."""
        now = time.monotonic()
        intended = self.pacer.due_between(self._reported_at, now)
        self._reported_at = now
        names, errors = self.recorder.swap(pause=lambda: gevent.sleep(0))
        gevent.sleep(0)  # responses that arrived meanwhile, before the health sample
        sent, self._sent = self._sent, 0
        responses, self._responses = self._responses, 0
        stamped, self._arrival_timed = self._arrival_timed, 0
        health = {
            "generator": self.name,
            **self.health.sample(),
            "users": int(self._user_count()),
            "intended": round(intended, 3),
            "sent": sent,
            "responses": responses,
            "stamped": stamped,
        }
        return {"generator": self.name, "names": names, "errors": errors, "health": health}

    def stop(self) -> None:
        self.health.stop()
