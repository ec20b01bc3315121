"""Write a run's report folder: results.json, summary.md, report.html and junit.xml.

`write_report` is the report stage's one entry point. It works for every RunResult, including a
partial one written on Ctrl-C (no timeline, no checks), and scrubs credentials from every text
before anything is written. Output is deterministic: the same result gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
from plotly.offline import get_plotlyjs

from harness.atomic import write_text
from harness.load.health import limits_text, priority_text
from harness.redact import redact
from harness.report.calibration import calibration_section
from harness.report.charts import COLORS, build_charts, figure_json, missing_charts
from harness.report.formatting import (
    MISSING,
    STATUS_EXPLANATIONS,
    format_number,
    format_run_times,
    format_span,
    partial_notice,
    reason_and_evidence,
    reported_checks,
    scrub_text,
    verdict_counts,
)
from harness.report.junit import render_junit
from harness.report.markers import FAULT_COLOR, SCALE_COLOR
from harness.report.results import RESULTS_FILE, RequestStats, RunResult
from harness.report.scaling import Scaling, decision_rows, decisions_summary, read_capacity
from harness.report.scaling_charts import build_capacity_charts
from harness.report.schema import check_written
from harness.report.summary import render_summary
from harness.verify.check import Verdict

__all__ = ["ReportFiles", "redact_result", "render_html", "write_report"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
COLLAPSE_ROWS = 25  # longer generic tables start folded
DECISIONS_OPEN = 12  # a longer table of autoscaler decisions starts folded


@dataclass(frozen=True)
class ReportFiles:
    results_json: Path
    summary_md: Path
    report_html: Path
    junit_xml: Path

    @property
    def folder(self) -> Path:
        return self.report_html.parent


# --- credentials ---------------------------------------------------------------------------


def _scrub_any(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrub_any(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_any(v, scrub) for v in value)
    return value


def redact_result(result: RunResult, secrets: Iterable[str] | None = None) -> RunResult:
    """The result with credentials removed from every free text (URLs, notes, evidence, extra).

    Secret values: `secrets` if given, else those of the secret environment variables that are
    set (harness.redact); URL user info and secret query parameters go in any case.
    """
    environ: dict[str, str] | None = None if secrets is None else {}
    extra: tuple[str, ...] = () if secrets is None else tuple(secrets)

    def s(text: str) -> str:
        return scrub_text(redact(text, environ=environ, extra_secrets=extra))

    return replace(
        result,
        scenario_description=s(result.scenario_description),
        endpoints={name: s(url) for name, url in result.endpoints.items()},
        notes=tuple(s(n) for n in result.notes),
        checks=tuple(
            replace(c, title=s(c.title), evidence=s(c.evidence), reason=c.reason and s(c.reason))
            for c in result.checks
        ),
        errors=tuple(replace(e, error=s(e.error)) for e in result.errors),
        extra=_scrub_any(result.extra, s),
    )


# --- report.html ---------------------------------------------------------------------------


def _json_for_script(data: Any) -> str:
    """JSON safe inside <script>: sorted keys, no NaN, nothing that could close the tag."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _humanize(key: str) -> str:
    text = str(key).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def _plain(value: Any) -> str:
    """A generic value as table text: nested mappings as "key: value · …", one list item a line."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        if abs(value) >= 1:
            return f"{value:.3f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return " · ".join(f"{k}: {_plain(value[k])}" for k in _columns([value]))
    if isinstance(value, list | tuple):
        if any(isinstance(item, Mapping) for item in value):
            return "\n".join(f"• {_plain(item)}" for item in value)
        return ", ".join(_plain(item) for item in value)
    return str(value)


_FIRST_COLUMNS = ("t", "time", "start", "end", "name", "id", "metric")


def _columns(rows: list[Mapping[str, Any]]) -> list[str]:
    keys = sorted({str(k) for row in rows for k in row})
    first = [k for k in _FIRST_COLUMNS if k in keys]
    return first + [k for k in keys if k not in first]


def _block(title: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        rows = [[_humanize(k), _plain(value[k])] for k in sorted(value, key=str)]
        return {"title": title, "columns": ["", "value"], "rows": rows, "kv": True}
    items = list(value)
    if items and all(isinstance(item, Mapping) for item in items):
        columns = _columns(items)
        rows = [[_plain(item.get(c)) for c in columns] for item in items]
    else:
        columns = ["value"]
        rows = [[_plain(item)] for item in items]
    return {"title": title, "columns": columns, "rows": rows, "kv": False}


def extra_sections(extra: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Later stages' optional sections (scaling, pools, …) as titled tables, keys sorted."""
    sections = []
    for key in sorted(extra, key=str):
        value = extra[key]
        blocks = []
        if isinstance(value, Mapping):
            scalars = {k: v for k, v in value.items() if not isinstance(v, Mapping | list | tuple)}
            if scalars:
                blocks.append(_block("", scalars))
            for sub in sorted(value, key=str):
                if isinstance(value[sub], Mapping | list | tuple):
                    blocks.append(_block(_humanize(sub), value[sub]))
        elif isinstance(value, list | tuple):
            blocks.append(_block("", value))
        else:
            blocks.append(_block("", {key: value}))
        for block in blocks:
            block["collapsed"] = len(block["rows"]) > COLLAPSE_ROWS
        sections.append({"id": f"extra-{key}", "title": _humanize(key), "blocks": blocks})
    return sections


