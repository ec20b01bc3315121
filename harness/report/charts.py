"""The report's time charts as plotly figures: load, latency, errors, replica CPU and memory.

Every chart shares one x axis (seconds since the load started), one set of colours and the stage
bands (steady stages tinted green), so the charts line up when read top to bottom. A chart with no
data is left out rather than drawn empty; `missing_charts` says which and why.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from harness.load.records import StagePlan
from harness.report.formatting import format_number, is_partial
from harness.report.markers import marker_layout, markers, wall_clock
from harness.report.results import ReplicaPoint, RunResult, RunStatus
from harness.verify.check import CheckResult

__all__ = [
    "COLORS",
    "REPLICA_PALETTE",
    "Chart",
    "build_charts",
    "figure_json",
    "missing_charts",
    "replica_colors",
    "themed",
]

COLORS = {
    "rps": "#2563eb",
    "users": "#64748b",
    "p50": "#0d9488",
    "p95": "#d97706",
    "p99": "#dc2626",
    "errors": "#dc2626",
    "stage": "rgba(100, 116, 139, 0.07)",
    "steady": "rgba(22, 163, 74, 0.10)",
    "stage_text": "#64748b",
    "interrupted": "#b45309",
    "grid": "#e2e8f0",
    "text": "#1e293b",
}

# Tableau 10, minus the blue/red/orange already used above would leave too few; replicas get their
# own dashed-free palette and keep the same colour in the CPU and the memory chart.
REPLICA_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

TEMPLATE = "plotly_white"
# room above the highest line or threshold: its label sits above it, and a fault's label hangs
# from the top of the plot; a quarter more keeps the two apart
HEADROOM_ABOVE = 1.25
SLO_HEADROOM = 4.0  # latency SLO lines more than this many times the highest p99 stay off-range
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@dataclass(frozen=True)
class Chart:
    id: str  # the HTML element id, stable: "chart-throughput"
    title: str
    caption: str
    data: list[dict[str, Any]]  # plotly traces, plain JSON
    layout: dict[str, Any]  # plotly layout, plain JSON (the template expanded)


def _scatter(**props: Any) -> dict[str, Any]:
    """A scatter trace as plain JSON. Traces are not run through plotly's validators, which
    cost more than the rest of the report for a long run; tests validate them instead."""
    return {"type": "scatter", **props}


def _finish(layout: dict[str, Any]) -> dict[str, Any]:
    """The layout validated by plotly (the template is added once, by build_charts)."""
    validated = go.Layout(layout).to_plotly_json()
    return json.loads(json.dumps(validated, cls=PlotlyJSONEncoder))


def _template() -> dict[str, Any]:
    """plotly_white, expanded: plotly.js knows templates only as objects, not by name."""
    template = pio.templates[TEMPLATE].to_plotly_json()
    return json.loads(json.dumps(template, cls=PlotlyJSONEncoder))


def themed(charts: list[Chart]) -> list[Chart]:
    """The charts with the template in their layout (expanded once for them all)."""
    if not charts:
        return charts
    template = _template()
    return [replace(c, layout={**c.layout, "template": template}) for c in charts]


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 3)


def _timeline_line(result: RunResult, y: Sequence[float | None], name: str,
                   line: dict[str, Any], hover: str, **props: Any) -> dict[str, Any]:
    """A line over the run's intervals: x is each interval's end, in seconds since the start."""
    return _scatter(x=[p.t for p in result.timeline], y=y, name=name, mode="lines", line=line,
                    hovertemplate=hover, **props)


def _data_end(result: RunResult) -> float:
    return max([p.t for p in result.timeline] + [p.t for p in result.replicas], default=0.0)


def _x_end(result: RunResult) -> float:
    """Where every time axis ends: the planned end, or a little past the stop of a partial run."""
    data_end = _data_end(result)
    planned = result.stages[-1].end if result.stages else 0.0
    if is_partial(result) and data_end:
        return min(planned, data_end * 1.15) if planned > data_end else data_end
    return max(data_end, planned) or 1.0


def _stage_shapes(stages: Sequence[StagePlan], show_labels: bool) -> tuple[list[dict], list[dict]]:
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for stage in stages:
        # one tint per kind, as the legend says: steady green, every other stage grey
        fill = COLORS["steady"] if stage.steady else COLORS["stage"]
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": stage.start,
                "x1": stage.end,
                "y0": 0,
                "y1": 1,
                "fillcolor": fill,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": stage.start,
                "x1": stage.start,
                "y0": 0,
                "y1": 1,
                "line": {"color": "rgba(100, 116, 139, 0.35)", "width": 1, "dash": "dot"},
                "layer": "below",
            }
        )
        if show_labels:
            steady = stage.steady and "steady" not in stage.name.lower()
            label = f"{stage.name} · steady" if steady else stage.name
            annotations.append(
                {
                    "x": stage.start,
                    "xref": "x",
                    "xanchor": "left",
                    "y": 1,
                    "yref": "paper",
                    "yanchor": "bottom",
                    "text": label,
                    "showarrow": False,
                    "font": {
                        "size": 11,
                        "color": "#15803d" if stage.steady else COLORS["stage_text"],
                    },
                }
            )
    return shapes, annotations


def _base_layout(result: RunResult, y_title: str, x_end: float) -> dict[str, Any]:
    shapes, annotations = _stage_shapes(result.stages, show_labels=True)
    stop = _data_end(result)
    if is_partial(result) and stop and stop < x_end:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": stop,
                "x1": x_end,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(148, 163, 184, 0.30)",
                "line": {"width": 0},
                "layer": "above",
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": stop,
                "x1": stop,
                "y0": 0,
                "y1": 1,
                "line": {"color": COLORS["interrupted"], "width": 2, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "x": stop,
                "xref": "x",
                "xanchor": "left",
                "y": 0.5,
                "yref": "paper",
                "yanchor": "middle",
                "text": (
                    " interrupted:<br> not run"
                    if result.status is RunStatus.INTERRUPTED
                    else " stopped on<br> an error"
                ),
                "showarrow": False,
                "font": {"size": 11, "color": COLORS["interrupted"]},
            }
        )
    marks, notes = marker_layout(markers(result))
    shapes += marks
    annotations += notes
    return {
        "height": 320,
        "margin": {"l": 64, "r": 64, "t": 44, "b": 44},
        "font": {"family": _FONT, "size": 12, "color": COLORS["text"]},
        "hovermode": "x unified",
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.08,
            "yanchor": "bottom",
            "font": {"size": 12},
        },
        "xaxis": {
            "title": {"text": "time since the load started", "standoff": 8},
            "range": [0, x_end],
            "ticksuffix": " s",
            # invisible ticks push the labels down, clear of the y axis's "0" at the corner
            "ticks": "outside", "ticklen": 6, "tickcolor": "rgba(0,0,0,0)",
            "gridcolor": COLORS["grid"],
            "zeroline": False,
            "hoverformat": ".0f",
        },
        "yaxis": {
            "title": {"text": y_title},
            "rangemode": "tozero",
            "gridcolor": COLORS["grid"],
            "zeroline": False,
        },
        "shapes": shapes,
        "annotations": annotations,
    }


def _throughput(result: RunResult, x_end: float) -> Chart:
    layout = _base_layout(result, "requests/s", x_end)
    layout["yaxis2"] = {
        "title": {"text": "users"},
        "overlaying": "y",
        "side": "right",
        "rangemode": "tozero",
        "tickmode": "auto",
        "nticks": 5,
        "tickformat": ",d",
        "showgrid": False,
        "zeroline": False,
    }
    traces = [
        _timeline_line(result, [_finite(p.rps) for p in result.timeline], "requests/s",
                       {"color": COLORS["rps"], "width": 2}, "%{y:,.1f} req/s<extra></extra>"),
        _timeline_line(result, [p.users for p in result.timeline], "users",
                       {"color": COLORS["users"], "width": 1.5, "dash": "dot", "shape": "hv"},
                       "%{y} users<extra></extra>", yaxis="y2"),
    ]
    peak = max((p.rps for p in result.timeline), default=0.0)
    return Chart(
        "chart-throughput",
        "Throughput and users",
        f"Requests per second (left axis) and simulated users (right). Peak "
        f"{format_number(peak, 'req/s')}.",
        traces,
        _finish(layout),
    )


def _slo_lines(
    checks: Iterable[CheckResult], prefix: str, unit: str, label: str | None = None
) -> list[tuple[str, float]]:
    """(label, threshold) per distinct threshold of the checks whose id starts with prefix."""
    seen: dict[tuple[str, float], None] = {}
    for check in checks:
        if not check.id.startswith(prefix) or check.unit != unit or check.threshold is None:
            continue
        if math.isfinite(check.threshold):
            name = label or check.id.removeprefix(prefix)
            seen[(name, float(check.threshold))] = None
    # one line per threshold value; the first id naming it labels it
    by_value: dict[float, str] = {}
    for label, value in seen:
        by_value.setdefault(value, label)
    return sorted(((label, value) for value, label in by_value.items()), key=lambda x: x[1])


def _line_color(label: str) -> str:
    for name in ("p99", "p95", "p50"):
        if name in label:
            return COLORS[name]
    return COLORS["text"]


def _y_range(layout: dict[str, Any], top: float) -> None:
    """A fixed y axis from 0 to ``top`` (an SLO line above the data stays in view)."""
    layout["yaxis"]["range"] = [0, top]
    layout["yaxis"]["rangemode"] = "normal"


def _draw_thresholds(layout: dict[str, Any], lines: list[tuple[str, float]], unit: str) -> None:
    """A dashed line and a label per SLO threshold, added to the layout."""
    shapes, annotations = layout["shapes"], layout["annotations"]
    # each label further right than the one below it: two thresholds close on a tall axis
    # (p95 250 ms, p99 500 ms under a 4 s spike) would otherwise print one label on the other
    for index, (label, value) in enumerate(lines):
        color = _line_color(label)
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": value,
                "y1": value,
                "line": {"color": color, "width": 1.5, "dash": "dash"},
            }
        )
        annotations.append(
            {
                "x": 0.005 + 0.16 * index,
                "xref": "paper",
                "xanchor": "left",
                "y": value,
                "yref": "y",
                "yanchor": "bottom",
                "text": f"SLO {label} {format_number(value, unit)}",
                "showarrow": False,
                "font": {"size": 11, "color": color},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )


def _latency(result: RunResult, x_end: float) -> Chart:
    layout = _base_layout(result, "latency (ms)", x_end)
    lines = _slo_lines(result.checks, "slo.latency.", "ms")
    _draw_thresholds(layout, lines, "ms")
    data_top = max((v for p in result.timeline if (v := _finite(p.p99_ms)) is not None), default=0)
    # arrival-rate (open-model) load: p99 from each request's intended send time, too
    corrected = [_finite(p.corrected_p99_ms) for p in result.timeline]
    data_top = max([data_top, *(v for v in corrected if v is not None)])
    # a threshold far above the data would flatten it: leave such lines above the visible range
    # (zooming out shows them) and say so, rather than draw every point near zero
    shown = [v for _, v in lines if not data_top or v <= SLO_HEADROOM * data_top]
    above = [(label, v) for label, v in lines if data_top and v > SLO_HEADROOM * data_top]
    top = max([data_top, *shown])
    _y_range(layout, top * HEADROOM_ABOVE if top > 0 else 1)
    traces = [
        _timeline_line(result, [_finite(getattr(p, attr)) for p in result.timeline], name,
                       {"color": COLORS[name], "width": 2 if name != "p50" else 1.5},
                       f"{name} %{{y:,.1f}} ms<extra></extra>")
        for name, attr in (("p50", "p50_ms"), ("p95", "p95_ms"), ("p99", "p99_ms"))
    ]
    caption = "Client-side latency percentiles per interval (HdrHistogram)."
    if any(v is not None for v in corrected):
        traces.append(_timeline_line(
            result, corrected, "p99 corrected", {"color": COLORS["p99"], "width": 2, "dash": "dot"},
            "p99 from the intended send time %{y:,.1f} ms<extra></extra>"))
        caption += (" Dotted: p99 from each request's intended send time (arrival-rate stages,"
                    " coordinated omission corrected).")
    saturated = [p for p in result.timeline if p.saturated]
    if saturated:
        traces.append(
            _scatter(
                x=[p.t for p in saturated],
                y=[_finite(p.corrected_p99_ms if p.corrected_p99_ms is not None else p.p99_ms)
                   for p in saturated],
                name="generator saturated",
                mode="markers",
                marker={"symbol": "x", "size": 9, "color": "#7c3aed"},
                hovertemplate="load generator saturated: latency untrusted<extra></extra>",
            )
        )
        caption += " Crosses: intervals in which the load generator saturated."
    if lines:
        caption += " Dashed lines: the SLO thresholds of the latency checks."
    if above:  # said here, not on the chart, where it met the last stage's label
        text = ", ".join(f"{label} {format_number(v, 'ms')}" for label, v in above)
        caption += (f" The SLO {text} lies above the visible range (zoom out to see it): the "
                    "latency stayed far below it.")
    return Chart("chart-latency", "Latency percentiles", caption, traces, _finish(layout))


def _errors(result: RunResult, x_end: float) -> Chart:
    layout = _base_layout(result, "errors (%)", x_end)
    lines = _slo_lines(result.checks, "slo.error", "%", label="error rate")
    _draw_thresholds(layout, lines, "%")
    top = max([p.error_percent for p in result.timeline] + [v for _, v in lines], default=0.0)
    _y_range(layout, max(top * HEADROOM_ABOVE, 1.0))
    traces = [_timeline_line(
        result, [_finite(p.error_percent) for p in result.timeline], "errors",
        {"color": COLORS["errors"], "width": 1.5}, "%{y:.2f} % failed<extra></extra>",
        fill="tozeroy", fillcolor="rgba(220, 38, 38, 0.12)")]
    return Chart(
        "chart-errors",
        "Error rate",
        "Share of requests that failed per interval.",
        traces,
        _finish(layout),
    )


def replica_colors(replicas: Iterable[ReplicaPoint]) -> dict[str, str]:
    names = sorted({p.replica for p in replicas})
    return {name: REPLICA_PALETTE[i % len(REPLICA_PALETTE)] for i, name in enumerate(names)}


def _per_replica(
    result: RunResult, x_end: float, attr: str, y_title: str, suffix: str,
    scale: float = 1.0, tooltip: str = "",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One line per replica of `attr` × `scale`; `tooltip` (with %{customdata}, the unscaled
    value) adds the same number in its own unit to the hover text."""
    layout = _base_layout(result, y_title, x_end)
    traces: list[dict[str, Any]] = []
    colors = replica_colors(result.replicas)
    series: dict[str, list[ReplicaPoint]] = {name: [] for name in colors}
    for point in result.replicas:
        series[point.replica].append(point)
    for name, points in series.items():
        points.sort(key=lambda p: p.t)
        raw = [_finite(getattr(p, attr)) for p in points]
        traces.append(
            _scatter(
                x=[p.t for p in points],
                y=[None if v is None else round(v * scale, 3) for v in raw],
                customdata=raw if tooltip else None,
                name=name,
                legendgroup=name,
                mode="lines",
                line={"color": colors[name], "width": 1.5},
                hovertemplate=f"{name} %{{y:,.1f}}{suffix}{tooltip}<extra></extra>",
            )
        )
    return traces, _finish(layout)


