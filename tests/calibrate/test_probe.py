import pytest

from harness.calibrate.probe import PROBE_LEVEL, Calibration, calibrate
from harness.calibrate.rates import CpuTarget
from harness.collect.scrape import MetricSample, Scrape
from harness.config.model import Stage
from harness.errors import StackError

TARGET = CpuTarget(target_percent=70, request_cores=0.5, min_replicas=2, max_replicas=10)
IDLE = 0.004  # cores a replica burns with no load


class FakeStack:
    """Two replicas whose CPU is IDLE + cost x requests/s; scraped once a second."""

    def __init__(self, cost, replicas=2):
        self.cost = cost
        self.replicas = replicas
        self.clock = 1000.0
        self.cpu = [0.0] * replicas
        self.requests = [0.0] * replicas
        self.scrapes = []
        self.probes = []

    def _tick(self, rate):
        self.clock += 1.0
        for i in range(self.replicas):
            self.requests[i] += rate / self.replicas
            self.cpu[i] += IDLE + self.cost(rate) * rate / self.replicas
            labels = (("method", "GET"), ("route", "/api/tickets"), ("status", "200"))
            self.scrapes.append(Scrape(self.clock, f"r{i}", True, (
                MetricSample("process_cpu_seconds_total", (), self.cpu[i]),
                MetricSample("servicedesk_http_requests_total", labels, self.requests[i]))))

    def run_probe(self, rate, warmup, seconds):
        self.probes.append(rate)
        for _ in range(int(warmup)):
            self._tick(rate)
        start = self.clock
        for _ in range(int(seconds)):
            self._tick(rate)
        return start, self.clock, 0


def test_the_second_probe_runs_near_the_target_and_sizes_the_stages():
    stack = FakeStack(lambda rate: 0.0012)
    stages = [Stage(duration=60, utilization_of_target=0.5),
              Stage(duration=200, utilization_of_target=1.45), Stage(duration=30, users=10)]
    calibration = calibrate(stages, replicas=2, target=TARGET, run_probe=stack.run_probe,
                            scrapes=lambda: stack.scrapes)
    # idle burn included: 1.2 ms + 2 x 0.004 / rate
    rough = 0.0012 + 2 * IDLE / 40
    assert stack.probes[0] == 40.0
    assert stack.probes[1] == pytest.approx(PROBE_LEVEL * 0.35 * 2 / rough, rel=1e-3)
    assert calibration.cpu_per_request == pytest.approx(0.0012 + 2 * IDLE / stack.probes[1])
    assert (calibration.probe.replicas, calibration.probe.seconds) == (2, 12.0)
    rates = calibration.rates
    assert set(rates) == {0, 1}
    assert rates[1] == pytest.approx(1.45 * 0.35 * 2 / calibration.cpu_per_request, rel=1e-4)
    assert [s.replicas for s in calibration.stages] == [2, 2, 3]
    again = Calibration.from_dict(calibration.to_dict())
    assert again == calibration


def test_the_probe_stays_at_the_lowest_multiple_the_scenario_asks_for():
    stack = FakeStack(lambda rate: 0.001)
    calibrate([Stage(duration=10, utilization_of_target=0.3)], replicas=2, target=TARGET,
              run_probe=stack.run_probe, scrapes=lambda: stack.scrapes)
    assert stack.probes[1] < 0.35 * 2 * 0.3 / 0.001


def test_a_probe_the_replicas_did_not_answer_is_a_stack_error():
    stack = FakeStack(lambda rate: 0.001)
    with pytest.raises(StackError, match="only 0 of 2 replicas"):
        calibrate([Stage(duration=10, utilization_of_target=1.0)], replicas=2, target=TARGET,
                  run_probe=stack.run_probe, scrapes=lambda: [])


def test_a_probe_that_missed_its_level_is_followed_by_one_sized_from_it():
    # CPU per request falls as the rate rises (idle burn and batching): the light probe's
    # estimate is too high, its probe runs below the level, a third one gets there.
    stack = FakeStack(lambda rate: 0.0008 + 0.03 / max(rate, 1.0))
    calibration = calibrate([Stage(duration=60, utilization_of_target=1.45)], replicas=2,
                            target=TARGET, run_probe=stack.run_probe,
                            scrapes=lambda: stack.scrapes)
    assert calibration.probes == 3 and len(stack.probes) == 3
    assert stack.probes[2] > stack.probes[1]
    assert abs(calibration.probe_level - PROBE_LEVEL) <= 0.15 * PROBE_LEVEL
    assert Calibration.from_dict(calibration.to_dict()) == calibration