def _stats_row(name: str, stats: RequestStats) -> dict[str, str]:
    lat = stats.latency
    return {
        "name": name,
        "requests": f"{stats.requests:,}",
        "failures": f"{stats.failures:,}",
        "error_percent": format_number(stats.error_percent, "%"),
        "rps": format_number(stats.rps),
        "p50": format_number(lat.p50_ms),
        "p95": format_number(lat.p95_ms),
        "p99": format_number(lat.p99_ms),
        "max": format_number(lat.max_ms),
        "failed": "yes" if stats.failures else "",
        # from the intended send time (arrival-rate stages); shown only when the run had them
        "p50c": format_number(stats.corrected.p50_ms) if stats.corrected else MISSING,
        "p95c": format_number(stats.corrected.p95_ms) if stats.corrected else MISSING,
        "p99c": format_number(stats.corrected.p99_ms) if stats.corrected else MISSING,
    }


def generator_section(result: RunResult) -> dict[str, Any]:
    """The load generators' health as an optional section (shown like the later stages')."""
    health = result.generator
    if health is None or not health.generators:
        return {}
    summary: dict[str, Any] = {
        "workers": health.workers or "none (one load process)",
        "saturated intervals": f"{health.saturated_intervals} of {health.intervals}",
        "limits": limits_text(),
        "priority": priority_text(health.generators),
    }
    if health.intended_rps is not None:
        summary["arrival rate"] = (f"{format_number(health.achieved_rps, 'req/s')} sent of "
                                   f"{format_number(health.intended_rps, 'req/s')} due")
    if health.advice:
        summary["advice"] = health.advice
    rows = [
        {"name": g.generator, "peak CPU": format_number(g.peak_cpu_percent, "%"),
         "mean CPU": format_number(g.mean_cpu_percent, "%"),
         "loop lag median (worst)": format_number(g.loop_lag_p50_ms, "ms"),
         "loop lag p99 (worst)": format_number(g.loop_lag_p99_ms, "ms"),
         "peak RSS": format_number(g.peak_rss_mb, "MB"),
         "priority": g.priority,
         "waited for a core (mean)": format_number(g.mean_cpu_wait_percent, "%"),
         "saturated intervals": g.saturated_intervals}
        for g in health.generators
    ]
    return {"load generator": {**summary, "generators": rows}}


def _kpis(result: RunResult) -> list[dict[str, str]]:
    """The cards: steady-state numbers, the same the checks judge (whole-run ones beside)."""
    totals, counts = result.totals, verdict_counts(result.checks)
    steady = result.steady or totals
    where = "steady state" if result.steady is not None else "whole run"
    lat = steady.judged
    has_load = totals.requests > 0
    error_check_failed = any(
        c.id.startswith("slo.error") and c.verdict is Verdict.FAIL for c in result.checks
    )
    return [
        {
            "label": "Requests",
            "value": f"{totals.requests:,}",
            "sub": f"whole run; {steady.requests:,} in the {where}",
            "alert": "",
        },
        {
            "label": "Throughput",
            "value": format_number(steady.rps) if has_load else MISSING,
            "sub": f"req/s, {where}; {format_number(totals.rps)} over the whole run",
            "alert": "",
        },
        {
            "label": "Errors",
            "value": format_number(steady.error_percent, "%") if has_load else MISSING,
            "sub": f"{steady.failures:,} failed in the {where}; {totals.failures:,} in all",
            "alert": "yes" if error_check_failed else "",
        },
        {
            "label": "p50 / p95 / p99",
            "value": " / ".join(format_number(v) for v in (lat.p50_ms, lat.p95_ms, lat.p99_ms))
            if has_load
            else MISSING,
            "sub": f"ms, client side, {where}",
            "alert": "",
        },
        {
            "label": "Checks passed",
            "value": f"{counts[Verdict.PASS]} / {len(result.checks)}" if result.checks else MISSING,
            "sub": f"{counts[Verdict.FAIL]} failed, {counts[Verdict.SKIPPED]} skipped"
            + (f", {counts[Verdict.UNTRUSTED]} untrusted" if counts[Verdict.UNTRUSTED] else "")
            if result.checks
            else "not evaluated",
            "alert": "yes" if counts[Verdict.FAIL] or counts[Verdict.UNTRUSTED] else "",
        },
    ]


