"""Grafana annotations for a run: what is annotated, posted to a local stand-in for Grafana's
HTTP API; failures are a notice, never an exception."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from harness.faults.records import FaultEvent, Outcome
from harness.load.records import StagePlan
from harness.provision.credentials import GrafanaCredentials
from harness.publish.annotations import RETRIES, GrafanaAnnotations, run_annotations
from harness.publish.series import RunLabels
from harness.stack import processes
from tests.provision.fakes import FakeGrafana

TOKEN = "glsa_test_token_123"
LABELS = RunLabels("r1", "chaos", "local", {"env": "staging"})
STAGES = (StagePlan(0, "ramp", 0.0, 30.0, 50, False),
          StagePlan(1, "hold", 30.0, 90.0, 150, True),
          StagePlan(2, "paced", 90.0, 120.0, 20, True, rate=40.0))
KILL = FaultEvent("kill-replica-1", "kill-replica", 40.0, Outcome.INJECTED, 1040.0, 1040.0,
                  "replica-2 killed")
SLOW = FaultEvent("slow-db", "slow-database", 60.0, Outcome.INJECTED, 1060.0, 1075.0)
SKIPPED = FaultEvent("stop-redis-1", "stop-redis", 70.0, Outcome.SKIPPED)


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana(token=TOKEN)
    yield server
    server.stop()


def test_run_stages_and_faults_are_annotated() -> None:
    notes = run_annotations(LABELS, started_at=1000.0, ended_at=1120.0, stages=STAGES,
                            fault_events=(KILL, SLOW, SKIPPED))
    bodies = [n.body() for n in notes]
    assert [b["text"] for b in bodies] == [
        "Load test r1 (chaos on local, env=staging)", "Stage 1 ramp: 50 users",
        "Stage 2 hold: 150 users", "Fault kill-replica-1 (kill-replica): replica-2 killed",
        "Fault slow-db (slow-database)", "Stage 3 paced: 40 req/s"]
    run, slow = bodies[0], bodies[4]
    assert (run["time"], run["timeEnd"]) == (1_000_000, 1_120_000)
    assert (slow["time"], slow["timeEnd"]) == (1_060_000, 1_075_000)
    assert "timeEnd" not in bodies[3]  # a kill is an instant
    for body in bodies:
        assert {"harness", "run_id:r1", "scenario:chaos", "env:staging"} <= set(body["tags"])


def test_posted_to_grafana_with_the_token(grafana: FakeGrafana) -> None:
    annotations = GrafanaAnnotations(GrafanaCredentials(grafana.url, TOKEN), LABELS)
    notes = annotations.post_run(started_at=1000.0, ended_at=1120.0, stages=STAGES,
                                 fault_events=(KILL,))
    assert notes == []
    assert len(grafana.annotations) == 5
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in grafana.requests)


def test_a_refused_token_or_a_server_error_is_a_notice(grafana: FakeGrafana) -> None:
    wrong = GrafanaAnnotations(GrafanaCredentials(grafana.url, "wrong"), LABELS)
    [note] = wrong.post_run(started_at=1000.0, ended_at=1120.0, stages=STAGES[:1])
    assert "2 of 2 could not be posted" in note and "refused the token" in note
    assert "wrong" not in note.replace("wrong token", "")
    grafana.fail_with = 500
    right = GrafanaAnnotations(GrafanaCredentials(grafana.url, TOKEN), LABELS)
    [note] = right.post_run(started_at=1000.0, ended_at=1120.0, stages=STAGES[:1])
    assert "HTTP 500" in note and TOKEN not in note


def test_an_unreachable_grafana_is_a_notice() -> None:
    port = processes.free_port()  # nothing listens there
    annotations = GrafanaAnnotations(GrafanaCredentials(f"http://127.0.0.1:{port}", TOKEN),
                                     LABELS, transport=httpx.HTTPTransport(retries=1))
    [note] = annotations.post_run(started_at=1000.0, ended_at=1120.0, stages=())
    assert "1 of 1 could not be posted" in note and "did not answer" in note


def test_a_grafana_that_comes_up_late_gets_them_through_the_retries() -> None:
    """Refused connections are retried (after 0, 0.5, 1, 2 s): a Grafana that starts listening
    0.2 s after the first attempt still gets the annotation (without retries it would not)."""
    port = processes.free_port()
    started: list[FakeGrafana] = []
    timer = threading.Timer(0.2, lambda: started.append(FakeGrafana(token=TOKEN, port=port)))

    class StartsGrafanaOnFirstAttempt(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if not timer.is_alive() and not started:
                timer.start()
            return super().handle_request(request)

    try:
        annotations = GrafanaAnnotations(
            GrafanaCredentials(f"http://127.0.0.1:{port}", TOKEN), LABELS,
            transport=StartsGrafanaOnFirstAttempt(retries=RETRIES))
        assert annotations.post_run(started_at=1000.0, ended_at=1120.0, stages=()) == []
        assert len(started[0].annotations) == 1
    finally:
        if timer.is_alive():
            timer.join()
        for server in started:
            server.stop()
