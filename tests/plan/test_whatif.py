"""harness.plan.whatif: the what-if table a run carries into report.html, summary.md and
results.json; only for a run that scaled and recorded its per-replica samples."""

from __future__ import annotations

from dataclasses import replace

from harness.plan.whatif import replay_table
from harness.report.render import render_html
from harness.report.results import load_results
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
    carried = replace(scaled_run(), replay=table)
    summary = render_summary(carried)
    assert "### What-if: other CPU targets" in summary
    assert "| 50 % | 6 |" in summary
    html = render_html(carried)
    assert 'id="replay-caption"' in html and "70 % (the run&#39;s)" in html


def test_the_table_goes_through_results_json_and_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = replay_table(scaled_run())
    path = tmp_path / "results.json"
    path.write_text(replace(scaled_run(), replay=table).to_json(), encoding="utf-8")
    assert load_results(path).replay == table


def test_no_table_without_a_scale_or_without_samples() -> None:
    quiet = make_trace([300.0] * 4).section(origin=0.0)  # 30 %: stays at 2, never scales
    assert replay_table(replace(make_result("passed"), extra={"scaling": quiet})) is None
    assert replay_table(make_result("passed")) is None  # an older trace: decisions only
    assert replay_table(make_result("passed", extra=False)) is None
    assert "What-if" not in render_summary(make_result("passed"))
