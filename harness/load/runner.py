"""Run the load generator process and turn its interval lines into a LoadResult."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from harness.errors import DependencyError, Interrupted
from harness.load.records import ErrorCount, Interval, LoadResult, NameInterval
from harness.load.shapes import StagePlan, windows

__all__ = ["LoadRunner"]

# A generator that says nothing for this long (beyond its interval) is treated as dead.
SILENCE_LIMIT = 30.0


class LoadRunner:
    """Drives one scenario against `host`, reporting each interval to `on_interval`.

    Attributes:
        stages: the scenario's stages, flattened.
        locustfiles: the Locust files whose User classes make the load.
        host: the URL the simulated users talk to.
        interval: seconds per recorded interval.
        work_dir: where the plan and the generator's log are written.
        env: extra environment for the generator process (tokens file, …).
    """

    def __init__(
        self,
        *,
        stages: Sequence[StagePlan],
        locustfiles: Sequence[Path],
        host: str,
        work_dir: Path,
        interval: float = 2.0,
        env: Mapping[str, str] | None = None,
        stop_timeout: float = 5.0,
    ) -> None:
        self.stages = tuple(stages)
        self.locustfiles = tuple(locustfiles)
        self.host = host
        self.work_dir = work_dir
        self.interval = interval
        self.env = dict(env or {})
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen[str] | None = None
        self.intervals: list[Interval] = []

    @property
    def planned_duration(self) -> float:
        return sum(s.duration for s in self.stages)

    def _write_plan(self) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        plan = {
            "locustfiles": [str(p) for p in self.locustfiles],
            "host": self.host,
            "stages": [asdict(s) for s in self.stages],
            "interval": self.interval,
            "stop_timeout": self.stop_timeout,
        }
        path = self.work_dir / "load-plan.json"
        path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
        return path

    def run(self, on_interval: Callable[[Interval, float], None] | None = None) -> LoadResult:
        """Blocks until the scenario ends. Ctrl-C stops the generator and raises Interrupted,
        with what was recorded so far kept in `self.partial()`."""
        plan = self._write_plan()
        log_path = self.work_dir / "load-generator.log"
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        started_at = time.time()
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "harness.load.locust_process", str(plan)],
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    env=env,
                    start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
                )
            except OSError as exc:
                raise DependencyError(f"cannot start the load generator: {exc}") from None
            lines: queue.Queue[str | None] = queue.Queue()
            assert self._process.stdout is not None  # noqa: S101 - Popen with PIPE
            reader = threading.Thread(
                target=_pump, args=(self._process.stdout, lines), daemon=True
            )
            reader.start()
            self._started_at = started_at
            self._errors: list[ErrorCount] = []
            interrupted = False
            try:
                interrupted = self._consume(lines, on_interval)
            except KeyboardInterrupt:
                self.stop()
                with contextlib.suppress(Exception):
                    self._consume(lines, on_interval, deadline=time.monotonic() + 10)
                raise Interrupted("interrupted during load") from None
            finally:
                self.stop()
        return self._result(started_at, time.time(), interrupted)

    def _consume(
        self,
        lines: queue.Queue[str | None],
        on_interval: Callable[[Interval, float], None] | None,
        deadline: float | None = None,
    ) -> bool:
        limit = deadline or time.monotonic() + self.planned_duration + self.stop_timeout + 120
        last_heard = time.monotonic()
        while True:
            now = time.monotonic()
            if now > limit:
                raise DependencyError("the load generator did not finish in time; it was stopped")
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                if now - last_heard > self.interval + SILENCE_LIMIT:
                    raise DependencyError(
                        f"the load generator stopped reporting; see {self.work_dir}/load-generator.log"
                    ) from None
                continue
            last_heard = time.monotonic()
            if line is None:
                code = self._process.wait() if self._process else None
                raise DependencyError(
                    f"the load generator exited with status {code} before finishing; "
                    f"see {self.work_dir / 'load-generator.log'}"
                )
            record = json.loads(line)
            kind = record.get("type")
            if kind == "interval":
                interval = _interval(record)
                self.intervals.append(interval)
                if on_interval is not None:
                    on_interval(interval, float(record.get("cpu", 0.0)))
            elif kind == "errors":
                self._errors = [ErrorCount(**e) for e in record["errors"]]
            elif kind == "done":
                return bool(record.get("interrupted"))

    def stop(self) -> None:
        """Stop the generator: SIGTERM (it flushes), then SIGKILL after stop_timeout."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=self.stop_timeout + 10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def partial(self) -> LoadResult:
        started = getattr(self, "_started_at", time.time())
        return self._result(started, time.time(), True)

    def _result(self, started_at: float, ended_at: float, interrupted: bool) -> LoadResult:
        return LoadResult(
            started_at=started_at,
            ended_at=ended_at,
            intervals=tuple(self.intervals),
            errors=tuple(getattr(self, "_errors", ())),
            stages=windows(self.stages),
            interrupted=interrupted,
        )


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        if line.startswith("{"):
            lines.put(line)
    lines.put(None)


def _interval(record: dict[str, Any]) -> Interval:
    names = tuple(
        NameInterval(name=k, requests=int(v["n"]), failures=int(v["f"]), histogram=v["h"])
        for k, v in sorted(record["names"].items())
    )
    return Interval(
        start=float(record["start"]),
        end=float(record["end"]),
        users=int(record["users"]),
        names=names,
    )
