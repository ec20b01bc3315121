import dataclasses
import json

from harness.calibrate.probe import Calibration, ProbeRun
from harness.calibrate.rates import CpuTarget, StageRate
from harness.report.calibration import calibration_section
from harness.report.render import render_html
from harness.report.results import load_results
from harness.report.summary import render_summary
from tests.report.factory import make_result

CALIBRATION = Calibration(
    cpu_per_request=0.0013,
    target=CpuTarget(target_percent=70, request_cores=0.5, min_replicas=2, max_replicas=10),
    probe=ProbeRun(rate=430.0, warmup=4.0, seconds=11.0, requests=4700.0, failures=0,
                   replicas=2, cpu_seconds=6.1),
    sizing=ProbeRun(rate=40.0, warmup=3.0, seconds=5.0, requests=200.0, failures=0,
                    replicas=2, cpu_seconds=0.3),
    stages=(StageRate(0, "surge", 1.45, 2, 780.769, 1.45),
            StageRate(1, "after", None, 3, None, None)),
)


def test_summary_and_report_show_the_calibration_and_results_json_keeps_it(tmp_path):
    result = dataclasses.replace(make_result("passed"), calibration=CALIBRATION)
    summary = render_summary(result)
    assert "## Calibration" in summary
    assert "CPU per request 1.300 ms" in summary and "430 req/s" in summary
    assert "| surge | 1.45 | 2 | 781 req/s | 1.45 x target |" in summary
    assert "Calibration" in render_html(result)
    path = tmp_path / "results.json"
    path.write_text(result.to_json())
    assert json.loads(path.read_text())["calibration"]["cpu_ms_per_request"] == 1.3
    assert load_results(path).calibration == CALIBRATION
    assert calibration_section(None) == {}
