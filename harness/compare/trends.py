"""The history report: one chart per key metric across the stored runs (trends.html, trends.md).

Each stored run contributes the whole-run values recorded in the store's index; runs judged a
regression are drawn in red, the promoted baseline as a star. Change points (E-Divisive means,
harness.compare.changepoints) are found per scenario and metric: each is a dashed vertical line
labelled with its step, and the segments' means are drawn as a stepped line.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_text
from harness.compare import page
from harness.compare.changepoints import ChangePoint, MetricHistory, history_change_points
from harness.compare.report import format_value
from harness.compare.store import ResultsStore, StoredRun

__all__ = ["KEY_METRICS", "TrendFiles", "change_point_text", "render_trends_html",
           "render_trends_markdown", "scenario_histories", "write_trends"]

KEY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("latency.all.p50", "p50, all requests", "ms"),
    ("latency.all.p95", "p95, all requests", "ms"),
    ("latency.all.p99", "p99, all requests", "ms"),
    ("latency.read.p95", "p95, read", "ms"),
    ("latency.search.p95", "p95, search", "ms"),
    ("latency.write.p95", "p95, write", "ms"),
    ("throughput", "throughput", "req/s"),
    ("error-rate", "error rate", "%"),
    ("cpu-per-request", "CPU per request", "ms"),
    ("pool-wait", "pool acquire wait (mean)", "ms"),
)


@dataclass(frozen=True)
class TrendFiles:
    html: Path
    markdown: Path


def _when(run: StoredRun) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(run.started_at))


Histories = Mapping[str, Mapping[str, MetricHistory]]  # scenario → metric → history


def scenario_histories(runs: Sequence[StoredRun]) -> dict[str, dict[str, MetricHistory]]:
    """Change points of every key metric, per scenario (runs oldest first)."""
    metrics = [m for m, _, _ in KEY_METRICS]
    return {scenario: history_change_points([r for r in runs if r.scenario == scenario], metrics)
            for scenario in sorted({r.scenario for r in runs})}


def _unit(metric: str) -> str:
    return next((unit for m, _, unit in KEY_METRICS if m == metric), "")


def change_point_text(point: ChangePoint) -> str:
    """"+20.1 % (41.0 ms → 49.3 ms, p < 0.001)", with "provisional" when one run says so."""
    unit = _unit(point.metric)
    change = point.change
    step = f"{change:+.1%}" if change is not None else f"{point.after - point.before:+.3g} {unit}"
    p = "p < 0.001" if point.p_value < 0.001 else f"p = {point.p_value:.2g}"
    tail = "; provisional: one run so far" if point.provisional else ""
    return (f"{step} ({format_value(point.before, unit)} → {format_value(point.after, unit)}, "
            f"{p}{tail})")


def _segment_trace(history: MetricHistory, when: Mapping[str, str], scenario: str
                   ) -> dict[str, Any]:
    """Each segment's mean as a flat line over its runs, gaps between segments."""
    cuts = [0, *(c.index for c in history.change_points), len(history.values)]
    xs: list[str | None] = []
    ys: list[float | None] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        mean = sum(history.values[start:end]) / (end - start)
        xs += [when[history.run_ids[start]], when[history.run_ids[end - 1]], None]
        ys += [round(mean, 6), round(mean, 6), None]
    return {"type": "scatter", "mode": "lines", "name": f"{scenario} segment mean",
            "x": xs, "y": ys, "line": {"color": "#0f766e", "width": 2, "dash": "dot"},
            "hoverinfo": "skip"}


def _chart(metric: str, title: str, unit: str, runs: Sequence[StoredRun],
           baselines: dict[str, str], histories: Histories) -> page.ChartSpec:
    data = []
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    when = {r.run_id: _when(r) for r in runs}
    for scenario in sorted({r.scenario for r in runs}):
        mine = [r for r in runs if r.scenario == scenario and r.metrics.get(metric) is not None]
        data.append({
            "type": "scatter", "mode": "lines+markers", "name": scenario,
            "x": [_when(r) for r in mine], "y": [r.metrics[metric] for r in mine],
            "text": [f"{r.run_id} · {r.verdict or 'not compared'}" for r in mine],
            "marker": {"color": ["#c62828" if r.verdict == "regression" else "#2563eb"
                                 for r in mine], "size": 8},
            "line": {"color": "#94a3b8"},
        })
        promoted = [r for r in mine if baselines.get(scenario) == r.run_id]
        if promoted:
            data.append({
                "type": "scatter", "mode": "markers", "name": f"{scenario} baseline",
                "x": [_when(r) for r in promoted], "y": [r.metrics[metric] for r in promoted],
                "marker": {"symbol": "star", "size": 16, "color": "#d97706"},
            })
        history = histories.get(scenario, {}).get(metric)
        if history is None or not history.change_points:
            continue
        data.append(_segment_trace(history, when, scenario))
        for point in history.change_points:
            color = "#c62828" if point.worse else "#1565c0"
            shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": when[point.run_id],
                           "x1": when[point.run_id], "y0": 0, "y1": 1,
                           "line": {"color": color, "width": 2,
                                    "dash": "dot" if point.provisional else "dash"}})
            change = point.change
            label = f"{change:+.0%}" if change is not None else "step"
            annotations.append({"xref": "x", "yref": "paper", "x": when[point.run_id], "y": 1,
                                "text": f"{label} {point.run_id}" + (" (?)" if point.provisional
                                                                     else ""),
                                "showarrow": False, "xanchor": "left", "yanchor": "top",
                                "font": {"color": color, "size": 11},
                                "hovertext": change_point_text(point)})
    safe = metric.replace(".", "-")
    return page.ChartSpec(f"chart-{safe}", f"{title} ({unit})", tuple(data),
                          page.base_layout("run (UTC)", f"{title} ({unit})", height=280,
                                           shapes=shapes, annotations=annotations))


