"""One load generator process's own instruments: recording, pacing and health.

Used inside the Locust process only (it imports gevent and patches Locust's HTTP clients there,
never in the harness's own process). A generator is the local process, or one Locust worker.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterable
from typing import Any

import gevent
import psutil
from gevent import getcurrent

from harness.load.latency import new_histogram
from harness.load.pacing import Pacer
from harness.load.recorder import Recorder

__all__ = ["Generator", "error_text"]

LAG_PERIOD = 0.05  # seconds between event-loop lag probes
IDLE_WAIT = 0.05  # a paced user whose task sent nothing waits this long before the next task

_URL_PREFIX = re.compile(r"^URL \S+: ")


def error_text(exception: object) -> str:
    """Errors grouped by kind, not by URL: "URL http://h/x?y=1: code=401" -> "code=401"."""
    return _URL_PREFIX.sub("", str(exception))[:300] or type(exception).__name__


class _Health:
    """CPU of this process, event-loop lag and RSS, per report."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._lag = new_histogram()
        self._cpu = self._cpu_seconds()
        self._wall = time.monotonic()
        self._greenlet: gevent.Greenlet | None = None

    def _cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._probe)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill(block=False)

    def _probe(self) -> None:
        clock = time.perf_counter
        while True:
            before = clock()
            gevent.sleep(LAG_PERIOD)
            late = clock() - before - LAG_PERIOD
            self._lag.record_value(max(1, int(late * 1_000_000)))

    def sample(self) -> dict[str, float]:
        cpu, wall = self._cpu_seconds(), time.monotonic()
        elapsed = wall - self._wall
        percent = 100.0 * (cpu - self._cpu) / elapsed if elapsed > 0 else 0.0
        self._cpu, self._wall = cpu, wall
        lag, self._lag = self._lag, new_histogram()
        count = lag.get_total_count()
        return {
            "cpu": round(percent, 1),
            "lag_p50": round(lag.get_value_at_percentile(50) / 1000.0, 2) if count else 0.0,
            "lag_p99": round(lag.get_value_at_percentile(99) / 1000.0, 2) if count else 0.0,
            "lag_max": round(lag.get_max_value() / 1000.0, 2) if count else 0.0,
            "rss": round(self._process.memory_info().rss / 1_048_576, 1),
        }


class Generator:
    """Records every response of this process's users, paces arrival-rate stages, and reports
    both (with its health) on demand.

    Attributes:
        name: "local", or "worker-N".
        pacer: the arrival-rate schedule (share of the whole rate this generator sends).
    """

    def __init__(self, *, name: str, pacer: Pacer) -> None:
        self.name = name
        self.pacer = pacer
        self.recorder = Recorder()
        self.health = _Health()
        self._late: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        self._sent = 0
        self._reported_at = time.monotonic()
        self._user_count = lambda: 0

    # --- wiring into Locust -------------------------------------------------------------
    def install(self, events: Any, user_classes: Iterable[type], user_count: Any,
                pace: bool | None = None) -> None:
        """Listen to every request; when any stage has a rate (or `pace`: a worker learns its
        schedule from the master later), pace the HTTP clients and make paced users run their
        tasks back to back (the schedule, not think time, spaces them)."""
        self._user_count = user_count
        events.request.add_listener(self._on_request)
        if self.pacer.paces if pace is None else pace:
            from locust.clients import HttpSession
            from locust.contrib.fasthttp import FastHttpSession

            for session in (HttpSession, FastHttpSession):
                session.request = self._paced(session.request)  # type: ignore[method-assign]
            for user_class in user_classes:
                user_class.wait_time = self._paced_wait(user_class.wait_time)  # type: ignore[attr-defined]

    def start(self) -> None:
        """The test starts: the schedule's clock starts now."""
        self.pacer.start(time.monotonic())
        self._reported_at = time.monotonic()
        self.health.start()

    def _on_request(self, request_type: str, name: str, response_time: float,
                    exception: Any = None, **_: Any) -> None:
        key = f"{request_type} {name}"
        late = self._late.pop(getcurrent(), None) if self.pacer.paces else None
        self.recorder.record(key, response_time or 0.0, exception is not None,
                             None if late is None else late * 1000.0)
        if exception is not None:
            self.recorder.error(key, error_text(exception))

    def _paced(self, request: Any) -> Any:
        late = self._late
        generator = self

        def paced_request(session: Any, *args: Any, **kwargs: Any) -> Any:
            pacer = generator.pacer
            if not pacer.paces:
                return request(session, *args, **kwargs)
            intended = pacer.claim(time.monotonic())
            if intended is not None:
                wait = intended - time.monotonic()
                if wait > 0:
                    gevent.sleep(wait)
                now = time.monotonic()
                if pacer.active(now):
                    late[getcurrent()] = max(0.0, now - intended)
                    generator._sent += 1
                    user = getattr(session, "user", None)
                    if user is not None:
                        user._harness_sent = True
            return request(session, *args, **kwargs)

        return paced_request

    def _paced_wait(self, wait_time: Any) -> Any:
        generator = self

        def paced_wait(user: Any) -> float:
            if generator.pacer.active(time.monotonic()):
                if getattr(user, "_harness_sent", False):
                    user._harness_sent = False
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
        sent, self._sent = self._sent, 0
        health = {
            "generator": self.name,
            **self.health.sample(),
            "users": int(self._user_count()),
            "intended": round(intended, 3),
            "sent": sent,
        }
        return {"generator": self.name, "names": names, "errors": errors, "health": health}

    def stop(self) -> None:
        self.health.stop()
