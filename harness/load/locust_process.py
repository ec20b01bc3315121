"""The load generator process: Locust with exact HdrHistogram recording.

Runs in its own process so that Locust's gevent monkey-patching stays out of the harness:

  python -m harness.load.locust_process PLAN.json
      one local generator (plan "workers": 0), or a Locust master (plan "workers": N) that waits
      for N workers, runs the stages and merges what the workers record;
  python -m harness.load.locust_process worker --master-host H --master-port P LOCUSTFILE...
      a worker: runs users, records them, and reports to the master when asked. The same
      command runs workers on other machines (loadtests/k8s/).

Only the local process or the master writes to stdout, one JSON line per interval:

  {"type": "interval", "start": s, "end": s, "users": n, "cpu": %,
   "names": {name: {"n", "f", "h", "c"?}}, "generators": [{"generator", "cpu", "lag_p99", ...}]}

where `h` is the encoded HdrHistogram (µs) of that interval, merged exactly over every
generator, and `c` the coordinated-omission-corrected one (arrival-rate stages). At the end one
{"type": "errors", ...} line and {"type": "done", "interrupted": bool, "late_reports": n}; a
{"type": "fatal", "message": ...} line when it cannot run at all.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.load.priority import GENERATOR_NICE, prioritise

__all__ = ["LoadPlan", "main"]

# A master waits this long, within an interval, for every worker's report before it writes the
# interval line; a later report goes into the next line (counts are never lost, only shifted).
REPORT_WAIT = 1.0


@dataclass(frozen=True)
class LoadPlan:
    locustfiles: tuple[str, ...]
    host: str
    stages: tuple[dict[str, Any], ...]
    interval: float
    stop_timeout: float
    workers: int = 0
    master_host: str = "127.0.0.1"
    master_port: int = 5557
    worker_wait: float = 60.0
    nice: int = 0  # the generators' scheduling priority (harness.load.priority)
    realtime: bool = False  # whether the processes that send load ask to run realtime

    @classmethod
    def read(cls, path: Path) -> LoadPlan:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            locustfiles=tuple(data["locustfiles"]),
            host=data["host"],
            stages=tuple(data["stages"]),
            interval=float(data["interval"]),
            stop_timeout=float(data.get("stop_timeout", 5.0)),
            workers=int(data.get("workers", 0)),
            master_host=str(data.get("master_host", "127.0.0.1")),
            master_port=int(data.get("master_port", 5557)),
            worker_wait=float(data.get("worker_wait", 60.0)),
            nice=int(data.get("nice", 0)),
            realtime=bool(data.get("realtime", False)),
        )


def _prioritise(nice: int, realtime: bool) -> None:
    """Before anything starts a thread (threads inherit it); the log says when it could not,
    and every interval reports the priority the generator actually had."""
    why_not = prioritise(nice, realtime=realtime)
    if why_not:
        sys.stderr.write(f"load generator not prioritised as asked: {why_not}\n")


def _emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _user_classes(locustfiles: tuple[str, ...] | list[str]) -> dict[str, Any]:
    from locust.util.load_locustfile import load_locustfile

    classes: dict[str, Any] = {}
    for path in locustfiles:
        found, _shapes = load_locustfile(path)
        classes.update(found)
    return classes


def _shape(stages: Any) -> Any:
    from locust import LoadTestShape

    from harness.load.shapes import target_at

    class StagesShape(LoadTestShape):
        def tick(self) -> tuple[int, float] | None:
            return target_at(stages, self.get_run_time())

    return StagesShape()


class _Run:
    """What the local process and the master share: interval lines, errors, stopping once."""

    def __init__(self, plan: LoadPlan, runner: Any) -> None:
        from harness.load.recorder import interval_record, merge_errors

        self.plan = plan
        self.runner = runner
        self.started = time.monotonic()
        self.last = 0.0
        self.errors: dict[tuple[str, str], int] = {}
        self.interrupted = False
        self.quitting = False
        self.stopped_at: float | None = None  # seconds since the start, when the load stopped
        self.planned_end = max((float(s["end"]) for s in plan.stages), default=0.0)
        self._record = interval_record
        self._merge_errors = merge_errors
        runner.environment.events.test_stopping.add_listener(lambda **_: self.stopping())

    def stopping(self) -> None:
        if self.stopped_at is None:
            self.stopped_at = time.monotonic() - self.started

    def stop_at_planned_end(self, stop: Any) -> Any:
        """Stop the load at the planned end itself: Locust's shape stops it at its next
        once-a-second tick, up to a second late, which a window's request rate would count."""
        import gevent

        def at_the_end() -> None:
            # gevent's timers count from the loop's cached clock, stale by the startup time
            # before the hub first runs: wait on the real clock.
            while (left := self.started + self.planned_end - time.monotonic()) > 0:
                gevent.sleep(left)
            stop()

        return gevent.spawn(at_the_end)

    def flush_due(self) -> bool:
        """Whether a regular interval line is due now. None in the last half interval before
        the planned end, nor once the load stops: the final line then spans until the stop, so
        that it lies inside the last stage's window with what was answered or failed at the
        stop (requests still in flight then are failures of the run, not of a later window)."""
        now = time.monotonic() - self.started
        return self.stopped_at is None and now < self.planned_end - self.plan.interval / 2

    def emit_interval(self, reports: list[dict[str, Any]], final: bool = False) -> None:
        now = time.monotonic() - self.started
        if final and self.stopped_at is not None:
            # Locust's stop comes a little after the planned end (loop lag); nothing was sent
            # in between, so the load ended at the planned end unless it was interrupted.
            end = self.stopped_at if self.interrupted else min(self.stopped_at, self.planned_end)
            now = max(self.last, end)
        for report in reports:
            self._merge_errors(self.errors, report.get("errors", ()))
        _emit(self._record(self.last, now, self.runner.user_count, reports))
        self.last = now

    def finish(self, late_reports: int = 0) -> None:
        _emit(
            {
                "type": "errors",
                "errors": [
                    {"name": k, "error": e, "occurrences": n} for (k, e), n in self.errors.items()
                ],
            }
        )
        _emit({"type": "done", "interrupted": self.interrupted, "late_reports": late_reports})


