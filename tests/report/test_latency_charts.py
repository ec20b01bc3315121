"""The percentile distribution (HdrHistogram's plot) and the per-endpoint p95 chart."""

from __future__ import annotations

import math
from dataclasses import replace

import plotly.graph_objects as go

from harness.load.latency import new_histogram, record_all
from harness.report.charts import build_charts, cpu_request_millicores
from harness.report.distribution import EndpointPoint, percentile_curve
from harness.report.latency_charts import percentile_x


def _with_curves(result):
    fast = percentile_curve(record_all(new_histogram(), list(range(1000, 21000, 10))))
    slow = percentile_curve(record_all(new_histogram(), list(range(5000, 105000, 50))))
    series = {"GET /a": [EndpointPoint(t, 10.0 + t / 100, 50) for t in (10.0, 20.0, 30.0)]}
    return replace(result, latency_curves={"all requests": fast, "write": slow},
                   endpoint_p95=series)


def test_percentile_curve_follows_hdrhistograms_ticks():
    curve = percentile_curve(record_all(new_histogram(), list(range(1000, 101000))))
    percentiles = [p for p, _ in curve]
    assert percentiles[0] == 0.0 and percentiles[-1] == 100.0
    assert percentiles[5] == 50.0  # five ticks per halving of the distance to 100 %
    assert any(abs(p - 99.9) < 0.05 for p in percentiles)
    values = [v for _, v in curve]
    assert values == sorted(values) and 100.9 < values[-1] < 101.1  # the maximum, 3 digits


def test_distribution_chart_is_drawn_on_hdrhistograms_axis(result_factory):
    charts = {c.id: c for c in build_charts(_with_curves(result_factory("passed")))}
    chart = charts["chart-latency-distribution"]
    go.Figure(data=chart.data, layout=chart.layout)  # plotly accepts it
    assert chart.layout["xaxis"]["type"] == "log"
    assert [t["name"] for t in chart.data] == ["all requests", "write"]
    assert chart.layout["xaxis"]["ticktext"][:3] == ["0 %", "90 %", "99 %"]
    assert round(percentile_x(99.0), 6) == 100.0 and percentile_x(100.0) is None
    assert all(math.isfinite(x) for x in chart.data[0]["x"])


def test_endpoint_p95_chart_shares_the_time_axis(result_factory):
    charts = {c.id: c for c in build_charts(_with_curves(result_factory("passed")))}
    chart = charts["chart-endpoint-p95"]
    assert chart.data[0]["name"] == "GET /a" and chart.data[0]["y"] == [10.1, 10.2, 10.3]
    assert chart.layout["xaxis"]["range"] == charts["chart-latency"].layout["xaxis"]["range"]
    assert chart.layout["legend"]["yanchor"] == "top"  # under the plot, off the stage names


def test_cpu_in_percent_of_the_request_with_a_core_in_the_tooltip(result_factory):
    result = result_factory("passed")
    chart = {c.id: c for c in build_charts(result)}["chart-replica-cpu"]
    millicores = cpu_request_millicores(result)
    assert millicores == 500.0  # the bundled Deployment's request
    first = chart.data[0]
    assert first["y"][0] == round(first["customdata"][0] * 2, 3)
    assert "% of request" in first["hovertemplate"] and "% of a core" in first["hovertemplate"]
    assert chart.layout["yaxis"]["title"]["text"] == "CPU (% of request)"
