"""The report's capacity charts: replicas and utilization, server connections, pools.

Drawn from the sections harness.report.scaling reads, on the same time axis, stage bands and
replica colours as the charts of harness.report.charts, so they line up with them.
"""

from __future__ import annotations

import math
from typing import Any

from harness.report.charts import (
    COLORS,
    HEADROOM_ABOVE,
    REPLICA_PALETTE,
    Chart,
    _base_layout,
    _data_end,
    _finish,
    _finite,
    _scatter,
    _x_end,
    replica_colors,
    themed,
)
from harness.report.formatting import format_number
from harness.report.results import RunResult
from harness.report.scaling import (
    Capacity,
    Connections,
    Pools,
    PoolSample,
    Scaling,
    pool_sentence,
    read_capacity,
)

__all__ = ["METRIC_COLORS", "build_capacity_charts", "metric_color"]

REPLICAS_COLOR = "#1e40af"
BOUND_COLOR = "#475569"
LIMIT_COLOR = "#dc2626"
METRIC_COLORS = {"cpu": "#ea580c", "memory": "#7c3aed"}
_OTHER_METRICS = ("#0891b2", "#be185d", "#4d7c0f")
CONNECTION_COLORS = {"total": "#1e293b", "active": "#ea580c", "idle": "#0d9488"}


def metric_color(metric: str, index: int) -> str:
    return METRIC_COLORS.get(metric, _OTHER_METRICS[index % len(_OTHER_METRICS)])


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _hline(y: float, yref: str, color: str, dash: str, width: float = 1.5) -> dict[str, Any]:
    return {
        "type": "line", "xref": "paper", "yref": yref, "x0": 0, "x1": 1, "y0": y, "y1": y,
        "line": {"color": color, "width": width, "dash": dash},
    }


def _label(text: str, y: float, yref: str, color: str, *, right: bool = False,
           below: bool = False) -> dict[str, Any]:
    return {
        "x": 0.995 if right else 0.005, "xref": "paper", "xanchor": "right" if right else "left",
        "y": y, "yref": yref, "yanchor": "top" if below else "bottom", "text": text,
        "showarrow": False, "font": {"size": 11, "color": color},
        "bgcolor": "rgba(255,255,255,0.8)",
    }


# --- replicas and utilization ----------------------------------------------------------------


def _replica_steps(scaling: Scaling, until: float) -> tuple[list[float], list[int]]:
    """The count as a step line that runs on to where the data ends."""
    counts = scaling.counts()
    xs = [c.t for c in counts]
    ys = [c.replicas for c in counts]
    if xs and until > xs[-1]:
        xs.append(round(until, 3))
        ys.append(ys[-1])
    return xs, ys


def _two_panels(layout: dict[str, Any], split: float, bottom: dict[str, Any]) -> None:
    """One x axis under two stacked y axes: `y` above `split`, `y2` (given) below it."""
    layout["xaxis"]["anchor"] = "y2"
    layout["yaxis"].update({"domain": [split + 0.07, 1.0], "rangemode": "normal"})
    layout["yaxis2"] = {"domain": [0.0, split], "anchor": "x", "rangemode": "normal",
                        "gridcolor": COLORS["grid"], "zeroline": False, **bottom}


def _nice_top(value: float, step: float) -> float:
    return step * max(1, math.ceil(value / step))


