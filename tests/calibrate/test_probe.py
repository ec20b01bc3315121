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


def test_the_probe_runs_at_the_highest_multiple_and_the_line_sizes_the_stages():
    stack = FakeStack(lambda rate: 0.0012)
    stages = [Stage(duration=60, utilization_of_target=0.5),
              Stage(duration=200, utilization_of_target=1.45), Stage(duration=30, users=10)]
    calibration = calibrate(stages, replicas=2, target=TARGET, run_probe=stack.run_probe,
                            scrapes=lambda: stack.scrapes)
    # the light probe's CPU per request has the idle burn in it: 1.2 ms + 2 x 0.004 / 40
    rough = 0.0012 + 2 * IDLE / 40
    assert stack.probes[0] == 40.0
    assert stack.probes[1] == pytest.approx(1.45 * 0.35 * 2 / rough, rel=1e-3)
    # two probes on a straight line give it exactly: idle per replica and the margin
    assert calibration.idle_cores == pytest.approx(IDLE, rel=1e-6)
    assert calibration.cpu_per_request == pytest.approx(0.0012, rel=1e-6)
    assert (calibration.probe.replicas, calibration.probe.seconds) == (2, 12.0)
    rates = calibration.rates
    assert set(rates) == {0, 1}
    for index, multiple in ((0, 0.5), (1, 1.45)):
        assert rates[index] == pytest.approx(2 * (multiple * 0.35 - IDLE) / 0.0012, rel=1e-4)
    assert [s.replicas for s in calibration.stages] == [2, 2, 3]
    assert [s.expected_ratio for s in calibration.stages[:2]] == pytest.approx([0.5, 1.45])
    again = Calibration.from_dict(calibration.to_dict())
    assert again == calibration


def test_a_scenario_without_multiples_probes_at_the_default_level():
    stack = FakeStack(lambda rate: 0.001)
    calibration = calibrate([Stage(duration=10, rate=100)], replicas=2, target=TARGET,
                            run_probe=stack.run_probe, scrapes=lambda: stack.scrapes)
    assert calibration.probe_level == pytest.approx(PROBE_LEVEL, rel=0.1)


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


def test_where_cpu_per_request_falls_with_the_rate_the_stage_gets_the_multiple_it_asked_for():
    # CPU per request falls as the rate rises (batching): sized from a probe at 0.8 x the
    # target, a 1.45 x stage ran at 1.15-1.23 x. Probes aimed at 1.45 x and the line through
    # them land the stage within 3 % of what it asked for.
    def cost(rate):
        return 0.0008 + 0.03 / max(rate, 1.0) + 0.0004 * 200 / (200 + rate)

    stack = FakeStack(cost)
    calibration = calibrate([Stage(duration=60, utilization_of_target=1.45)], replicas=2,
                            target=TARGET, run_probe=stack.run_probe,
                            scrapes=lambda: stack.scrapes)
    assert 3 <= calibration.probes <= 4 and len(stack.probes) == calibration.probes
    assert stack.probes[2] > stack.probes[1]
    rate = calibration.rates[0]
    actual = (IDLE + cost(rate) * rate / 2) / 0.35  # what the stage's rate really gives
    assert actual == pytest.approx(1.45, rel=0.03)  # the old sizing: 1.32
    assert Calibration.from_dict(calibration.to_dict()) == calibration


def test_the_line_is_forced_through_zero_when_noise_makes_the_idle_burn_negative():
    from harness.calibrate.probe import ProbeRun, cpu_line
    low = ProbeRun(40, 3, 10, 400, 0, 2, 0.7)  # 20 req/s a replica, 0.035 core
    high = ProbeRun(400, 4, 10, 4000, 0, 2, 8.8)  # 200 req/s, 0.44 core: intercept < 0
    idle, cpu = cpu_line([low, high])
    assert idle == 0.0
    assert cpu == pytest.approx((20 * 0.035 + 200 * 0.44) / (20**2 + 200**2))
    with pytest.raises(StackError, match="did not rise with the load"):
        cpu_line([ProbeRun(40, 3, 10, 400, 0, 2, 0.0)])
