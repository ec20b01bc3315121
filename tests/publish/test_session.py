"""The pipeline's publisher: the progress callback still runs, each interval becomes a snapshot
stamped on the load generator's clock, close sends the run's end and reports failures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.config.model import RunOptions, Scenario, SloSpec
from harness.load.latency import encode, new_histogram, record_all
from harness.load.records import Interval, NameInterval, StagePlan
from harness.publish.remote_write import RemoteWrite
from harness.publish.series import RunLabels, RunSeries
from harness.publish.session import RunPublisher

STAGES = (StagePlan(0, "hold", 0.0, 10.0, 5, True),)


class Recording:
    def __init__(self) -> None:
        self.sent: list[Sequence[dict]] = []

    def send(self, metrics: Sequence[dict]) -> None:
        self.sent.append(metrics)


def _interval(end: float) -> Interval:
    encoded = encode(record_all(new_histogram(), [2_000]))
    return Interval(end - 1.0, end, 5, (NameInterval("GET /x", 1, 0, encoded),))


def _names(batch: Sequence[dict]) -> set[str]:
    return {item["metric"]["__name__"] for item in batch}


def test_without_remote_write_or_grafana_nothing_is_wrapped() -> None:
    options = RunOptions(report_dir=Path("/tmp"), run_id="r1")
    scenario = Scenario(name="s", description="d", stages=({"duration": 10, "users": 5},))
    publisher = RunPublisher.for_run(options, scenario, SloSpec(), STAGES, environ={})
    def progress(interval: Interval, cpu: float) -> None:
        pass

    assert not publisher.active
    assert publisher.wrap(progress) is progress
    assert publisher.close(ended_at=2.0) == []


def test_intervals_become_snapshots_and_close_sends_the_end() -> None:
    sender = Recording()
    clock = iter([1000.0, 1001.0, 1002.0])
    series = RunSeries(RunLabels("r1", "s", "embedded"), buckets=(0.001, 0.01), stages=STAGES)
    publisher = RunPublisher(series, remote=RemoteWrite("http://127.0.0.1:9/w", sender=sender),
                             replicas=lambda: 3, clock=lambda: next(clock))
    seen: list[float] = []
    publisher.start()
    callback = publisher.wrap(lambda interval, cpu: seen.append(interval.end))
    callback(_interval(1.0), 10.0)
    callback(_interval(2.0), 10.0)
    assert publisher.close(ended_at=1003.5) == []
    assert seen == [1.0, 2.0]
    assert [b[0]["timestamps"][0] for b in sender.sent] == [1_000_000, 1_001_000, 1_003_500]
    assert "harness_run_end_time_seconds" not in _names(sender.sent[1])
    assert "harness_run_end_time_seconds" in _names(sender.sent[2])
    counts = [i["values"][0] for i in sender.sent[2]
              if i["metric"]["__name__"] == "harness_request_duration_seconds_count"]
    assert counts == [2.0]


def test_with_grafana_credentials_the_run_is_annotated_when_it_ends() -> None:
    from harness.faults.records import FaultEvent, Outcome
    from tests.provision.fakes import FakeGrafana

    grafana = FakeGrafana(token="glsa_session_token")
    try:
        options = RunOptions(report_dir=Path("/tmp"), run_id="r7", tags={"env": "staging"})
        scenario = Scenario(name="s", description="d", stages=({"duration": 10, "users": 5},))
        clock = iter([500.0])
        publisher = RunPublisher.for_run(
            options, scenario, SloSpec(), STAGES,
            environ={"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": "glsa_session_token"},
            clock=lambda: next(clock))
        assert publisher.active and publisher.remote is None
        publisher.wrap(lambda interval, cpu: None)(_interval(1.0), 10.0)
        kill = FaultEvent("kill-1", "kill-replica", 3.0, Outcome.INJECTED, 502.0, 502.0)
        assert publisher.close(ended_at=510.0, fault_events=(kill,)) == []
        texts = [a["text"] for a in grafana.annotations]
        assert texts == ["Load test r7 (s on embedded, env=staging)", "Stage 1 hold: 5 users",
                         "Fault kill-1 (kill-replica)"]
        assert grafana.annotations[0]["time"] == 499_000  # the load's start: 500 s - 1 s
        assert grafana.annotations[0]["timeEnd"] == 510_000
    finally:
        grafana.stop()
