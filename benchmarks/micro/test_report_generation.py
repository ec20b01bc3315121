"""The report stage: write_report for a ten-minute run with three replicas."""

from __future__ import annotations

from pathlib import Path

from harness.report.render import write_report
from tests.report.factory import make_result


def test_write_report(benchmark, tmp_path: Path) -> None:
    result = make_result("failed", duration=600, step=2, replicas=3, replica_step=2)
    files = benchmark.pedantic(write_report, args=(result, tmp_path), rounds=5, iterations=1)
    assert files.report_html.stat().st_size > 1_000_000  # plotly.js is inlined
    assert files.junit_xml.read_text(encoding="utf-8").count("<testcase") == len(result.checks)
