"""What the load benchmark drives and measures: nginx and the Python targets, the harness's load
process, bare `locust --headless`, and wrk, each measured the same way.

A measurement window opens after a warm-up: the requests the *server* answered (nginx's
stub_status, or the target's own count) and the CPU seconds of the generator's processes (psutil,
every process of the tool) are read at both ends, so "RPS per generator core" is requests
answered per CPU second the generator burned, whatever the tool reports about itself.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness.load.priority import GENERATOR_NICE
from harness.load.records import LoadResult
from harness.load.runner import LoadRunner
from harness.load.shapes import StagePlan

__all__ = [
    "Measured",
    "Nginx",
    "PythonTarget",
    "bare_locust",
    "harness_load",
    "k6",
    "k6_script",
    "k6_summary",
    "locustfile",
    "scratch",
    "wrk",
]

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path {dir}/tmp;
  proxy_temp_path {dir}/tmp;
  fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp;
  scgi_temp_path {dir}/tmp;
  server {{
    listen 127.0.0.1:{port};
    root {dir}/www;
    location = /stub {{ stub_status; }}
  }}
}}
"""

LOCUSTFILE = """
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Bench(FastHttpUser):
    wait_time = constant({wait})

    @task
    def get(self):
        self.client.get("{path}")
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def locustfile(folder: Path, path: str, wait: float = 0.0) -> Path:
    """The one user every tool runs: GET `path` in a loop (FastHttpUser)."""
    target = folder / f"bench_{abs(hash((path, wait)))}.py"
    target.write_text(LOCUSTFILE.format(path=path, wait=wait), encoding="utf-8")
    return target


class Nginx:
    """nginx serving one small static file on 127.0.0.1, one worker process."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        (self.dir / "www").mkdir()
        (self.dir / "tmp").mkdir()
        self.dir.chmod(0o755)
        (self.dir / "www").chmod(0o755)
        (self.dir / "www" / "index.html").write_text("<html><body>ok</body></html>\n")
        conf = self.dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.dir, port=self.port))
        self.process = subprocess.Popen([binary, "-c", str(conf), "-p", str(self.dir), "-e",
                                         str(self.dir / "error.log")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                self.served()
                return self
            time.sleep(0.1)
        raise RuntimeError(f"nginx did not start; see {self.dir / 'error.log'}")

    def served(self) -> int:
        """Requests nginx has answered so far (stub_status)."""
        with urllib.request.urlopen(f"{self.url}/stub", timeout=5) as response:  # noqa: S310
            text = response.read().decode()
        return int(text.splitlines()[2].split()[2])

    def pids(self) -> set[int]:
        if self.process is None:
            return set()
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(self.process.pid)
            return {parent.pid, *(c.pid for c in parent.children(recursive=True))}
        return set()

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


class PythonTarget:
    """benchmarks.targets in its own process (fixed delays, stalls)."""

    def __init__(self, stall_every: float = 0.0, stall_for: float = 1.0) -> None:
        self.args = ["--stall-every", str(stall_every), "--stall-for", str(stall_for)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> PythonTarget:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.targets", "--port", "0", "--lifetime", "3600",
             *self.args], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None  # noqa: S101 - PIPE
        line = self.process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"target did not start: {line!r}")
        self.url = f"http://127.0.0.1:{line.split()[1]}"
        return self

    def stats(self) -> dict[str, object]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as response:  # noqa: S310
            return dict(json.loads(response.read()))

    def served(self) -> int:
        served: dict[str, int] = self.stats()["served"]  # type: ignore[assignment]
        return sum(served.values())

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Measured:
    """One tool's run: the window's server-side RPS and the generator's CPU over it."""

    tool: str
    requests: int = 0  # answered by the server within the window
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def rps_per_core(self) -> float:
        return self.requests / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def cores(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def _cpu(pids: Sequence[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


def _window(measured: Measured, pids: Callable[[], list[int]], served: Callable[[], int],
            warmup: float, seconds: float) -> None:
    """Once the server answers requests, wait `warmup`, then read the server's count and the
    generator's CPU, and again `seconds` later."""
    before, deadline = served(), time.monotonic() + 120
    while served() - before < 50 and time.monotonic() < deadline:
        time.sleep(0.2)  # the tool is still starting (a master waits for its workers)
    time.sleep(warmup)
    chosen = pids()
    requests0, cpu0, t0 = served(), _cpu(chosen), time.monotonic()
    time.sleep(seconds)
    requests1, cpu1, t1 = served(), _cpu(chosen), time.monotonic()
    measured.requests, measured.cpu_seconds, measured.seconds = (
        requests1 - requests0, cpu1 - cpu0, t1 - t0)
    measured.extra["processes"] = len(chosen)


def _descendants(match: str) -> list[int]:
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            if match in " ".join(child.cmdline()):
                found.append(child.pid)
    return found


# Bare Locust, wrk and k6 run at the nice value the harness's generators ask for (coreutils'
# nice; without the privilege it warns and runs them at the default).
SAME_PRIORITY = ("nice", "-n", str(GENERATOR_NICE))


def harness_load(*, url: str, locust_file: Path, stages: Sequence[StagePlan], workers: int,
                 work_dir: Path, served: Callable[[], int] | None = None, warmup: float = 0.0,
                 seconds: float = 0.0, realtime: bool = False,
                 ) -> tuple[Measured, LoadResult]:
    """The harness's own load process(es), as `harness run` starts them (`realtime`: as with
    `--generator-realtime`, realtime where it fits)."""
    measured = Measured("harness" if not workers else f"harness, {workers} workers")
    # Realtime off, as `harness run` by default: where tools are compared, each runs at the same
    # priority (nice -10, SAME_PRIORITY), so the rows compare the tools and not their scheduling.
    runner = LoadRunner(stages=stages, locustfiles=[locust_file], host=url, work_dir=work_dir,
                        workers=workers, realtime=realtime)
    results: list[LoadResult] = []
    thread = threading.Thread(target=lambda: results.append(runner.run()), daemon=True)
    thread.start()
    if served is not None:
        _window(measured, lambda: _descendants("harness.load.locust_process"), served,
                warmup, seconds)
    thread.join(timeout=sum(s.duration for s in stages) + 180)
    if not results:
        runner.stop()
        raise RuntimeError(f"the harness load run did not finish; see {work_dir}")
    return measured, results[0]


def bare_locust(*, url: str, locust_file: Path, users: int, duration: float, work_dir: Path,
                served: Callable[[], int] | None = None, warmup: float = 0.0,
                seconds: float = 0.0) -> Measured:
    """`locust --headless` with the same locustfile; percentiles from its own CSV (rounded)."""
    measured = Measured("bare Locust")
    work_dir.mkdir(parents=True, exist_ok=True)
    prefix = work_dir / "locust"
    locust = Path(sys.executable).with_name("locust")
    with open(work_dir / "locust.log", "wb") as log:
        process = subprocess.Popen(
            [*SAME_PRIORITY, str(locust), "--headless", "-f", str(locust_file), "--host", url,
             "-u", str(users), "-r", str(users), "-t", f"{int(duration)}s", "--csv", str(prefix),
             "--only-summary",
             "--loglevel", "WARNING", "--stop-timeout", "2"],
            stdout=log, stderr=subprocess.STDOUT)
        if served is not None:
            _window(measured, lambda: [process.pid], served, warmup, seconds)
        process.wait(timeout=duration + 120)
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                measured.p50_ms = float(row["50%"])
                measured.p99_ms = float(row["99%"])
                measured.extra["requests_total"] = int(row["Request Count"])
    return measured


_WRK_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def wrk(*, url: str, connections: int, duration: float, served: Callable[[], int] | None = None,
        warmup: float = 0.0, seconds: float = 0.0) -> Measured:
    """wrk (one thread, so one core at most) with its latency distribution."""
    measured = Measured("wrk")
    process = subprocess.Popen(
        [*SAME_PRIORITY, shutil.which("wrk") or "/usr/bin/wrk", "-t1", f"-c{connections}",
         f"-d{int(duration)}s", "--latency", url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if served is not None:
        _window(measured, lambda: [process.pid], served, warmup, seconds)
    out, _ = process.communicate(timeout=duration + 60)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    for quantile, value, unit in _WRK_PERCENTILE.findall(out):
        setattr(measured, f"p{quantile}_ms", float(value) * scale[unit])
    measured.extra["output"] = out
    return measured


K6_SCRIPT = """
import http from 'k6/http';
export const options = {{
  discardResponseBodies: true,
  summaryTrendStats: ['p(50)', 'p(99)', 'max', 'count'],
  scenarios: {{ load: {scenario} }},
}};
export default function () {{ http.get(__ENV.TARGET); }}
export function handleSummary(data) {{ return {{ [__ENV.SUMMARY]: JSON.stringify(data) }}; }}
"""


def k6_script(*, duration: float, vus: int | None = None, rate: float | None = None) -> str:
    """A k6 script: `vus` closed-model users, or `rate` requests/s (constant arrival rate,
    k6's open model) with enough VUs for a second of requests in flight."""
    seconds = f"'{int(duration)}s'"
    if rate is not None:
        scenario = (f"{{ executor: 'constant-arrival-rate', rate: {int(rate)}, timeUnit: '1s', "
                    f"duration: {seconds}, preAllocatedVUs: {max(int(rate), 10)}, "
                    f"maxVUs: {max(int(rate) * 2, 20)} }}")
    else:
        scenario = f"{{ executor: 'constant-vus', vus: {vus or 1}, duration: {seconds} }}"
    return K6_SCRIPT.format(scenario=scenario)


def k6_summary(summary: dict[str, object]) -> tuple[float | None, float | None, int]:
    """(p50 ms, p99 ms, requests) of http_req_duration in k6's end-of-test summary."""
    metrics = summary.get("metrics")
    trend = metrics.get("http_req_duration") if isinstance(metrics, dict) else None
    values = trend.get("values") if isinstance(trend, dict) else None
    if not isinstance(values, dict):
        return None, None, 0
    p50, p99 = values.get("p(50)"), values.get("p(99)")
    return (None if p50 is None else float(p50), None if p99 is None else float(p99),
            int(values.get("count", 0)))


def k6(*, url: str, duration: float, work_dir: Path, vus: int | None = None,
       rate: float | None = None, served: Callable[[], int] | None = None,
       warmup: float = 0.0, seconds: float = 0.0) -> Measured:
    """k6 (the binary the `k6` Python package ships) on the same target."""
    measured = Measured("k6")
    work_dir.mkdir(parents=True, exist_ok=True)
    script, summary = work_dir / "k6.js", work_dir / "k6-summary.json"
    script.write_text(k6_script(duration=duration, vus=vus, rate=rate), encoding="utf-8")
    binary = shutil.which("k6") or str(Path(sys.executable).with_name("k6"))
    with open(work_dir / "k6.log", "wb") as log:
        process = subprocess.Popen(
            [*SAME_PRIORITY, binary, "run", "--quiet", "--no-usage-report",
             "-e", f"TARGET={url}", "-e", f"SUMMARY={summary}", str(script)],
            stdout=log, stderr=subprocess.STDOUT)
        if served is not None:
            _window(measured, lambda: [process.pid], served, warmup, seconds)
        process.wait(timeout=duration + 120)
    measured.p50_ms, measured.p99_ms, total = k6_summary(json.loads(summary.read_text()))
    measured.extra["requests_total"] = total
    return measured


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