def _scaling_chart(result: RunResult, scaling: Scaling, x_end: float) -> Chart:
    hpa = scaling.hpa
    layout = _base_layout(result, "replicas", x_end)
    layout["height"] = 480
    until = max([_data_end(result), *(d.time for d in scaling.decisions)])
    xs, ys = _replica_steps(scaling, until)
    top = max([*ys, hpa.max_replicas or 0, hpa.min_replicas or 0, 1])
    traces: list[dict[str, Any]] = [
        _scatter(
            x=xs, y=ys, name="replicas", mode="lines",
            line={"color": REPLICAS_COLOR, "width": 2.5, "shape": "hv"},
            hovertemplate="%{y} replicas<extra></extra>",
        )
    ]
    for name, value in (("min", hpa.min_replicas), ("max", hpa.max_replicas)):
        if value is not None:
            layout["shapes"].append(_hline(value, "y", BOUND_COLOR, "dash"))
            layout["annotations"].append(
                _label(f"HPA {name} {value}", value, "y", BOUND_COLOR, right=True,
                       below=name == "min"))
    # utilization below, each metric with its target band (target ± tolerance)
    utilization_top = 100.0
    targets = sorted((t, m) for m, t in hpa.targets.items())
    for index, metric in enumerate(scaling.metrics):
        color = metric_color(metric, index)
        target = hpa.targets.get(metric)
        band = hpa.band(metric)
        if band is not None and target is not None:
            layout["shapes"].append({
                "type": "rect", "xref": "paper", "yref": "y2", "x0": 0, "x1": 1,
                "y0": round(band[0], 3), "y1": round(band[1], 3),
                "fillcolor": _rgba(color, 0.14), "line": {"width": 0}, "layer": "below",
            })
            layout["shapes"].append(_hline(target, "y2", _rgba(color, 0.8), "dot", 1))
            # the lowest target's label under its band, the others over theirs
            lowest = targets[0][1] == metric and len(targets) > 1
            layout["annotations"].append(_label(
                f"{metric} target {format_number(target, '%')} "
                f"({format_number(band[0])}–{format_number(band[1], '%')})",
                band[0] if lowest else band[1], "y2", color, below=lowest))
            utilization_top = max(utilization_top, band[1])
        points = [(d.time, use.utilization_percent) for d in scaling.decisions
                  for use in d.per_metric
                  if use.metric == metric and use.utilization_percent is not None]
        if not points:
            continue
        utilization_top = max([utilization_top, *(u or 0.0 for _, u in points)])
        target_text = f" (target {format_number(target, '%')})" if target is not None else ""
        traces.append(_scatter(
            x=[round(t, 3) for t, _ in points],
            y=[_finite(u) for _, u in points],
            name=f"{metric} utilization",
            mode="lines+markers",
            yaxis="y2",
            line={"color": color, "width": 1.5},
            marker={"size": 5, "color": color},
            hovertemplate=f"{metric} %{{y:.0f}} % of request{target_text}<extra></extra>",
        ))
    layout["yaxis"].update({"range": [0, top + 1], "tickformat": ",d"})
    if top <= 12:
        layout["yaxis"]["dtick"] = 2 if top > 6 else 1
    step = 25.0 if utilization_top <= 200 else 100.0
    _two_panels(layout, 0.45, {
        "title": {"text": "utilization (%)"},
        "range": [0, _nice_top(utilization_top * 1.05, step)],
        "dtick": step,
    })
    bounds = ""
    if hpa.min_replicas is not None and hpa.max_replicas is not None:
        bounds = f" Dashed: the HPA's bounds, {hpa.min_replicas}–{hpa.max_replicas} replicas."
    caption = (
        "Replicas (top) and, at every autoscaler sync, each metric's utilization in % of the "
        "Deployment's request (bottom). Shaded: the target ± "
        f"{format_number(hpa.tolerance_up * 100, '%')} tolerance, within which the count is left "
        f"alone.{bounds}"
    )
    return Chart("chart-scaling", "Replicas and utilization", caption, traces, _finish(layout))


# --- server connections ----------------------------------------------------------------------


def _connections_chart(result: RunResult, connections: Connections, x_end: float) -> Chart:
    layout = _base_layout(result, "connections", x_end)
    traces: list[dict[str, Any]] = []
    xs = [s.t for s in connections.samples]
    for name, width, dash in (("total", 2.0, "solid"), ("active", 1.5, "solid"),
                              ("idle", 1.5, "dot")):
        traces.append(_scatter(
            x=xs, y=[getattr(s, name) for s in connections.samples], name=name, mode="lines",
            line={"color": CONNECTION_COLORS[name], "width": width, "dash": dash},
            hovertemplate=f"%{{y}} {name}<extra></extra>",
        ))
    top = float(connections.peak)
    caption = "Client connections to PostgreSQL (pg_stat_activity): total, active and idle."
    if connections.limit is not None:
        limit = connections.limit
        if connections.max_connections is not None and connections.reserved is not None:
            text = (f"max_connections {connections.max_connections} − {connections.reserved} "
                    f"reserved = {format_number(limit)}")
        else:
            text = f"limit {format_number(limit)}"
        layout["shapes"].append(_hline(limit, "y", LIMIT_COLOR, "dash"))
        layout["annotations"].append(_label(text, limit, "y", LIMIT_COLOR))
        top = max(top, limit)
        caption += (f" Dashed: {text}, the most the replicas' pools may open together; peak "
                    f"{connections.peak}.")
    if connections.full_scale is not None:
        caption += (f" At the HPA's maximum the pools could ask for "
                    f"{format_number(connections.full_scale)} (pool.connection-budget).")
    if connections.failed_samples:
        n = connections.failed_samples
        caption += f" {n} sample{'s' if n != 1 else ''} failed."
    layout["yaxis"].update({"range": [0, max(top * HEADROOM_ABOVE, 1.0)], "rangemode": "normal"})
    return Chart("chart-connections", "Server connections", caption, traces, _finish(layout))