def cpu_request_millicores(result: RunResult) -> float | None:
    """The replicas' CPU request: the run's own HPA section when it says, else the bundled
    Deployment's (what the embedded and local autoscalers judge against)."""
    scaling = result.extra.get("scaling")
    if isinstance(scaling, dict):
        recorded = (scaling.get("hpa") or {}).get("cpu_request_millicores")
        if isinstance(recorded, int | float) and recorded > 0:
            return float(recorded)
    from harness.config.k8s import load_scaling

    try:
        millicores = load_scaling().deployment.requests.cpu_millicores
    except Exception:  # a broken stack definition costs the unit, never the report
        return None
    return float(millicores) if millicores else None


def _cpu_chart(result: RunResult, x_end: float) -> Chart:
    count = len({p.replica for p in result.replicas})
    millicores = cpu_request_millicores(result)
    if millicores is None:
        return Chart("chart-replica-cpu", "CPU per replica",
                     f"CPU use of each of the {count} replicas, in % of one core.",
                     *_per_replica(result, x_end, "cpu_percent", "CPU (% of one core)", " %"))
    traces, layout = _per_replica(
        result, x_end, "cpu_percent", "CPU (% of request)", " % of request",
        scale=1000.0 / millicores, tooltip=" (%{customdata:,.1f} % of a core)")
    return Chart(
        "chart-replica-cpu", "CPU per replica",
        f"CPU use of each of the {count} replicas in % of its request "
        f"({format_number(millicores)}m), the unit of the HPA's target; the tooltip gives "
        "% of one core too.",
        traces, layout)


