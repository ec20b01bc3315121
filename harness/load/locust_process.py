"""The load generator process: Locust with exact HdrHistogram recording.

Runs as `python -m harness.load.locust_process PLAN.json` so that Locust's gevent monkey-patching
stays out of the harness's own process. Every `interval` seconds it prints one JSON line to stdout:

  {"type": "interval", "start": s, "end": s, "users": n, "cpu": %, "names": {name: {n, f, h}}}

where `h` is the encoded HdrHistogram (microseconds) of that interval; at the end one
{"type": "errors", ...} line and {"type": "done", "interrupted": bool}.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LoadPlan", "main"]


@dataclass(frozen=True)
class LoadPlan:
    locustfiles: tuple[str, ...]
    host: str
    stages: tuple[dict[str, Any], ...]
    interval: float
    stop_timeout: float

    @classmethod
    def read(cls, path: Path) -> LoadPlan:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            locustfiles=tuple(data["locustfiles"]),
            host=data["host"],
            stages=tuple(data["stages"]),
            interval=float(data["interval"]),
            stop_timeout=float(data.get("stop_timeout", 5.0)),
        )


class _Recorder:
    """Per-interval histograms and counts, swapped out atomically at every flush."""

    def __init__(self) -> None:
        from harness.load.latency import new_histogram

        self._new = new_histogram
        self.names: dict[str, list[Any]] = {}
        self.errors: dict[tuple[str, str], int] = {}

    def record(self, key: str, response_time_ms: float, failed: bool) -> None:
        entry = self.names.get(key)
        if entry is None:
            entry = self.names[key] = [0, 0, self._new()]
        entry[0] += 1
        if failed:
            entry[1] += 1
        entry[2].record_value(max(1, int(response_time_ms * 1000.0)))

    def swap(self) -> dict[str, list[Any]]:
        names, self.names = self.names, {}
        return names


_URL_PREFIX = re.compile(r"^URL \S+: ")


def _error_text(exception: object) -> str:
    """Errors grouped by kind, not by URL: "URL http://h/api/tickets?x=1: code=401" -> "code=401"."""
    return _URL_PREFIX.sub("", str(exception))[:300] or type(exception).__name__


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    plan = LoadPlan.read(Path(argv[0]))

    import gevent
    from locust import LoadTestShape
    from locust.env import Environment
    from locust.util.load_locustfile import load_locustfile

    from harness.load.latency import encode
    from harness.load.shapes import StagePlan, target_at

    user_classes: dict[str, Any] = {}
    for path in plan.locustfiles:
        classes, _shapes = load_locustfile(path)
        user_classes.update(classes)
    if not user_classes:
        sys.stderr.write(f"no User classes found in {', '.join(plan.locustfiles)}\n")
        return 2
    stages = tuple(StagePlan(**s) for s in plan.stages)

    class StagesShape(LoadTestShape):
        def tick(self) -> tuple[int, float] | None:
            return target_at(stages, self.get_run_time())

    recorder = _Recorder()
    env = Environment(
        user_classes=list(user_classes.values()),
        shape_class=StagesShape(),
        host=plan.host,
        stop_timeout=plan.stop_timeout,
    )

    def on_request(request_type: str, name: str, response_time: float, exception: Any = None,
                   **_: Any) -> None:
        key = f"{request_type} {name}"
        recorder.record(key, response_time or 0.0, exception is not None)
        if exception is not None:
            error = _error_text(exception)
            recorder.errors[(key, error)] = recorder.errors.get((key, error), 0) + 1

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    started = time.monotonic()
    interrupted = False
    last = 0.0

    def flush() -> None:
        nonlocal last
        now = time.monotonic() - started
        names = recorder.swap()
        _emit(
            {
                "type": "interval",
                "start": round(last, 3),
                "end": round(now, 3),
                "users": runner.user_count,
                "cpu": round(runner.current_cpu_usage, 1),
                "names": {k: {"n": v[0], "f": v[1], "h": encode(v[2])} for k, v in names.items()},
            }
        )
        last = now

    quitting = False

    def quit_once() -> None:
        nonlocal quitting
        if not quitting:
            quitting = True
            runner.quit()

    def stop(*_: Any) -> None:
        nonlocal interrupted
        interrupted = True
        gevent.spawn(quit_once)

    # The shape returning None stops the test; then the runner itself must quit.
    env.events.test_stop.add_listener(lambda **_: gevent.spawn(quit_once))

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)

    def flusher() -> None:
        while True:
            gevent.sleep(plan.interval)
            flush()

    runner.start_shape()
    flushing = gevent.spawn(flusher)
    runner.greenlet.join()
    flushing.kill()
    flush()
    _emit(
        {
            "type": "errors",
            "errors": [
                {"name": k, "error": e, "occurrences": n} for (k, e), n in recorder.errors.items()
            ],
        }
    )
    _emit({"type": "done", "interrupted": interrupted})
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