def _change_rows(runs: Sequence[StoredRun], histories: Histories) -> list[tuple[str, ...]]:
    when = {r.run_id: _when(r) for r in runs}
    rows: list[tuple[str, ...]] = []
    for scenario, by_metric in histories.items():
        for metric, _, _ in KEY_METRICS:
            history = by_metric.get(metric)
            for point in history.change_points if history else ():
                rows.append((metric, scenario, point.run_id, when[point.run_id],
                             "worse" if point.worse else "better", change_point_text(point)))
    return rows


def _title(scenario: str | None, tags: Mapping[str, str] | None) -> str:
    chosen = [scenario] if scenario else []
    chosen += [f"{k}={v}" for k, v in sorted((tags or {}).items())]
    return "Performance history" + (f": {', '.join(chosen)}" if chosen else "")


def render_trends_html(store: ResultsStore, scenario: str | None = None,
                       tags: Mapping[str, str] | None = None) -> str:
    runs = store.runs(scenario, tags)
    baselines = store.baselines()
    histories = scenario_histories(runs)
    charts = tuple(_chart(m, title, unit, runs, baselines, histories)
                   for m, title, unit in KEY_METRICS)
    regressions = sum(1 for r in runs if r.verdict == "regression")
    changes = _change_rows(runs, histories)
    change_table = page.Table(
        "change-points", ("metric", "scenario", "new segment from", "when (UTC)", "direction",
                          "step"),
        tuple(page.Row(row, css="regression" if row[4] == "worse" else "") for row in changes))
    table = page.Table(
        "runs", ("run", "scenario", "when (UTC)", "verdict", "p95", "throughput", "error rate"),
        tuple(page.Row((r.run_id, r.scenario, _when(r), r.verdict or "—",
                        format_value(r.metrics.get("latency.all.p95"), "ms"),
                        format_value(r.metrics.get("throughput"), "req/s"),
                        format_value(r.metrics.get("error-rate"), "%")),
                       css=r.verdict or "") for r in reversed(runs)),
        numeric=frozenset({4, 5, 6}),
    )
    return page.render_page(page.Page(
        title=_title(scenario, tags),
        status="regression" if runs and runs[-1].verdict == "regression" else "pass",
        headline=f"{len(runs)} stored run(s), {regressions} judged a regression, "
                 f"{len(changes)} change point(s)",
        meta=(("Store", str(store.root)),
              ("Baselines", ", ".join(f"{k}: {v}" for k, v in sorted(baselines.items())) or "—")),
        sections=(
            page.Section("trends", "Key metrics across stored runs", (
                "Whole-run values over each run's steady state. Red points: runs judged a "
                "regression; stars: the promoted baseline. Dashed lines: change points (E-Divisive "
                "means, p < 0.001 and at least the metric's minimum effect; red: worse), dotted "
                "when only the newest run says so; the dotted green line: each segment's mean.",),
                charts=charts),
            page.Section("change-points", "Change points", (
                "Where a metric stepped to a new level and stayed there, per scenario."
                if changes else "No change point: every metric stayed within its minimum effect "
                "or its noise.",), tables=(change_table,) if changes else ()),
            page.Section("runs", "Stored runs", tables=(table,)),
        ),
    ))


def render_trends_markdown(store: ResultsStore, scenario: str | None = None,
                           tags: Mapping[str, str] | None = None) -> str:
    runs = store.runs(scenario, tags)
    header = ["run", "scenario", "when (UTC)", "verdict", *(m for m, _, _ in KEY_METRICS)]
    lines = [
        "# " + _title(scenario, tags), "",
        f"{len(runs)} stored run(s); baselines: "
        + (", ".join(f"{k} = `{v}`" for k, v in sorted(store.baselines().items())) or "none"),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for r in reversed(runs):
        values = [format_value(r.metrics.get(m), unit) for m, _, unit in KEY_METRICS]
        lines.append(f"| `{r.run_id}` | {r.scenario} | {_when(r)} | {r.verdict or '—'} | "
                     + " | ".join(values) + " |")
    changes = _change_rows(runs, scenario_histories(runs))
    lines += ["", "## Change points", ""]
    if not changes:
        lines.append("None: every metric stayed within its minimum effect or its noise.")
    else:
        lines += ["| metric | scenario | new segment from | when (UTC) | direction | step |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| `{m}` | {sc} | `{run}` | {w} | {d} | {step} |"
                  for m, sc, run, w, d, step in changes]
    return "\n".join(lines) + "\n"


def write_trends(store: ResultsStore, folder: Path | None = None,
                 scenario: str | None = None, tags: Mapping[str, str] | None = None
                 ) -> TrendFiles:
    target = folder or store.root
    return TrendFiles(
        write_text(target / "trends.html", render_trends_html(store, scenario, tags)),
        write_text(target / "trends.md", render_trends_markdown(store, scenario, tags)),
    )