def build_charts(result: RunResult) -> list[Chart]:
    """The charts the data supports, in reading order."""
    from harness.report.latency_charts import distribution_chart, endpoint_chart

    x_end = _x_end(result)
    charts: list[Chart] = []
    if result.timeline:
        charts += [
            _throughput(result, x_end),
            _latency(result, x_end),
            _errors(result, x_end),
        ]
    if result.timeline and result.endpoint_p95:
        charts.append(endpoint_chart(result, _base_layout(result, "p95 latency (ms)", x_end)))
    if result.replicas:
        charts.append(_cpu_chart(result, x_end))
        charts.append(
            Chart(
                "chart-replica-rss",
                "Memory per replica",
                "Resident memory (RSS) of each replica.",
                *_per_replica(result, x_end, "rss_mb", "RSS (MB)", " MB"),
            )
        )
    charts = [with_wall_clock(c, result.load_started_at) for c in charts]
    if result.latency_curves:
        charts.append(distribution_chart(result))
    return themed(charts)


def with_wall_clock(chart: Chart, origin: float | None) -> Chart:
    """The first trace's hover text led by the wall-clock time (UTC) of its point, so a moment
    on the chart can be found in Grafana or the logs."""
    if origin is None or not chart.data:
        return chart
    first = chart.data[0]
    clock = wall_clock(origin, [float(x) for x in first.get("x") or ()])
    if clock is None or first.get("customdata") is not None:
        return chart
    template = str(first.get("hovertemplate", "%{y}"))
    traced = {**first, "customdata": clock,
              "hovertemplate": "%{customdata} UTC · " + template}
    return replace(chart, data=[traced, *chart.data[1:]])


def missing_charts(result: RunResult) -> list[str]:
    """Sentences naming the charts left out for lack of data."""
    missing = []
    if not result.timeline:
        missing.append(
            "No load interval was recorded, so there are no throughput, latency or error charts."
        )
    if not result.replicas:
        missing.append("No replica metrics were scraped, so there are no CPU or memory charts.")
    return missing


def figure_json(chart: Chart) -> dict[str, Any]:
    """The figure as plain JSON data (data + layout), NaN-free, ready for Plotly.newPlot."""
    return {"data": chart.data, "layout": chart.layout}