_BACKENDS = {
    "embedded": ("SQLite: the embedded stack's database, one file shared by the replicas; "
                 "DB_POOL_MAX bounds each replica's pool of SQLite connections, not PostgreSQL's",
                 "in-memory, one per replica: the embedded stack runs no Redis"),
    "local": ("PostgreSQL, started by the harness", "Redis, started by the harness"),
    "compose": ("PostgreSQL (the compose service)", "Redis (the compose service)"),
    "k8s": ("PostgreSQL, as the cluster's overlay configures it",
            "Redis, as the cluster's overlay configures it"),
}


def backend_lines(stack: str) -> list[list[str]]:
    """[["Database", …], ["Cache", …]]: what the pool and cache numbers are numbers of."""
    database, cache = _BACKENDS.get(stack, ("not known to the harness (an external stack)",
                                            "not known to the harness (an external stack)"))
    return [["Database", database], ["Cache", cache]]


def _server_rows(result: RunResult) -> list[list[str]]:
    server = result.server
    if server is None:
        return []
    return [
        *backend_lines(result.stack),
        ["Scrapes (failed)", f"{server.scrapes:,} ({server.failed_scrapes:,})"],
        ["Requests served", format_number(server.requests)],
        ["p95 latency, server side", format_number(server.p95_ms, "ms")],
        ["Cache hits", format_number(server.cache_hit_percent, "%")],
        ["p95 database query", format_number(server.db_query_p95_ms, "ms")],
        ["Most requests in flight", format_number(server.max_in_flight)],
        ["Most pool connections in use", format_number(server.max_pool_in_use)],
        ["Tickets created", format_number(server.tickets_created)],
        ["SLA breaches", format_number(server.sla_breaches)],
    ]


def _hpa_rows(scaling: Scaling) -> list[list[str]]:
    hpa = scaling.hpa
    rows = []
    if hpa.min_replicas is not None and hpa.max_replicas is not None:
        rows.append(["Replicas", f"{hpa.min_replicas}–{hpa.max_replicas}"])
    for metric, target in hpa.targets.items():
        low, high = hpa.band(metric) or (target, target)
        rows.append([f"{metric} target",
                     f"{format_number(target, '%')} of request "
                     f"(no change within {format_number(low)}–{format_number(high, '%')})"])
    if hpa.sync_period_seconds is not None:
        rows.append(["Sync period", format_number(hpa.sync_period_seconds, "s")])
    if hpa.scale_down_window_seconds is not None:
        rows.append(["Scale-down stabilization",
                     format_number(hpa.scale_down_window_seconds, "s")])
    return rows


def scaling_context(scaling: Scaling | None, charts: Iterable[Any]) -> dict[str, Any]:
    """The Scaling and Connections sections: their charts, the HPA and the decisions table."""
    by_id = {c.id: {"id": c.id, "title": c.title, "caption": c.caption} for c in charts}
    rows = decision_rows(scaling) if scaling is not None else []
    return {
        "shown": scaling is not None,
        "chart": by_id.get("chart-scaling"),
        "hpa": _hpa_rows(scaling) if scaling is not None else [],
        "decisions": rows,
        "decisions_summary": decisions_summary(scaling) if scaling is not None else "",
        "collapsed": len(rows) > DECISIONS_OPEN,
        "connection_charts": [by_id[i] for i in ("chart-connections", "chart-pools")
                              if i in by_id],
    }


def _headroom_rows(result: RunResult) -> dict[str, Any] | None:
    """The Headroom section: the steady state, then each threshold's rate, multiple and basis."""
    if result.headroom is None:
        return None
    rows = [[limit.title,
             format_number(limit.rate, "req/s") if limit.rate is not None else "not by load",
             f"{limit.multiple:.2f}x" if limit.multiple is not None else MISSING,
             limit.basis]
            for limit in result.headroom.limits]
    return {"intro": result.headroom.lines()[0], "rows": rows}


