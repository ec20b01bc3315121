"""SIGTERM on a real ``python -m servicedesk serve`` process: the drain (readiness fails first,
requests still served, requests in flight finished, exit 0) and GRACEFUL_SHUTDOWN=false."""

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.app.test_sd_server import ADMIN_TOKEN, base_env, free_port, wait_ready

DRAIN_SECONDS = 2.0
DELAY_SECONDS = 3.5  # ARTIFICIAL_DELAY_MS: the slow request outlives the drain
# Generous for a loaded 2-core machine; a replica that waits for nothing exits well within it.
EXIT_BUDGET_SECONDS = 8.0


@pytest.fixture
def start_replica(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(**settings: str) -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = {**base_env(tmp_path), "PORT": str(port), **settings}
        log_path = tmp_path / f"replica-{port}.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "servicedesk", "serve"],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/api/health/ready", proc, log_path)
        return proc, url

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_sigterm_drains_then_finishes_requests_in_flight_and_exits_0(start_replica) -> None:  # noqa: ANN001
    proc, url = start_replica(
        SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS), ARTIFICIAL_DELAY_MS=str(DELAY_SECONDS * 1000)
    )
    slow: dict[str, object] = {}

    def slow_request() -> None:
        try:
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            response = httpx.get(f"{url}/api/users/me", headers=headers, timeout=20)
            slow["status"] = response.status_code
        except httpx.HTTPError as exc:
            slow["error"] = repr(exc)

    # A keep-alive client connected before SIGTERM, as a load balancer's pool would be.
    with httpx.Client(base_url=url, timeout=5) as client:
        assert client.get("/api/health/live").status_code == 200
        thread = threading.Thread(target=slow_request)
        thread.start()
        assert _until(lambda: _in_flight(url) >= 2, timeout=10), "the slow request never arrived"
        proc.send_signal(signal.SIGTERM)

        # Python runs the handler when the event loop next wakes (every 0.1 s); bounded for load.
        assert _until(lambda: client.get("/api/health/ready").status_code == 503)
        ready = client.get("/api/health/ready")
        assert (ready.status_code, ready.json()["status"]) == (503, "draining")
        # Still serving during the drain, and telling keep-alive clients to go elsewhere.
        live = client.get("/api/health/live")
        assert live.status_code == 200
        assert live.headers["connection"] == "close"
        # The listener is still open: a new connection is served too.
        assert httpx.get(f"{url}/api/health/live", timeout=5).status_code == 200
        assert proc.poll() is None
        assert thread.is_alive()  # still in flight: its end is after the drain

        thread.join(timeout=20)
    assert slow == {"status": 200}
    assert proc.wait(timeout=DRAIN_SECONDS + EXIT_BUDGET_SECONDS) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/health/live", timeout=2)


def test_requests_queued_when_the_drain_ends_are_answered_not_reset(start_replica) -> None:  # noqa: ANN001
    # A request that holds the replica's event loop for 2 s (the app's CPU burn runs on it);
    # SIGTERM meanwhile, so the drain ends while the loop is still busy; and requests on new
    # connections, which the kernel queues as the replica cannot accept them. A proxy that
    # sent them has no answer it may retry for a POST: each must be answered, not reset.
    proc, url = start_replica(SHUTDOWN_DRAIN_SECONDS="0.5", ARTIFICIAL_CPU_MS="2000")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    results: list[object] = []

    def get(path: str) -> None:
        try:
            results.append(httpx.get(f"{url}{path}", headers=headers, timeout=20).status_code)
        except httpx.HTTPError as exc:
            results.append(repr(exc))

    blocker = threading.Thread(target=get, args=("/api/users/me",))
    blocker.start()
    time.sleep(0.4)  # the burn has begun
    proc.send_signal(signal.SIGTERM)  # handled between the burn's bytecodes: the drain starts
    time.sleep(0.3)
    queued = [threading.Thread(target=get, args=("/api/health/live",)) for _ in range(8)]
    for thread in queued:
        thread.start()
    for thread in [blocker, *queued]:
        thread.join(timeout=30)
    assert results == [200] * 9
    assert proc.wait(timeout=EXIT_BUDGET_SECONDS) == 0


def _in_flight(url: str) -> float:
    """Requests being handled, this scrape included."""
    for line in httpx.get(f"{url}/api/metrics", timeout=5).text.splitlines():
        if line.startswith("servicedesk_http_requests_in_flight "):
            return float(line.split()[1])
    raise AssertionError("no servicedesk_http_requests_in_flight")


def _until(condition: Callable[[], bool], timeout: float = DRAIN_SECONDS - 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_without_graceful_shutdown_sigterm_stops_at_once(start_replica) -> None:  # noqa: ANN001
    proc, url = start_replica(GRACEFUL_SHUTDOWN="false", SHUTDOWN_DRAIN_SECONDS="30")
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=EXIT_BUDGET_SECONDS) == 0
    # No 30 s drain: it stopped as soon as uvicorn's own shutdown allowed.
    assert time.monotonic() - signalled < EXIT_BUDGET_SECONDS
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/api/health/live", timeout=2)
