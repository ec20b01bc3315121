"""Latency beyond the timeline: the percentile distribution and each endpoint's p95 over time.

The distribution is drawn as HdrHistogram's plotter draws it: x = 1 / (1 − percentile) on a log
axis, so 90 %, 99 %, 99.9 % sit one decade apart and the tail is as wide as the body.
"""

from __future__ import annotations

import math
from typing import Any

from harness.report.charts import COLORS, REPLICA_PALETTE, Chart, _finish, _finite, _scatter
from harness.report.formatting import format_number
from harness.report.results import RunResult

__all__ = ["PERCENTILE_TICKS", "distribution_chart", "endpoint_chart", "percentile_x"]

PERCENTILE_TICKS = (0.0, 90.0, 99.0, 99.9, 99.99, 99.999, 99.9999)


def percentile_x(percentile: float) -> float | None:
    """1 / (1 − percentile); None at 100 % (the maximum lies at infinity on this axis)."""
    if percentile >= 100.0:
        return None
    return 1.0 / (1.0 - percentile / 100.0)


def _tick_label(percentile: float) -> str:
    return f"{percentile:g} %"


def distribution_chart(result: RunResult) -> Chart:
    traces: list[dict[str, Any]] = []
    top_x = 1.0
    for index, (name, curve) in enumerate(result.latency_curves.items()):
        xs, ys, labels = [], [], []
        for percentile, ms in curve:
            x = percentile_x(percentile)
            if x is None:
                continue
            xs.append(round(x, 6))
            ys.append(_finite(ms))
            labels.append(f"{percentile:.4f}".rstrip("0").rstrip("."))
        top_x = max([top_x, *xs])
        overall = index == 0
        traces.append(_scatter(
            x=xs, y=ys, customdata=labels, name=name, mode="lines",
            line={"color": COLORS["rps"] if overall else
                  REPLICA_PALETTE[(index - 1) % len(REPLICA_PALETTE)],
                  "width": 2.5 if overall else 1.5, "shape": "hv"},
            hovertemplate=f"{name}: p%{{customdata}} %{{y:,.2f}} ms<extra></extra>",
        ))
    ticks = [p for p in PERCENTILE_TICKS if (percentile_x(p) or math.inf) <= top_x * 1.01]
    layout = {
        "height": 340,
        "margin": {"l": 64, "r": 24, "t": 44, "b": 48},
        "hovermode": "closest",
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.04,
                   "yanchor": "bottom"},
        "xaxis": {"type": "log", "title": {"text": "percentile", "standoff": 8},
                  "tickvals": [percentile_x(p) for p in ticks],
                  "ticktext": [_tick_label(p) for p in ticks],
                  "range": [0, math.log10(max(top_x, 10.0)) * 1.02], "gridcolor": COLORS["grid"],
                  "ticks": "outside", "ticklen": 6, "tickcolor": "rgba(0,0,0,0)",
                  "zeroline": False},
        "yaxis": {"title": {"text": "latency (ms)"}, "rangemode": "tozero",
                  "gridcolor": COLORS["grid"], "zeroline": False},
    }
    limits = [c for c in result.checks if c.id in ("slo.latency.p95", "slo.latency.p99")
              and c.threshold is not None]
    caption = ("Latency at each percentile over the steady state, overall and per endpoint group, "
               "from the merged HdrHistograms (from the intended send time where requests were "
               "paced); x = 1 / (1 − percentile), as HdrHistogram's plotter draws it.")
    if limits:
        caption += " SLO: " + ", ".join(
            f"{c.id.rsplit('.', 1)[-1]} ≤ {format_number(c.threshold, 'ms')}" for c in limits) + "."
    return Chart("chart-latency-distribution", "Latency distribution", caption, traces,
                 _finish(layout))


def endpoint_chart(result: RunResult, layout: dict[str, Any]) -> Chart:
    """Each request name's p95 per slice of the run, on the shared time axis (`layout`)."""
    traces = []
    for index, (name, points) in enumerate(sorted(result.endpoint_p95.items())):
        traces.append(_scatter(
            x=[p.t for p in points], y=[_finite(p.p95_ms) for p in points],
            customdata=[p.requests for p in points], name=name, mode="lines",
            line={"color": REPLICA_PALETTE[index % len(REPLICA_PALETTE)], "width": 1.5},
            hovertemplate=f"{name} p95 %{{y:,.1f}} ms (%{{customdata}} requests)<extra></extra>",
        ))
    # many long request names: the legend goes under the axis, where it cannot meet the stage
    # names above the plot
    layout = {**layout, "height": 420, "margin": {**layout["margin"], "b": 130}}
    layout["legend"] = {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.2,
                        "yanchor": "top", "font": {"size": 11}}
    return Chart("chart-endpoint-p95", "p95 per endpoint",
                 "Client-side p95 of each request name over time (a slice's merged histogram), "
                 "so one slow endpoint shows apart from the rest.", traces, _finish(layout))