def _local(plan: LoadPlan, user_classes: dict[str, Any], stages: Any) -> int:
    import gevent
    from locust.env import Environment

    from harness.load.generator import Generator
    from harness.load.pacing import Pacer
    from harness.load.shapes import rate_spans

    env = Environment(user_classes=list(user_classes.values()), shape_class=_shape(stages),
                      host=plan.host, stop_timeout=plan.stop_timeout)
    runner = env.create_local_runner()
    generator = Generator(name="local", pacer=Pacer(rate_spans(stages)),
                          planned=sum(s.duration for s in stages))
    generator.install(env.events, user_classes.values(), lambda: runner.user_count)
    env.events.test_start.add_listener(lambda **_: generator.start())
    run = _Run(plan, runner)

    def quit_once() -> None:
        if not run.quitting:
            run.quitting = True
            runner.quit()

    def stop(*_: Any) -> None:
        run.interrupted = True
        gevent.spawn(quit_once)

    # The shape returning None stops the test; then the runner itself must quit.
    env.events.test_stop.add_listener(lambda **_: gevent.spawn(quit_once))
    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)

    def flusher() -> None:
        while True:
            gevent.sleep(plan.interval)
            if run.flush_due():
                run.emit_interval([generator.report()])

    run.started = time.monotonic()
    runner.start_shape()
    ending = run.stop_at_planned_end(runner.stop)
    flushing = gevent.spawn(flusher)
    runner.greenlet.join()
    flushing.kill()
    ending.kill()
    generator.stop()
    run.emit_interval([generator.report()], final=True)
    run.finish()
    return 0


