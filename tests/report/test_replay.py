"""The what-if table in report.html and summary.md: only for a run that scaled and recorded
its per-replica samples."""

from __future__ import annotations

from dataclasses import replace

from harness.report.render import render_html
from harness.report.replay import replay_table
from harness.report.summary import render_summary
from tests.plan.test_replay import make_trace
from tests.report.factory import make_result


def scaled_run():
    scaling = make_trace([1400.0] * 8).section(origin=0.0)
    return replace(make_result("passed", duration=120.0), extra={"scaling": scaling})


def test_a_run_that_scaled_gets_the_replay_at_five_targets() -> None:
    table = replay_table(scaled_run())
    assert table is not None
    assert [row[0] for row in table.rows] == ["50 %", "60 %", "70 % (the run's)", "80 %", "90 %"]
    assert [row[1] for row in table.rows] == ["6", "5", "4", "4", "4"]
    assert "cannot predict latency" in table.caption
    summary = render_summary(scaled_run())
    assert "### What-if: other CPU targets" in summary
    assert "| 50 % | 6 |" in summary
    html = render_html(scaled_run())
    assert 'id="replay-caption"' in html and "70 % (the run&#39;s)" in html


def test_no_table_without_a_scale_or_without_samples() -> None:
    quiet = make_trace([300.0] * 4).section(origin=0.0)  # 30 %: stays at 2, never scales
    assert replay_table(replace(make_result("passed"), extra={"scaling": quiet})) is None
    assert replay_table(make_result("passed")) is None  # an older trace: decisions only
    assert replay_table(make_result("passed", extra=False)) is None
    assert "What-if" not in render_summary(make_result("passed"))
