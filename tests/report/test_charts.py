"""The time charts: which are drawn, shared axis, stage bands, SLO lines, replica colours."""

from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go
import pytest

from harness.report.charts import (
    COLORS,
    build_charts,
    figure_json,
    missing_charts,
    replica_colors,
)


def _ids(result) -> list[str]:
    return [c.id for c in build_charts(result)]


def test_full_run_has_seven_charts_in_reading_order(result_factory):
    assert _ids(result_factory("passed")) == [
        "chart-throughput",
        "chart-latency",
        "chart-errors",
        "chart-endpoint-p95",
        "chart-replica-cpu",
        "chart-replica-rss",
        "chart-latency-distribution",
    ]
    assert missing_charts(result_factory("passed")) == []


def test_empty_run_has_no_charts_and_says_why(result_factory):
    result = result_factory("empty")
    assert _ids(result) == []
    assert len(missing_charts(result)) == 2


def test_every_chart_shares_the_time_axis_and_shades_the_stages(result_factory):
    result = result_factory("passed")
    for chart in build_charts(result):
        layout = figure_json(chart)["layout"]
        if layout["xaxis"].get("type") == "log":  # the distribution: percentiles, not time
            continue
        assert layout["xaxis"]["range"] == [0, 300.0]
        assert layout["xaxis"]["title"]["text"] == "time since the load started"
        assert layout["xaxis"]["ticksuffix"] == " s"
        bands = [s for s in layout["shapes"] if s["type"] == "rect"]
        assert [(b["x0"], b["x1"]) for b in bands] == [(0.0, 60.0), (60.0, 240.0), (240.0, 300.0)]
        assert bands[1]["fillcolor"] == COLORS["steady"]
        labels = [a["text"] for a in layout["annotations"]]
        assert labels[:3] == ["ramp-up", "peak · steady", "ramp-down"]


def test_throughput_chart_has_rps_and_users_on_two_axes(result_factory):
    result = result_factory("passed")
    data = figure_json(build_charts(result)[0])["data"]
    assert [t["name"] for t in data] == ["requests/s", "users"]
    assert data[1]["yaxis"] == "y2"
    assert len(data[0]["x"]) == len(result.timeline) == 150
    assert data[0]["line"]["color"] == COLORS["rps"]


def test_latency_chart_has_percentiles_and_slo_lines(result_factory):
    chart = build_charts(result_factory("failed"))[1]
    spec = figure_json(chart)
    assert [t["name"] for t in spec["data"]] == ["p50", "p95", "p99"]
    assert [t["line"]["color"] for t in spec["data"]] == [
        COLORS["p50"],
        COLORS["p95"],
        COLORS["p99"],
    ]
    slo = [s for s in spec["layout"]["shapes"] if s.get("yref") == "y"]
    assert sorted((s["y0"], s["line"]["color"]) for s in slo) == [
        (300.0, COLORS["p99"]),
        (500.0, COLORS["p95"]),
    ]
    # the y axis leaves room above the highest threshold or point
    top = max(max(t["y"]) for t in spec["data"])
    assert spec["layout"]["yaxis"]["range"][1] > max(top, 500.0)


def test_error_chart_draws_the_error_budget(result_factory):
    spec = figure_json(build_charts(result_factory("failed"))[2])
    slo = [s for s in spec["layout"]["shapes"] if s.get("yref") == "y"]
    assert [s["y0"] for s in slo] == [1.0]
    assert "SLO error rate 1 %" in {a["text"] for a in spec["layout"]["annotations"]}


def test_replicas_keep_their_colour_across_charts(result_factory):
    result = result_factory("passed", replicas=4)
    colors = replica_colors(result.replicas)
    assert list(colors) == ["replica-0", "replica-1", "replica-2", "replica-3"]
    assert len(set(colors.values())) == 4
    charts = {c.id: c for c in build_charts(result)}
    cpu, rss = (figure_json(charts[i])["data"] for i in ("chart-replica-cpu", "chart-replica-rss"))
    assert [(t["name"], t["line"]["color"]) for t in cpu] == list(colors.items())
    assert [(t["name"], t["line"]["color"]) for t in rss] == list(colors.items())


def test_interrupted_run_marks_where_it_stopped(result_factory):
    result = result_factory("interrupted")
    layout = figure_json(build_charts(result)[0])["layout"]
    stop = result.timeline[-1].t
    assert layout["xaxis"]["range"][1] > stop  # room to show the part that did not run
    assert layout["xaxis"]["range"][1] < result.stages[-1].end
    marks = [s for s in layout["shapes"] if s.get("x0") == stop and s["type"] == "line"]
    assert len(marks) == 1
    assert any("interrupted" in a["text"] for a in layout["annotations"])


def test_non_finite_values_become_gaps(result_factory):
    result = result_factory("passed")
    point = result.timeline[3].__class__(**{**result.timeline[3].__dict__, "p99_ms": float("nan")})
    timeline = result.timeline[:3] + (point,) + result.timeline[4:]
    result = result.__class__(**{**result.__dict__, "timeline": timeline})
    p99 = figure_json(build_charts(result)[1])["data"][2]["y"]
    assert p99[3] is None


def test_every_chart_passes_plotlys_validators(any_result):
    """Traces are built as plain JSON for speed; plotly's own validators must still accept them."""
    for chart in build_charts(any_result):
        spec = figure_json(chart)
        go.Figure(data=spec["data"], layout=spec["layout"])  # raises ValueError on a bad property
        assert all(trace["type"] == "scatter" for trace in spec["data"])


def test_validators_reject_a_bad_trace():
    with pytest.raises(ValueError):
        go.Figure(data=[{"type": "scatter", "x": [1], "colour": "red"}])


def test_far_away_thresholds_stay_above_the_visible_range(result_factory):
    result = result_factory("passed")
    far = replace(result.checks[1], threshold=20_000.0)  # slo.latency.p99
    result = replace(result, checks=(result.checks[0], far, *result.checks[2:]))
    chart = build_charts(result)[1]
    layout = figure_json(chart)["layout"]
    top = layout["yaxis"]["range"][1]
    data_top = max(p.p99_ms for p in result.timeline)
    assert 500.0 < top < 20_000.0 and top >= data_top
    texts = [a["text"] for a in layout["annotations"]]
    assert "SLO p95 500 ms" in texts  # near enough to draw
    # said in the caption, not on the chart, where it sat on the last stage's label
    assert not any("above" in t for t in texts)
    assert "The SLO p99 20,000 ms lies above the visible range" in chart.caption


def test_a_steady_stage_named_steady_is_not_labelled_twice(result_factory):
    result = result_factory("passed")
    stages = (result.stages[0], replace(result.stages[1], name="steady"), result.stages[2])
    layout = figure_json(build_charts(replace(result, stages=stages))[0])["layout"]
    assert [a["text"] for a in layout["annotations"]][:3] == ["ramp-up", "steady", "ramp-down"]


def test_close_thresholds_label_side_by_side(result_factory):
    """p95 250 ms and p99 500 ms under a spike to seconds lie a few pixels apart: their labels
    go side by side, never one on the other."""
    chart = build_charts(result_factory("failed"))[1]
    labels = [a for a in chart.layout["annotations"] if a["text"].startswith("SLO ")]
    assert len(labels) == 2 and labels[0]["x"] != labels[1]["x"]