# --- pools -----------------------------------------------------------------------------------

_POOL_SPLIT = 0.36  # the waiting panel below, the in-use panel above


def _pool_colors(result: RunResult, pools: Pools) -> dict[str, str]:
    """The replicas' colours of the CPU and memory charts; new names continue the palette."""
    colors = replica_colors(result.replicas)
    for name in pools.replicas:
        if name not in colors:
            colors[name] = REPLICA_PALETTE[len(colors) % len(REPLICA_PALETTE)]
    return colors


def _pools_chart(result: RunResult, pools: Pools, x_end: float) -> Chart:
    layout = _base_layout(result, "in use", x_end)
    layout["height"] = 420
    waiting_top = max(pools.peak_waiting, 1)
    _two_panels(layout, _POOL_SPLIT, {
        "title": {"text": "waiting"},
        "range": [0, waiting_top * 1.15],
        "tickformat": ",d",
        **({"dtick": 1} if waiting_top <= 5 else {}),
    })
    colors = _pool_colors(result, pools)
    traces: list[dict[str, Any]] = []
    by_replica: dict[str, list[PoolSample]] = {name: [] for name in pools.replicas}
    for sample in pools.samples:
        by_replica[sample.replica].append(sample)
    for name, points in by_replica.items():
        xs = [s.t for s in points]
        traces.append(_scatter(
            x=xs, y=[s.in_use for s in points], name=name, legendgroup=name, mode="lines",
            line={"color": colors[name], "width": 1.5},
            hovertemplate=f"{name} %{{y}} in use<extra></extra>",
        ))
        traces.append(_scatter(
            x=xs, y=[s.waiting for s in points], name=f"{name} waiting", legendgroup=name,
            showlegend=False, mode="lines", yaxis="y2",
            line={"color": colors[name], "width": 1.5},
            hovertemplate=f"{name} %{{y}} waiting<extra></extra>",
        ))
    top = float(pools.peak_in_use)
    caption = ("Each replica's database pool: connections lent out (top) and requests waiting "
               "for one (bottom), from the replicas' /api/metrics.")
    if pools.pool_max is not None:
        layout["shapes"].append(_hline(pools.pool_max, "y", LIMIT_COLOR, "dash"))
        layout["annotations"].append(
            _label(f"DB_POOL_MAX {format_number(pools.pool_max)}", pools.pool_max, "y",
                   LIMIT_COLOR))
        top = max(top, pools.pool_max)
        caption += f" Dashed: DB_POOL_MAX {format_number(pools.pool_max)} per replica."
    caption += f" {pool_sentence(pools)}"
    if not pools.peak_waiting:
        layout["annotations"].append({
            "x": 0.5, "xref": "paper", "xanchor": "center", "y": 0.5, "yref": "y2 domain",
            "yanchor": "middle", "text": "no request waited for a connection",
            "showarrow": False, "font": {"size": 12, "color": COLORS["stage_text"]},
            "bgcolor": "rgba(255,255,255,0.8)",
        })
    layout["yaxis"]["range"] = [0, max(top * HEADROOM_ABOVE, 1.0)]
    return Chart("chart-pools", "Database pools per replica", caption, traces, _finish(layout))


def build_capacity_charts(result: RunResult, capacity: Capacity | None = None) -> list[Chart]:
    """The scaling, connections and pools charts the result's sections support, in that order."""
    capacity = capacity or read_capacity(result)
    x_end = _x_end(result)
    charts: list[Chart] = []
    if capacity.scaling is not None:
        charts.append(_scaling_chart(result, capacity.scaling, x_end))
    if capacity.connections is not None:
        charts.append(_connections_chart(result, capacity.connections, x_end))
    if capacity.pools is not None:
        charts.append(_pools_chart(result, capacity.pools, x_end))
    return themed(charts)
