"""`harness run --target URL` against targets that misbehave (issue 14): 500s, hangs, connection
resets, a body dripped out slowly, a wrong Content-Length, a readiness probe that flaps or never
passes. Each run ends in bounded time with the documented exit status and says why.

Every target is a small server on 127.0.0.1 started here. The runs are 5 s of load with 3 users
and go in parallel (about 25 s together on an idle 2-core machine; see the slowest-durations
list), through the real command in a subprocess, as a user would start them.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# A run of 5 s ends within this, even on a loaded machine: Locust's start, the stop, the report.
BOUND_SECONDS = 150.0
SCENARIO = """\
name: hostile
description: a few users against a misbehaving target
locustfile: hostile_locustfile.py
stages:
  - {duration: 5s, users: 3, spawn_rate: 3, steady: true}
"""
# Every user visits every path in turn, so each misbehaviour is met in a 5 s run.
LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Visitor(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def every_path(self):
        for path in ("/ok", "/error", "/reset", "/short", "/drip"):
            self.client.get(path, name=path)
"""
BODY = b'{"items": [{"id": 1}], "id": 1}'
DRIP_SECONDS = 2.0


class Target(BaseHTTPRequestHandler):
    """Each path misbehaves its own way (see LOCUSTFILE); `behaviour` sets the whole target's
    mood: "mixed" (the readiness probe flaps, /api/metrics fails), "hang" (nothing but the probe
    answers) or "never-ready"."""

    protocol_version = "HTTP/1.1"
    behaviour = "mixed"
    probes = 0  # readiness probes answered so far (for the flapping one)
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = self.path.split("?")[0]
        if path == "/api/health/ready":
            self._ready()
        elif path == "/api/metrics":
            self._send(500, b"metrics broke", "text/plain")
        elif self.behaviour == "hang":
            time.sleep(3600)  # a daemon thread; the server is shut down after the test
        elif path == "/error":
            self._send(500, b'{"error": "internal"}')
        elif path == "/reset":
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/short":  # Content-Length promises more than comes
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY) + 500))
            self.end_headers()
            self.wfile.write(BODY)
            self.wfile.flush()
            self.close_connection = True
        elif path == "/drip":  # the body a byte at a time
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            for index in range(len(BODY)):
                self.wfile.write(BODY[index:index + 1])
                self.wfile.flush()
                time.sleep(DRIP_SECONDS / len(BODY))
        else:
            self._send(200, BODY)

    def _ready(self) -> None:
        with self.lock:
            type(self).probes += 1
            count = type(self).probes
        if self.behaviour == "never-ready" or (self.behaviour == "mixed" and count % 2 == 1):
            self._send(503, b'{"ready": false}')
        else:
            self._send(200, b'{"ready": true}')

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass(frozen=True)
class Outcome:
    code: int
    seconds: float
    out: str
    err: str
    results: dict[str, Any] | None

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in (self.results or {}).get("checks", [])}

    @property
    def said(self) -> str:
        return self.out + self.err


def _serve(behaviour: str) -> ThreadingHTTPServer:
    handler = type("BehavingTarget", (Target,),
                   {"behaviour": behaviour, "probes": 0, "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _run(behaviour: str, work: Path) -> Outcome:
    server = _serve(behaviour)
    try:
        scenario = work / "hostile.yaml"
        scenario.write_text(SCENARIO)
        (work / "hostile_locustfile.py").write_text(LOCUSTFILE)
        env = {**os.environ, "PYTHONPATH": str(REPO), "HARNESS_DEBUG": ""}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "harness", "run", "--target",
             f"http://127.0.0.1:{server.server_address[1]}", "--scenario", str(scenario),
             "--duration", "5s", "--no-progress", "--report-dir", str(work / "reports"),
             "--run-id", behaviour],
            capture_output=True, text=True, timeout=BOUND_SECONDS + 30, env=env, cwd=REPO,
        )
        seconds = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    results_file = work / "reports" / behaviour / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else None
    return Outcome(done.returncode, seconds, done.stdout, done.stderr, results)


BEHAVIOURS = ("mixed", "hang", "never-ready")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    folders = {b: tmp_path_factory.mktemp(f"hostile-{b}") for b in BEHAVIOURS}
    with ThreadPoolExecutor(max_workers=len(BEHAVIOURS)) as pool:
        futures = {b: pool.submit(_run, b, folders[b]) for b in BEHAVIOURS}
        yield {b: f.result() for b, f in futures.items()}


def _ended_cleanly(outcome: Outcome, status: int) -> None:
    assert outcome.code == status, (outcome.code, outcome.err[-2000:], outcome.out[-2000:])
    assert outcome.seconds < BOUND_SECONDS, outcome.seconds
    assert "internal error" not in outcome.err and "Traceback" not in outcome.err, outcome.err


def _errors(outcome: Outcome, name: str) -> str:
    assert outcome.results is not None
    return " ".join(row["error"] for row in outcome.results["errors"]
                    if row["name"] == name).lower()


def test_every_misbehaviour_fails_the_run_and_is_named(outcomes):
    """The flapping readiness probe was retried, so the run went on; then each path failed its
    own way and the report names how."""
    outcome = outcomes["mixed"]
    _ended_cleanly(outcome, 1)
    assert outcome.results is not None
    per = outcome.results["per_request"]  # named by method and path
    assert per["GET /ok"]["requests"] > 0 and per["GET /ok"]["failures"] == 0
    assert per["GET /error"]["failures"] == per["GET /error"]["requests"] > 0
    assert "500" in _errors(outcome, "GET /error")
    assert per["GET /reset"]["failures"] == per["GET /reset"]["requests"] > 0
    assert any(word in _errors(outcome, "GET /reset") for word in ("reset", "closed"))
    assert per["GET /short"]["failures"] == per["GET /short"]["requests"] > 0
    assert "incomplete" in _errors(outcome, "GET /short")
    assert per["GET /drip"]["latency"]["p50_ms"] >= DRIP_SECONDS * 1000 * 0.9, per["GET /drip"]
    checks = outcome.checks
    assert checks["slo.error-rate"]["verdict"] == "fail"
    assert "slo.error-rate" in outcome.out
    # the target's /api/metrics answered 500 throughout: a failed check, not silence
    assert checks["collect.metrics-reachable"]["verdict"] == "fail"
    assert "500" in checks["collect.metrics-reachable"]["evidence"]


def test_a_target_that_hangs_ends_in_bounded_time_and_fails(outcomes):
    outcome = outcomes["hang"]
    _ended_cleanly(outcome, 1)
    failed = [cid for cid, c in outcome.checks.items() if c["verdict"] == "fail"]
    assert failed, outcome.checks  # nothing answered: never a pass
    assert any(cid in outcome.out for cid in failed)


def test_a_target_never_ready_is_a_stack_failure_that_says_so(outcomes):
    outcome = outcomes["never-ready"]
    _ended_cleanly(outcome, 3)
    assert "not reachable" in outcome.err and "503" in outcome.err, outcome.err