def _master(plan: LoadPlan, user_classes: dict[str, Any], stages: Any) -> int:
    import gevent
    from locust.env import Environment
    from locust.rpc import Message

    env = Environment(user_classes=list(user_classes.values()), shape_class=_shape(stages),
                      host=plan.host, stop_timeout=plan.stop_timeout)
    runner = env.create_master_runner(plan.master_host, plan.master_port)
    run = _Run(plan, runner)
    pending: list[dict[str, Any]] = []
    replied: dict[int, set[str]] = {}
    finals: set[str] = set()
    workers: set[str] = set()
    late = 0

    def on_report(environment: Any = None, msg: Any = None, **_: Any) -> None:
        data = msg.data
        workers.add(msg.node_id)
        pending.append(data)
        replied.setdefault(int(data.get("seq", -1)), set()).add(msg.node_id)
        if data.get("final"):
            finals.add(msg.node_id)

    runner.register_message("harness_report", on_report)

    deadline = time.monotonic() + plan.worker_wait
    while len(runner.clients.ready) < plan.workers:
        if time.monotonic() > deadline:
            _emit({"type": "fatal", "message": (
                f"only {len(runner.clients.ready)} of {plan.workers} load workers connected to "
                f"{plan.master_host}:{plan.master_port} within {plan.worker_wait:g} s")})
            runner.quit()
            return 3
        gevent.sleep(0.1)
    count = len(runner.clients.ready)
    for node in list(runner.clients.ready):
        index = runner.get_worker_index(node.id)
        workers.add(node.id)
        runner.send_message(
            "harness_plan",
            {"stages": list(plan.stages), "share": 1.0 / count, "phase": index / count,
             "name": f"worker-{index}"},
            client_id=node.id,
        )

    def connected() -> set[str]:
        return {n.id for n in runner.clients.all if n.state != "missing"}

    def flusher() -> None:
        seq = 0
        while True:
            gevent.sleep(plan.interval)
            if not run.flush_due():
                continue
            seq += 1
            runner.send_message("harness_flush", {"seq": seq})
            waiting = connected()
            until = time.monotonic() + min(REPORT_WAIT, plan.interval / 2)
            while time.monotonic() < until and not waiting <= replied.get(seq, set()):
                gevent.sleep(0.01)
            for done in [k for k in replied if k <= seq]:  # late replies: already counted
                replied.pop(done)
            reports = pending[:]
            del pending[:]
            run.emit_interval(reports)

    flushing: list[gevent.Greenlet] = []

    def wind_up() -> None:
        # Every worker sends a final report when it stops; wait for them, then quit them all.
        until = time.monotonic() + plan.stop_timeout + 5
        while time.monotonic() < until and not workers <= finals:
            gevent.sleep(0.05)
        for greenlet in flushing:
            greenlet.kill()
        for node_id in workers:
            runner.server.send_to_client(Message("quit", None, node_id))
        if not run.quitting:
            run.quitting = True
            runner.quit()

    def stop(*_: Any) -> None:
        run.interrupted = True
        gevent.spawn(runner.stop)  # stops the workers; test_stop then winds up

    env.events.test_stop.add_listener(lambda **_: gevent.spawn(wind_up))
    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)

    run.started = time.monotonic()
    runner.start_shape()
    flushing.append(run.stop_at_planned_end(runner.stop))
    flushing.append(gevent.spawn(flusher))
    runner.greenlet.join()
    for greenlet in flushing:
        greenlet.kill()
    late = len(workers - finals)
    reports = pending[:]
    del pending[:]
    run.emit_interval(reports, final=True)
    run.finish(late_reports=late)
    return 0


def _worker(argv: list[str]) -> int:
    import argparse

    import gevent
    from locust.env import Environment

    from harness.load.generator import Generator
    from harness.load.pacing import Pacer, RateSpan
    from harness.load.shapes import StagePlan, rate_spans

    parser = argparse.ArgumentParser(prog="locust_process worker")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--nice", type=int, default=GENERATOR_NICE)
    parser.add_argument("--realtime", action="store_true")
    parser.add_argument("locustfiles", nargs="+")
    args = parser.parse_args(argv)
    _prioritise(args.nice, args.realtime)

    user_classes = _user_classes(args.locustfiles)
    if not user_classes:
        sys.stderr.write(f"no User classes found in {', '.join(args.locustfiles)}\n")
        return 2
    env = Environment(user_classes=list(user_classes.values()))
    runner = env.create_worker_runner(args.master_host, args.master_port)
    generator = Generator(name="worker", pacer=Pacer(()))
    generator.install(env.events, user_classes.values(), lambda: runner.user_count, pace=True)

    def on_plan(environment: Any = None, msg: Any = None, **_: Any) -> None:
        data = msg.data
        spans: tuple[RateSpan, ...] = rate_spans(tuple(StagePlan(**s) for s in data["stages"]))
        generator.pacer = Pacer(spans, share=float(data["share"]), phase=float(data["phase"]))
        generator.planned = max((float(s["end"]) for s in data["stages"]), default=0.0)
        generator.name = str(data["name"])

    def on_flush(environment: Any = None, msg: Any = None, **_: Any) -> None:
        runner.send_message("harness_report", {**generator.report(), "seq": msg.data["seq"]})

    runner.register_message("harness_plan", on_plan)
    runner.register_message("harness_flush", on_flush)
    env.events.test_start.add_listener(lambda **_: generator.start())
    env.events.test_stop.add_listener(
        lambda **_: runner.send_message("harness_report", {**generator.report(), "final": True})
    )
    gevent.signal_handler(signal.SIGTERM, lambda *_: gevent.spawn(runner.quit))
    gevent.signal_handler(signal.SIGINT, lambda *_: gevent.spawn(runner.quit))
    runner.greenlet.join()
    generator.stop()
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "worker":
        return _worker(argv[1:])
    plan = LoadPlan.read(Path(argv[0]))
    # A master sends no load: its workers are the ones that run realtime.
    _prioritise(plan.nice, plan.realtime and plan.workers == 0)

    from harness.load.shapes import StagePlan

    user_classes = _user_classes(plan.locustfiles)
    if not user_classes:
        sys.stderr.write(f"no User classes found in {', '.join(plan.locustfiles)}\n")
        return 2
    stages = tuple(StagePlan(**s) for s in plan.stages)
    if plan.workers > 0:
        return _master(plan, user_classes, stages)
    return _local(plan, user_classes, stages)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
