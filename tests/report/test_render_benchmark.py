"""How long write_report takes for a long run: one hour at 2 s intervals, 10 replicas.

A benchmark, not a timed test (speed goals live in benchmarks/): it records the time and asserts
only on the output.
Measured here (2 cores): about 0.7 s per report.
"""

from __future__ import annotations

from pathlib import Path

from harness.report.render import write_report
from tests.report.factory import make_result


def test_write_report_for_an_hour_long_run(benchmark, tmp_path: Path):
    result = make_result("failed", duration=3600, step=2, replicas=10, replica_step=2)
    assert (len(result.timeline), len(result.replicas)) == (1800, 18_010)
    files = benchmark.pedantic(write_report, args=(result, tmp_path), rounds=3, iterations=1)
    html = files.report_html.read_text(encoding="utf-8")
    # six over time, the distribution, scaling, connections, pools
    assert html.count('class="chart"') == 10
    assert html.count("replica-9") >= 2  # in the CPU and the memory chart