def html_context(result: RunResult) -> dict[str, Any]:
    """Everything report.html shows, as template-ready text (no formatting in the template)."""
    charts = build_charts(result)
    capacity = read_capacity(result)
    capacity_charts = build_capacity_charts(result, capacity)
    checks = []
    for check, observed, threshold, window in reported_checks(result.checks):
        reason, evidence = reason_and_evidence(check)
        checks.append({"verdict": check.verdict.value, "id": check.id, "title": check.title,
                       "observed": observed, "threshold": threshold, "window": window,
                       "evidence": evidence, "reason": reason})
    started, duration = format_run_times(result)
    return {
        "result": result,
        "headroom": _headroom_rows(result),
        "status": result.status.value,
        "headline": STATUS_EXPLANATIONS[result.status],
        "partial_notice": partial_notice(result),
        "started": started,
        "duration": duration,
        "kpis": _kpis(result),
        "checks": checks,
        "charts": [{"id": c.id, "title": c.title, "caption": c.caption} for c in charts],
        "chart_specs": _json_for_script(
            {c.id: figure_json(c) for c in [*charts, *capacity_charts]}
        ),
        "scaling": scaling_context(capacity.scaling, capacity_charts),
        "replay": result.replay,
        "missing_charts": missing_charts(result),
        "stage_colors": {"steady": COLORS["steady"], "stage": COLORS["stage"],
                         "scale": SCALE_COLOR, "fault": FAULT_COLOR},
        "requests": [_stats_row(n, s) for n, s in sorted(result.per_request.items())],
        "groups": [_stats_row(n, s) for n, s in sorted(result.groups.items())],
        "totals": _stats_row("all requests", result.totals),
        "corrected": result.totals.corrected is not None,
        "stages": [
            {
                "index": s.index,
                "name": s.name,
                "window": format_span(s.start, s.end),
                "users": s.users,
                "rate": format_number(s.rate, "req/s") if s.rate else "",
                "steady": s.steady,
            }
            for s in result.stages
        ],
        "server": _server_rows(result),
        "backends": backend_lines(result.stack),
        "errors": sorted(result.errors, key=lambda e: (-e.occurrences, e.name, e.error)),
        "extra": extra_sections({
            **calibration_section(result.calibration),
            **generator_section(result),
            **{k: v for k, v in result.extra.items() if k not in capacity.shown},
        }),
        "endpoints": sorted(result.endpoints.items()),
    }


def render_html(result: RunResult) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    template = environment.get_template("report.html.j2")
    return template.render(plotly_gz=packed_plotly(), plotly_version=plotly_version(),
                           **html_context(result))


@functools.lru_cache(maxsize=1)
def packed_plotly() -> str:
    """plotly.js gzipped and in base64: 4.7 MB become 1.8 MB, and the page stays one file that
    opens offline (the browser unpacks it). Deterministic: no time stamp in the gzip header."""
    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9,
                                          mtime=0)).decode("ascii")


def plotly_version() -> str:
    """The bundled plotly.js's own version, from its header ("* plotly.js v3.0.1")."""
    found = re.search(r"plotly\.js v([0-9][0-9A-Za-z.\-]*)", get_plotlyjs()[:400])
    return found.group(1) if found else "unknown"


# --- the folder ----------------------------------------------------------------------------


def write_report(
    result: RunResult, folder: Path, *, secrets: Iterable[str] | None = None
) -> ReportFiles:
    """Write the four report files into `folder` (created if missing) and return their paths;
    report.html only when load ran.

    `secrets`: values to remove from every file; by default the values of the secret environment
    variables (harness.settings.SECRET_ENV_VARS) that are set. URL credentials go regardless.
    """
    clean = redact_result(result, secrets)
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        results_json=folder / RESULTS_FILE,
        summary_md=folder / "summary.md",
        report_html=folder / "report.html",
        junit_xml=folder / "junit.xml",
    )
    # most important first: if the process is killed mid-way, results.json is already there
    text = clean.to_json()
    write_text(files.results_json, text + "\n")
    check_written("results", text, str(files.results_json))
    write_text(files.junit_xml, render_junit(clean))
    write_text(files.summary_md, render_summary(clean))
    if clean.totals.requests or clean.timeline:
        write_text(files.report_html, render_html(clean))
    # else: no load ran (the run failed before it), so there is nothing to chart; a page of
    # empty charts would still carry megabytes of chart library
    return files
