"""Run the load generator process and turn its interval lines into a LoadResult."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from harness.errors import DependencyError, Interrupted
from harness.load.plan import plan_document
from harness.load.priority import GENERATOR_NICE, realtime_fits
from harness.load.records import (
    ErrorCount,
    GeneratorSample,
    Interval,
    LoadResult,
    NameInterval,
    WorkerExit,
)
from harness.load.shapes import StagePlan

__all__ = ["LoadRunner"]

# A generator that says nothing for this long (beyond its interval) is treated as dead.
SILENCE_LIMIT = 30.0
# A generator still running this long after its planned end and stop timeout is stopped as hung
# (it may keep reporting, so SILENCE_LIMIT would not catch it); the slack is for its start-up
# and its final reports.
OVERRUN_LIMIT = 120.0


class LoadRunner:
    """Drives one scenario against `host`, reporting each interval to `on_interval`.

    Attributes:
        stages: the scenario's stages, flattened.
        locustfiles: the Locust files whose User classes make the load.
        host: the URL the simulated users talk to.
        interval: seconds per recorded interval.
        work_dir: where the plan and the generator's log are written.
        env: extra environment for the generator process (tokens file, …).
        workers: 0 runs one local generator process; N runs a Locust master and N worker
            processes here, each recording its own histograms, merged exactly by the master.
        nice: the scheduling priority the generator processes ask for (harness.load.priority);
            one already ahead of it keeps its own.
        realtime: whether the processes that send load ask to run realtime, which they do only
            where they leave a core to everything else (harness.load.priority.realtime_fits).
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
        workers: int = 0,
        nice: int = GENERATOR_NICE,
        realtime: bool = False,
    ) -> None:
        self.stages = tuple(stages)
        self.locustfiles = tuple(locustfiles)
        self.host = host
        self.work_dir = work_dir
        self.interval = interval
        self.env = dict(env or {})
        self.stop_timeout = stop_timeout
        self.workers = workers
        self.nice = nice
        self.realtime = realtime and realtime_fits(max(workers, 1))
        self._process: subprocess.Popen[str] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []
        self._stopped_workers: set[int] = set()  # stopped by us, or already reported dead
        self._exits: list[WorkerExit] = []
        self._late_reports = 0
        self._started_at: float | None = None  # epoch seconds, once run() started the load
        self._errors: list[ErrorCount] = []
        self.intervals: list[Interval] = []

    @property
    def planned_duration(self) -> float:
        return sum(s.duration for s in self.stages)

    def _write_plan(self, master_port: int) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        plan = plan_document(
            stages=self.stages,
            locustfiles=self.locustfiles,
            host=self.host,
            interval=self.interval,
            stop_timeout=self.stop_timeout,
            workers=self.workers,
            master_port=master_port,
            nice=self.nice,
            realtime=self.realtime,
        )
        path = self.work_dir / "load-plan.json"
        path.write_text(json.dumps(plan, indent=2), encoding="utf-8")
        return path

    def run(self, on_interval: Callable[[Interval, float], None] | None = None) -> LoadResult:
        """Blocks until the scenario ends. Ctrl-C stops the generator and raises Interrupted,
        with what was recorded so far kept in `self.partial()`."""
        port = _free_port() if self.workers else 0
        plan = self._write_plan(port)
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
                self._start_workers(port, env)
            except OSError as exc:
                self.stop()
                raise DependencyError(f"cannot start the load generator: {exc}") from None
            lines: queue.Queue[str | None] = queue.Queue()
            assert self._process.stdout is not None  # noqa: S101 - Popen with PIPE
            reader = threading.Thread(
                target=_pump, args=(self._process.stdout, lines), daemon=True
            )
            reader.start()
            self._started_at = started_at
            self._errors = []
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

    def _start_workers(self, port: int, env: dict[str, str]) -> None:
        for index in range(self.workers):
            with open(self.work_dir / f"load-worker-{index + 1}.log", "wb") as log:
                self._workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "harness.load.locust_process", "worker",
                         "--master-host", "127.0.0.1", "--master-port", str(port),
                         "--nice", str(self.nice),
                         *(["--realtime"] if self.realtime else []),
                         *[str(p) for p in self.locustfiles]],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=env,
                        start_new_session=True,
                    )
                )

    def _consume(
        self,
        lines: queue.Queue[str | None],
        on_interval: Callable[[Interval, float], None] | None,
        deadline: float | None = None,
    ) -> bool:
        wait = 60.0 if self.workers else 0.0  # workers connecting before the master starts
        limit = deadline or (
            time.monotonic() + self.planned_duration + self.stop_timeout + OVERRUN_LIMIT + wait
        )
        last_heard = time.monotonic()
        while True:
            now = time.monotonic()
            if now > limit:
                raise DependencyError("the load generator did not finish in time; it was stopped")
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                if now - last_heard > self.interval + SILENCE_LIMIT + wait:
                    raise DependencyError(
                        "the load generator stopped reporting; "
                        f"see {self.work_dir}/load-generator.log"
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
                wait = 0.0  # reporting has started; silence now means trouble
            elif kind == "errors":
                self._errors = [ErrorCount(**e) for e in record["errors"]]
            elif kind == "fatal":
                raise DependencyError(str(record.get("message", "the load generator failed")))
            elif kind == "done":
                self._late_reports = int(record.get("late_reports", 0))
                return bool(record.get("interrupted"))

    def stop(self) -> None:
        """Stop the generator: SIGTERM (it flushes; a master first gathers its workers' final
        reports), then SIGKILL after stop_timeout; then the workers the same way."""
        process = self._process
        for index, worker in enumerate(self._workers):
            code = worker.poll()  # before we stop anything: did a worker die on its own?
            if code is not None and code != 0 and index not in self._stopped_workers:
                self._exits.append(WorkerExit(index + 1, code))
                self._stopped_workers.add(index)
        if process is not None and process.poll() is None:
            _terminate(process, self.stop_timeout + 10)
        for index, worker in enumerate(self._workers):
            self._stopped_workers.add(index)
            if worker.poll() is None:
                _terminate(worker, 10)

    def partial(self) -> LoadResult:
        started = self._started_at if self._started_at is not None else time.time()
        return self._result(started, time.time(), True)

    def _result(self, started_at: float, ended_at: float, interrupted: bool) -> LoadResult:
        return LoadResult(
            started_at=started_at,
            ended_at=ended_at,
            intervals=tuple(self.intervals),
            errors=tuple(self._errors),
            stages=self.stages,
            interrupted=interrupted,
            worker_exits=tuple(self._exits),
            late_reports=self._late_reports,
            workers=self.workers,
        )


def _terminate(process: subprocess.Popen[Any], timeout: float) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1, for the master to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        if line.startswith("{"):
            lines.put(line)
    lines.put(None)


def _interval(record: dict[str, Any]) -> Interval:
    names = tuple(
        NameInterval(name=k, requests=int(v["n"]), failures=int(v["f"]), histogram=v["h"],
                     corrected=v.get("c"))
        for k, v in sorted(record["names"].items())
    )
    generators = tuple(
        GeneratorSample(
            generator=str(g["generator"]),
            cpu_percent=float(g.get("cpu", 0.0)),
            loop_lag_p99_ms=float(g.get("lag_p99", 0.0)),
            loop_lag_max_ms=float(g.get("lag_max", 0.0)),
            loop_lag_p50_ms=float(g.get("lag_p50", 0.0)),
            users=int(g.get("users", 0)),
            intended=float(g.get("intended", 0.0)),
            sent=int(g.get("sent", 0)),
            rss_mb=float(g.get("rss", 0.0)),
            gc_pause_max_ms=float(g.get("gc_max", 0.0)),
            gc_pause_ms=float(g.get("gc_ms", 0.0)),
            nice=int(g.get("nice", 0)),
            cpu_wait_percent=(float(g["cpu_wait"]) if g.get("cpu_wait") is not None else None),
            realtime=bool(g.get("realtime", False)),
            responses=int(g.get("responses", 0)),
            kernel_timed=int(g.get("stamped", 0)),
        )
        for g in record.get("generators", ())
    )
    return Interval(
        start=float(record["start"]),
        end=float(record["end"]),
        users=int(record["users"]),
        names=names,
        generators=generators,
    )
