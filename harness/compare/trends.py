"""The history report: one chart per key metric across the stored runs (trends.html, trends.md).

Each stored run contributes the whole-run values recorded in the store's index; runs judged a
regression are drawn in red, the promoted baseline as a star.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.compare.page import ChartSpec, Page, Row, Section, Table, base_layout, render_page
from harness.compare.page import write_text as _write_text
from harness.compare.report import format_value
from harness.compare.store import ResultsStore, StoredRun

__all__ = ["KEY_METRICS", "TrendFiles", "render_trends_html", "render_trends_markdown",
           "write_trends"]

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


def _chart(metric: str, title: str, unit: str, runs: Sequence[StoredRun],
           baselines: dict[str, str]) -> ChartSpec:
    data = []
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
    safe = metric.replace(".", "-")
    return ChartSpec(f"chart-{safe}", f"{title} ({unit})", tuple(data),
                     base_layout("run (UTC)", f"{title} ({unit})", height=280))


def _title(scenario: str | None, tags: Mapping[str, str] | None) -> str:
    chosen = [scenario] if scenario else []
    chosen += [f"{k}={v}" for k, v in sorted((tags or {}).items())]
    return "Performance history" + (f": {', '.join(chosen)}" if chosen else "")


def render_trends_html(store: ResultsStore, scenario: str | None = None,
                       tags: Mapping[str, str] | None = None) -> str:
    runs = store.runs(scenario, tags)
    baselines = store.baselines()
    charts = tuple(_chart(m, title, unit, runs, baselines) for m, title, unit in KEY_METRICS)
    regressions = sum(1 for r in runs if r.verdict == "regression")
    table = Table(
        "runs", ("run", "scenario", "when (UTC)", "verdict", "p95", "throughput", "error rate"),
        tuple(Row((r.run_id, r.scenario, _when(r), r.verdict or "—",
                   format_value(r.metrics.get("latency.all.p95"), "ms"),
                   format_value(r.metrics.get("throughput"), "req/s"),
                   format_value(r.metrics.get("error-rate"), "%")),
                  css=r.verdict or "") for r in reversed(runs)),
        numeric=frozenset({4, 5, 6}),
    )
    page = Page(
        title=_title(scenario, tags),
        status="regression" if runs and runs[-1].verdict == "regression" else "pass",
        headline=f"{len(runs)} stored run(s), {regressions} judged a regression",
        meta=(("Store", str(store.root)),
              ("Baselines", ", ".join(f"{k}: {v}" for k, v in sorted(baselines.items())) or "—")),
        sections=(
            Section("trends", "Key metrics across stored runs", (
                "Whole-run values over each run's steady state. Red points: runs judged a "
                "regression; stars: the promoted baseline.",), charts=charts),
            Section("runs", "Stored runs", tables=(table,)),
        ),
    )
    return render_page(page)


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
    return "\n".join(lines) + "\n"


def write_trends(store: ResultsStore, folder: Path | None = None,
                 scenario: str | None = None, tags: Mapping[str, str] | None = None
                 ) -> TrendFiles:
    target = folder or store.root
    return TrendFiles(
        _write_text(target / "trends.html", render_trends_html(store, scenario, tags)),
        _write_text(target / "trends.md", render_trends_markdown(store, scenario, tags)),
    )
