"""The comparison's report: compare.md, compare.html (charts), compare.json and compare-junit.xml,
written into the compared run's folder (or another one).

compare.json is the machine-readable verdict; compare-junit.xml has one testcase per metric, a
regression being a failure that names the metric, so CI test views show what got slower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from harness.atomic import write_json, write_text
from harness.compare import page
from harness.compare.changepoints import HistoryView
from harness.compare.metrics import PERCENTILES
from harness.compare.runs import RunData
from harness.compare.verdict import Comparison, MetricComparison, Outcome
from harness.report.schema import check_written

__all__ = ["ComparisonFiles", "format_p", "format_value", "render_html", "render_markdown",
           "to_json", "write_comparison"]

OUTCOME_COLORS = {
    Outcome.REGRESSION: "#c62828",
    Outcome.IMPROVEMENT: "#1565c0",
    Outcome.UNCHANGED: "#64748b",
    Outcome.NO_DATA: "#cbd5e1",
}


@dataclass(frozen=True)
class ComparisonFiles:
    markdown: Path
    html: Path
    json: Path
    junit: Path


def format_value(value: float | None, unit: str) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "%":
        return f"{value:.3f} %"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def format_change(m: MetricComparison) -> str:
    if m.baseline is None or m.candidate is None:
        return "—"
    if m.metric.kind == "error-rate":
        return f"{m.candidate - m.baseline:+.3f} pp"
    change = m.change
    if change is None:
        return "—"
    return f"{change:+.1%}"


def format_p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.2g}"


def _p(m: MetricComparison) -> str:
    return format_p(m.p_value)


def _headline(cmp: Comparison) -> str:
    if cmp.regressed:
        names = ", ".join(m.metric.id for m in cmp.regressions)
        return f"REGRESSION in {len(cmp.regressions)} metric(s): {names}"
    improved = [m for m in cmp.metrics if m.outcome is Outcome.IMPROVEMENT]
    tail = f"; improved: {', '.join(m.metric.id for m in improved)}" if improved else ""
    return f"PASS: no metric regressed beyond noise{tail}"


def _baseline_text(cmp: Comparison, description: str) -> str:
    runs = ", ".join(cmp.baseline_runs)
    return f"{description} ({runs})" if description else runs


def render_markdown(cmp: Comparison, description: str = "") -> str:
    t = cmp.thresholds
    lines = [
        f"# Comparison: {cmp.candidate}",
        "",
        f"**{_headline(cmp)}**",
        "",
        f"- scenario: `{cmp.scenario}`",
        f"- baseline: {_baseline_text(cmp, description)}",
        f"- windows: {cmp.window_seconds:g} s of steady state; significance: one-sided "
        f"Mann-Whitney U on per-window values (error rate: two-proportion z-test), "
        f"alpha {t.alpha:g}, at least {t.min_windows} windows a side",
        "",
        "| verdict | metric | baseline | this run | change | p (Holm) | why |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for m in cmp.metrics:
        mark = {"regression": "❌ regression", "improvement": "✅ improvement"}.get(
            m.outcome.value, m.outcome.value)
        lines.append(
            f"| {mark} | `{m.metric.id}` | {format_value(m.baseline, m.metric.unit)} | "
            f"{format_value(m.candidate, m.metric.unit)} | {format_change(m)} | {_p(m)} | "
            f"{m.reason} |"
        )
    if cmp.notes:
        lines += ["", "Notes:", *(f"- {n}" for n in cmp.notes)]
    lines += ["", "Rules (minimum effect, relative and absolute):", ""]
    for kind, rule in t.rules.items():
        lines.append(f"- {kind}: {rule.min_relative:.0%} and {rule.min_absolute:g}")
    return "\n".join(lines) + "\n"


def to_json(cmp: Comparison, description: str = "") -> dict[str, Any]:
    return {
        "version": 1,
        "candidate": cmp.candidate,
        "scenario": cmp.scenario,
        "verdict": cmp.verdict,
        "baseline": {"kind": cmp.baseline_kind, "runs": list(cmp.baseline_runs),
                     "description": description},
        "window_seconds": cmp.window_seconds,
        "alpha": cmp.thresholds.alpha,
        "regressions": [m.metric.id for m in cmp.regressions],
        "metrics": [
            {
                "id": m.metric.id, "unit": m.metric.unit, "outcome": m.outcome.value,
                "baseline": m.baseline, "candidate": m.candidate, "change": m.change,
                "p_value": m.p_value, "tolerance_relative": m.tolerance_relative,
                "tolerance_absolute": m.tolerance_absolute, "reason": m.reason,
                "windows": {"baseline": len(m.baseline_windows),
                            "candidate": len(m.candidate_windows)},
            }
            for m in cmp.metrics
        ],
        "notes": list(cmp.notes),
    }


def render_junit(cmp: Comparison) -> str:
    suite = ElementTree.Element("testsuite", {
        "name": f"harness.compare.{cmp.scenario}", "tests": str(len(cmp.metrics)),
        "failures": str(len(cmp.regressions)),
        "skipped": str(sum(1 for m in cmp.metrics if m.outcome is Outcome.NO_DATA)),
    })
    for m in cmp.metrics:
        case = ElementTree.SubElement(suite, "testcase", {
            "classname": "harness.compare", "name": m.metric.id})
        if m.outcome is Outcome.REGRESSION:
            failure = ElementTree.SubElement(case, "failure", {
                "message": f"{m.metric.id} regressed: {m.reason}", "type": "regression"})
            failure.text = (f"baseline {format_value(m.baseline, m.metric.unit)}, this run "
                            f"{format_value(m.candidate, m.metric.unit)}; {m.reason}")
        elif m.outcome is Outcome.NO_DATA:
            ElementTree.SubElement(case, "skipped", {"message": m.reason})
    suites = ElementTree.Element("testsuites")
    suites.append(suite)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


# --------------------------------------------------------------------------- html


def _change_chart(cmp: Comparison) -> page.ChartSpec:
    shown = [m for m in cmp.metrics if m.change is not None or m.metric.kind == "error-rate"]
    ids, values, colors, texts, tolerances = [], [], [], [], []
    for m in reversed(shown):
        if m.metric.kind == "error-rate":
            if m.baseline is None or m.candidate is None:
                continue
            value = m.candidate - m.baseline  # percentage points
            tol = m.tolerance_absolute
        else:
            value = 100.0 * (m.change or 0.0)
            tol = 100.0 * m.tolerance_relative
            if m.metric.worse.value == "lower":
                tol = -tol
        ids.append(m.metric.id + (" (pp)" if m.metric.kind == "error-rate" else ""))
        values.append(round(value, 3))
        colors.append(OUTCOME_COLORS[m.outcome])
        texts.append(f"{m.outcome.value}: {m.reason}")
        tolerances.append(round(tol, 3))
    data = (
        {"type": "bar", "orientation": "h", "x": values, "y": ids, "name": "change",
         "marker": {"color": colors}, "hovertext": texts, "hoverinfo": "x+text"},
        {"type": "scatter", "mode": "markers", "x": tolerances, "y": ids,
         "name": "minimum effect", "marker": {"symbol": "line-ns-open", "size": 14,
                                               "color": "#111827"}},
    )
    layout = page.base_layout(
        "change against the baseline (%; error rate: percentage points)", "",
        height=max(320, 24 * len(ids) + 80))
    layout["margin"]["l"] = 190
    layout["yaxis"] = {"automargin": True}
    return page.ChartSpec("chart-change", "Change by metric", data, layout,
                          "Bars: this run against the baseline (red: regression, blue: "
                          "improvement). Ticks: the minimum effect a regression must exceed.")


def _box_chart(cmp: Comparison, kind: str, chart_id: str, title: str) -> page.ChartSpec:
    data: list[dict[str, Any]] = []
    for label, attr, color in (("baseline", "baseline_windows", "#94a3b8"),
                               ("this run", "candidate_windows", "#d97706")):
        xs, ys = [], []
        for m in cmp.metrics:
            if m.metric.kind == kind:
                values = getattr(m, attr)
                xs += [m.metric.id.split(".")[1]] * len(values)
                ys += [round(v, 3) for v in values]
        data.append({"type": "box", "name": label, "x": xs, "y": ys,
                     "marker": {"color": color}, "boxpoints": "outliers"})
    layout = page.base_layout("endpoint group", f"{kind} per window (ms)", boxmode="group")
    return page.ChartSpec(chart_id, title, tuple(data), layout,
                          f"Each point is one {cmp.window_seconds:g} s window of steady state: the "
                          "samples the significance test compares.")


def _timeline_chart(candidate: RunData, baselines: Sequence[RunData]) -> page.ChartSpec:
    data = []
    for run, color, width in [*((b, "#94a3b8", 1) for b in baselines),
                              (candidate, "#d97706", 2)]:
        points = run.result.timeline
        data.append({
            "type": "scatter", "mode": "lines", "name": run.run_id,
            "x": [p.t for p in points], "y": [p.p95_ms for p in points],
            "line": {"color": color, "width": width},
        })
    return page.ChartSpec(
        "chart-timeline", "p95 over the run, baseline(s) and this run", tuple(data),
        page.base_layout("seconds since the load started", "p95 (ms), all requests"))


def _scalar_chart(cmp: Comparison, metric_id: str, chart_id: str) -> page.ChartSpec | None:
    m = next((m for m in cmp.metrics if m.metric.id == metric_id), None)
    if m is None or not (m.baseline_windows or m.candidate_windows):
        return None
    data = tuple(
        {"type": "box", "name": label, "y": [round(v, 4) for v in values],
         "marker": {"color": color}, "boxpoints": "all", "jitter": 0.4, "pointpos": 0}
        for label, values, color in (("baseline", m.baseline_windows, "#94a3b8"),
                                     ("this run", m.candidate_windows, "#d97706"))
    )
    title = f"{m.metric.title} per window ({m.metric.unit})"
    return page.ChartSpec(chart_id, title, data, page.base_layout("", m.metric.unit, height=260))


def render_html(cmp: Comparison, candidate: RunData, baselines: Sequence[RunData],
                description: str = "") -> str:
    rows = tuple(
        page.Row((m.outcome.value, m.metric.id, format_value(m.baseline, m.metric.unit),
                  format_value(m.candidate, m.metric.unit), format_change(m), _p(m), m.reason),
                 css=m.outcome.value.replace(" ", "-"))
        for m in cmp.metrics
    )
    table = page.Table("metrics", ("verdict", "metric", "baseline", "this run", "change",
                                   "p (Holm)", "why"),
                       rows, numeric=frozenset({2, 3, 4, 5}), badge_column=0)
    charts = [_change_chart(cmp)]
    charts += [_box_chart(cmp, f"p{p}", f"chart-p{p}", f"p{p} per window, by group")
               for p in PERCENTILES]
    charts += [c for c in (_scalar_chart(cmp, "throughput", "chart-throughput"),
                           _scalar_chart(cmp, "cpu-per-request", "chart-cpu")) if c]
    charts.append(_timeline_chart(candidate, baselines))
    by_id = {m.metric.id: m for m in cmp.metrics}
    kpis = []
    for metric_id in ("latency.all.p95", "latency.all.p99", "throughput", "error-rate",
                      "cpu-per-request"):
        m = by_id.get(metric_id)
        if m is not None:
            kpis.append(page.Kpi(metric_id, format_value(m.candidate, m.metric.unit),
                                 f"baseline {format_value(m.baseline, m.metric.unit)} · "
                                 f"{format_change(m)}", alert=m.outcome is Outcome.REGRESSION))
    t = cmp.thresholds
    return page.render_page(page.Page(
        title=f"Comparison {cmp.candidate}",
        status=cmp.verdict,
        headline=_headline(cmp),
        meta=(("Scenario", cmp.scenario), ("Baseline", _baseline_text(cmp, description)),
              ("Window", f"{cmp.window_seconds:g} s"), ("alpha", f"{t.alpha:g}")),
        kpis=tuple(kpis),
        sections=(
            page.Section("verdicts", "Metrics", (
                "A metric regressed when it got worse by more than its minimum effect "
                "(relative and absolute) and the one-sided Mann-Whitney U test of the per-window "
                "values (error rate: a two-proportion z-test on request counts) gives "
                f"p < {t.alpha:g}.", *cmp.notes), tables=(table,)),
            page.Section("charts", "Charts", charts=tuple(charts)),
        ),
    ))


def write_comparison(folder: Path, cmp: Comparison, candidate: RunData,
                     baselines: Sequence[RunData], description: str = "", *,
                     history: HistoryView | None = None) -> ComparisonFiles:
    files = ComparisonFiles(folder / "compare.md", folder / "compare.html",
                            folder / "compare.json", folder / "compare-junit.xml")
    document = to_json(cmp, description)
    if history is not None:  # the key metrics' change points in the results store
        document["history"] = history.to_json()
    write_json(files.json, document)
    check_written("compare", document, str(files.json))
    write_text(files.junit, render_junit(cmp))
    write_text(files.markdown, render_markdown(cmp, description))
    write_text(files.html, render_html(cmp, candidate, baselines, description))
    return files
