"""The capacity report: capacity.md and capacity.html (charts), plus capacity.json."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.atomic import write_json, write_text
from harness.compare import page
from harness.plan.capacity import (
    GENERATOR_SATURATED,
    TICKET_ENTRY_BYTES,
    CapacityPlan,
    EnvironmentPlan,
    replicas_for,
)
from harness.plan.stages import StageLoad

__all__ = ["PlanFiles", "plan_json", "render_plan_html", "render_plan_markdown", "write_plan"]

MIB = 2**20


@dataclass(frozen=True)
class PlanFiles:
    markdown: Path
    html: Path
    json: Path


def _n(value: float | None, digits: int = 1, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip()


def _yes(value: bool | None, yes: str = "fits", no: str = "does NOT fit") -> str:
    return "—" if value is None else (yes if value else no)


def _mib(value: float | None) -> str:
    return "—" if value is None else f"{value / MIB:,.1f} MiB"


def headline(plan: CapacityPlan) -> str:
    knee = plan.knee
    stage = knee.stage
    if stage is None:
        where = "no knee: every stage stayed within the SLO"
    elif not knee.found:
        where = (f"no knee of the system: the {GENERATOR_SATURATED} at {stage.users} users "
                 "first")
    else:
        where = (f"knee at {stage.users} users ({knee.cause}); last good stage "
                 f"{knee.last_good.users if knee.last_good else '—'} users at "
                 f"{_n(knee.capacity_rps)} req/s")
        if knee.crossing_users is not None:
            where += (f"; p95 crosses the SLO near {knee.crossing_users:.0f} users "
                      f"({_n(knee.crossing_rps, 0)} req/s)")
    per = plan.cpu.rps_at_target
    return f"{where}; one replica carries {_n(per)} req/s at the HPA CPU target"


def _status(plan: CapacityPlan) -> str:
    main = [e for e in plan.environments if e.target in ("base", "overlays/production")]
    if any(e.fits is False or e.db_fits is False or e.redis_fits is False for e in main):
        return "over"
    return "fits" if plan.cpu.rps_at_target else "no-data"


def _stage_rows(plan: CapacityPlan) -> list[tuple[str, ...]]:
    knee = plan.knee.stage.index if plan.knee.stage else None
    rows: list[tuple[str, ...]] = []
    for s in plan.stages:
        mark = "knee" if s.index == knee else ("out" if knee is not None and s.index > knee
                                                else "ok")
        rows.append((mark, s.name, str(s.users), _n(s.rps), _n(s.p50_ms), _n(s.p95_ms),
                     _n(s.p99_ms), _n(s.error_percent, 3), _n(s.replicas, 2),
                     _n(s.rps_per_replica), _n(s.cpu_percent_per_replica),
                     _n(s.cpu_ms_per_request, 2),
                     "—" if s.db_connections is None else str(s.db_connections),
                     _generator_cell(s)))
    return rows


STAGE_HEADER = ("", "stage", "users", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors %",
                "replicas", "req/s per replica", "CPU % per replica", "CPU ms per request",
                "DB connections", "load generator CPU %")


def _generator_cell(stage: StageLoad) -> str:
    cpu = _n(stage.generator_cpu_percent, 0)
    if stage.saturated_intervals:
        return f"{cpu} (saturated in {stage.saturated_intervals} interval(s))"
    return cpu


def _env_rows(plan: CapacityPlan) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for e in plan.environments:
        bounds = (f"{e.min_replicas}–{e.max_replicas}" if e.autoscaled
                  else f"{e.max_replicas} (fixed)")
        limit = min(e.redis_maxmemory or math.inf, e.redis_instance_bytes or math.inf)
        rows.append((
            e.target, bounds, str(e.replicas_needed) if e.replicas_needed is not None else "—",
            _yes(e.fits),
            f"{e.db_connections_needed} / {e.db_connections_budget}"
            if e.db_connections_needed is not None else "—",
            _yes(e.db_fits),
            f"{_mib(e.redis_bytes_needed)} / {_mib(limit)}",
            _yes(e.redis_fits),
            e.db_instance or "(developer's)", e.redis_instance or "(developer's)",
            f"{e.monthly_total:,.0f}",
        ))
    return rows


ENV_HEADER = ("environment", "replicas (HPA)", "needed", "fits", "DB connections / budget",
              "DB", "Redis memory / limit", "Redis", "database", "cache", "USD / month")


def _method(plan: CapacityPlan) -> dict[str, str]:
    """How each number was made, by topic (knee, cpu, projected, db, redis, prices)."""
    i, cpu = plan.inputs, plan.cpu
    lines = {
        "knee": f"Knee: the first stage whose p95 exceeds the SLO ({i.slo_p95_ms:g} ms, "
        f"loadtests/slo.yaml) or whose error rate exceeds {i.max_error_percent:g} %. Each stage "
        "is judged on its settled part (its last 60 %).",
        "cpu": f"CPU model ({cpu.method}, stages {', '.join(str(s) for s in cpu.stages) or '—'}): "
        f"per-replica CPU = {cpu.intercept_percent:.2f} % + {cpu.slope_percent_per_rps:.4f} % "
        f"x per-replica req/s. The HPA target is {cpu.target_percent:g} % of one core (the "
        "CPU target times the pod's CPU request, stack/k8s/base), so one replica carries "
        f"({cpu.target_percent:g} − {cpu.intercept_percent:.2f}) / "
        f"{cpu.slope_percent_per_rps:.4f} = {_n(cpu.rps_at_target)} req/s there.",
    }
    if plan.projected_rps is not None and cpu.rps_at_target:
        source = ("--projected-rps" if i.projected_rps is not None else
                  f"the run's throughput at the peak scenario's {i.reference_users} users "
                  f"({_n(plan.current_rps)} req/s)"
                  + (f" × growth {i.growth:g}" if i.growth is not None else ""))
        lines["projected"] = (
            f"Projected load: {_n(plan.projected_rps)} req/s ({source}). Replicas = "
            f"ceil({_n(plan.projected_rps)} × (1 + {i.headroom:g} headroom) / "
            f"{_n(cpu.rps_at_target)}) = ceil({_n(plan.replicas_exact, 2)}), at least the "
            "environment's minReplicas.")
    lines.update({
        "db": "Database connections: (replicas + maxSurge) × DB_POOL_MAX "
        f"({i.pool_max}) against max_connections − superuser_reserved_connections − "
        "headroom (stack/environments.yaml).",
        "redis": "Redis memory: ticket reads are "
        f"{plan.ticket_read_share:.1%} of requests and each body is cached for "
        f"CACHE_TTL_SECONDS ({i.cache_ttl_seconds:g} s), so at most projected × "
        f"{plan.ticket_read_share:.3f} × {i.cache_ttl_seconds:g} keys live at once, "
        f"{TICKET_ENTRY_BYTES} bytes each; the limit is the smaller of maxmemory and the "
        "instance's memory.",
        "prices": f"Prices: {plan.prices.source_file}, {plan.prices.region}, "
        f"{plan.prices.currency}, as of {plan.prices.as_of} ({plan.prices.retrieved}); "
        f"{plan.prices.hours_per_month:g} hours a month; pods priced as Fargate requests.",
    })
    return lines


def render_plan_markdown(plan: CapacityPlan) -> str:
    out = [f"# Capacity plan from run {plan.run_id} ({plan.scenario})", "",
           f"**{headline(plan)}**", ""]
    out += ["## Stages", "", "| " + " | ".join(STAGE_HEADER) + " |",
            "|" + "---|" * len(STAGE_HEADER)]
    out += ["| " + " | ".join(r) + " |" for r in _stage_rows(plan)]
    out += ["", "## Environments at the projected load", "",
            f"Projected: {_n(plan.projected_rps)} req/s with {plan.inputs.headroom:.0%} headroom "
            f"→ {_n(plan.replicas_exact, 2)} replicas' worth.", "",
            "| " + " | ".join(ENV_HEADER) + " |", "|" + "---|" * len(ENV_HEADER)]
    out += ["| " + " | ".join(r) + " |" for r in _env_rows(plan)]
    out += ["", "### Monthly cost lines", ""]
    for e in plan.environments:
        items = "; ".join(f"{c.item} {c.monthly:,.2f}" for c in e.costs) or "nothing priced"
        out.append(f"- {e.target}: {items} = **{e.monthly_total:,.2f} {plan.prices.currency}**")
    method = _method(plan).values()
    out += ["", "## How these numbers were made", "", *(f"- {line}" for line in method)]
    if plan.notes:
        out += ["", "## Notes", "", *(f"- {n}" for n in plan.notes)]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- charts


def _knee_shapes(plan: CapacityPlan) -> list[dict[str, Any]]:
    if plan.knee.stage is None:
        return []
    x = plan.knee.crossing_users if plan.knee.crossing_users is not None else plan.knee.stage.users
    return [{"type": "line", "x0": x, "x1": x, "yref": "paper", "y0": 0, "y1": 1,
             "line": {"color": "#c62828", "dash": "dash", "width": 2}}]


def _knee_annotation(plan: CapacityPlan) -> list[dict[str, Any]]:
    if plan.knee.stage is None:
        return []
    x = plan.knee.crossing_users if plan.knee.crossing_users is not None else plan.knee.stage.users
    return [{"x": x, "y": 1, "yref": "paper", "text": f"knee ({plan.knee.cause})",
             "showarrow": False, "xanchor": "left", "yanchor": "top",
             "font": {"color": "#c62828"}}]


def _latency_chart(plan: CapacityPlan) -> page.ChartSpec:
    users = [s.users for s in plan.stages]
    data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines+markers", "name": name, "x": users,
         "y": [getattr(s, f"{name}_ms") for s in plan.stages], "line": {"color": color}}
        for name, color in (("p50", "#0d9488"), ("p95", "#d97706"), ("p99", "#dc2626"))
    ]
    data.append({"type": "scatter", "mode": "lines", "name": "SLO p95",
                 "x": [min(users), max(users)], "y": [plan.inputs.slo_p95_ms] * 2,
                 "line": {"color": "#111827", "dash": "dot"}})
    layout = page.base_layout("offered load (users)", "latency (ms)", shapes=_knee_shapes(plan),
                              annotations=_knee_annotation(plan))
    layout["yaxis"]["type"] = "log"
    layout["yaxis"].pop("rangemode", None)
    return page.ChartSpec("chart-latency", "Latency against offered load", tuple(data), layout,
                          "Per stage, over its settled part; the dashed line marks the knee.")


def _throughput_chart(plan: CapacityPlan) -> page.ChartSpec:
    data = (
        {"type": "scatter", "mode": "lines+markers", "name": "req/s",
         "x": [s.users for s in plan.stages], "y": [s.rps for s in plan.stages],
         "line": {"color": "#2563eb"}},
        {"type": "scatter", "mode": "lines+markers", "name": "errors %", "yaxis": "y2",
         "x": [s.users for s in plan.stages], "y": [s.error_percent for s in plan.stages],
         "line": {"color": "#dc2626", "dash": "dot"}},
    )
    layout = page.base_layout("offered load (users)", "throughput (req/s)",
                              shapes=_knee_shapes(plan), annotations=_knee_annotation(plan))
    layout["yaxis2"] = {"title": {"text": "errors (%)"}, "overlaying": "y", "side": "right",
                        "rangemode": "tozero"}
    return page.ChartSpec("chart-throughput", "Throughput against offered load", data, layout)


def _cpu_chart(plan: CapacityPlan) -> page.ChartSpec:
    cpu = plan.cpu
    fitted = [s for s in plan.stages if s.index in cpu.stages]
    others = [s for s in plan.stages if s.index not in cpu.stages and s.replicas > 0]
    top = max([s.rps_per_replica for s in plan.stages] + [cpu.rps_at_target or 0.0, 1.0]) * 1.1
    data = [
        {"type": "scatter", "mode": "markers+text", "name": "stages in the fit",
         "x": [s.rps_per_replica for s in fitted], "y": [s.cpu_percent_per_replica for s in fitted],
         "text": [str(s.users) for s in fitted], "textposition": "top center",
         "marker": {"color": "#2563eb", "size": 9}},
        {"type": "scatter", "mode": "markers+text", "name": "stages past the knee",
         "x": [s.rps_per_replica for s in others], "y": [s.cpu_percent_per_replica for s in others],
         "text": [str(s.users) for s in others], "textposition": "top center",
         "marker": {"color": "#94a3b8", "size": 9}},
        {"type": "scatter", "mode": "lines", "name": "fit", "x": [0, top],
         "y": [cpu.intercept_percent, cpu.intercept_percent + cpu.slope_percent_per_rps * top],
         "line": {"color": "#2563eb", "dash": "dot"}},
        {"type": "scatter", "mode": "lines", "name": "HPA target", "x": [0, top],
         "y": [cpu.target_percent] * 2, "line": {"color": "#d97706", "dash": "dash"}},
    ]
    if cpu.rps_at_target:
        data.append({"type": "scatter", "mode": "markers", "name": "req/s at target",
                     "x": [cpu.rps_at_target], "y": [cpu.target_percent],
                     "marker": {"symbol": "diamond", "size": 12, "color": "#d97706"}})
    return page.ChartSpec(
        "chart-cpu", "Per-replica CPU against per-replica throughput", tuple(data),
        page.base_layout("req/s per replica", "CPU per replica (% of one core)"),
        "Labels: the stage's users.")


def _replicas_chart(plan: CapacityPlan) -> page.ChartSpec:
    per = plan.cpu.rps_at_target or 0.0
    data: list[dict[str, Any]] = []
    if per > 0:
        top = max(plan.projected_rps or 0.0, per) * 2.0
        xs = [round(top * k / 200.0, 3) for k in range(201)]
        data.append({"type": "scatter", "mode": "lines", "name": "replicas needed",
                     "x": xs, "y": [replicas_for(x, per, plan.inputs.headroom) for x in xs],
                     "line": {"shape": "hv", "color": "#2563eb"}})
        for env in plan.environments:
            if env.autoscaled:
                data.append({"type": "scatter", "mode": "lines",
                             "name": f"{env.target} maxReplicas {env.max_replicas}",
                             "x": [0, top], "y": [env.max_replicas] * 2,
                             "line": {"dash": "dash", "width": 1}})
        if plan.projected_rps is not None:
            data.append({"type": "scatter", "mode": "markers", "name": "projected",
                         "x": [plan.projected_rps],
                         "y": [replicas_for(plan.projected_rps, per, plan.inputs.headroom)],
                         "marker": {"symbol": "star", "size": 14, "color": "#d97706"}})
    return page.ChartSpec("chart-replicas", "Replicas against projected load", tuple(data),
                          page.base_layout("projected load (req/s)", "replicas"),
                          f"With {plan.inputs.headroom:.0%} headroom over the projected load.")


def render_plan_html(plan: CapacityPlan) -> str:
    stage_table = page.Table("stages", STAGE_HEADER, tuple(
        page.Row(r, css={"knee": "fail", "out": "skipped"}.get(r[0], ""))
        for r in _stage_rows(plan)),
        numeric=frozenset(range(2, 13)))
    env_table = page.Table("environments", ENV_HEADER, tuple(
        page.Row(r, css="fail" if "does NOT fit" in r else "") for r in _env_rows(plan)),
        numeric=frozenset({2, 10}))
    cost_table = page.Table("costs", ("environment", "item", f"{plan.prices.currency} / month"),
                            tuple(page.Row((e.target, c.item, f"{c.monthly:,.2f}"))
                                  for e in plan.environments for c in e.costs),
                            numeric=frozenset({2}))
    production = next((e for e in plan.environments if e.target == "overlays/production"), None)
    kpis = [
        page.Kpi("knee", f"{plan.knee.stage.users} users" if plan.knee.found and plan.knee.stage
                 else "none", plan.knee.cause or "within the SLO throughout",
                 alert=plan.knee.stage is not None),
        page.Kpi("capacity within SLO", _n(plan.knee.capacity_rps, 0, "req/s"), "last good stage"),
        page.Kpi("per replica at target", _n(plan.cpu.rps_at_target, 0, "req/s"),
                 f"{plan.cpu.target_percent:g} % of a core"),
        page.Kpi("projected", _n(plan.projected_rps, 0, "req/s"),
                 f"{_n(plan.replicas_exact, 2)} replicas' worth"),
    ]
    if production is not None:
        kpis.append(page.Kpi("production", f"{production.replicas_needed} replicas",
                             f"max {production.max_replicas}: {_yes(production.fits)}",
                             alert=production.fits is False))
    method = _method(plan)

    def about(*keys: str) -> tuple[str, ...]:
        return tuple(method[k] for k in keys if k in method)

    return page.render_page(page.Page(
        title=f"Capacity plan · {plan.run_id}",
        status=_status(plan),
        headline=headline(plan),
        meta=(("Run", plan.run_id), ("Scenario", plan.scenario),
              ("Prices", f"{plan.prices.region}, as of {plan.prices.as_of}")),
        kpis=tuple(kpis),
        sections=(
            page.Section("saturation", "Saturation", about("knee"),
                         tables=(stage_table,),
                         charts=(_latency_chart(plan), _throughput_chart(plan))),
            page.Section("replicas", "Replicas", about("cpu", "projected"),
                         charts=(_cpu_chart(plan), _replicas_chart(plan))),
            page.Section("environments", "Environments", about("db", "redis", "prices"),
                         tables=(env_table, cost_table)),
            page.Section("notes", "Notes", plan.notes or ("none",)),
        ),
    ))


def _env_json(e: EnvironmentPlan) -> dict[str, Any]:
    return {
        "target": e.target, "autoscaled": e.autoscaled, "min_replicas": e.min_replicas,
        "max_replicas": e.max_replicas, "replicas_needed": e.replicas_needed,
        "replicas": e.replicas, "fits": e.fits, "db_instance": e.db_instance,
        "db_connections_needed": e.db_connections_needed,
        "db_connections_budget": e.db_connections_budget, "db_fits": e.db_fits,
        "redis_instance": e.redis_instance, "redis_bytes_needed": e.redis_bytes_needed,
        "redis_maxmemory": e.redis_maxmemory, "redis_fits": e.redis_fits,
        "costs": [{"item": c.item, "monthly": c.monthly} for c in e.costs],
        "monthly_total": e.monthly_total,
    }


def plan_json(plan: CapacityPlan) -> dict[str, Any]:
    knee = plan.knee
    return {
        "version": 1, "run_id": plan.run_id, "scenario": plan.scenario,
        "knee": {"users": knee.stage.users if knee.stage else None, "cause": knee.cause,
                 "last_good_users": knee.last_good.users if knee.last_good else None,
                 "capacity_rps": knee.capacity_rps, "crossing_users": knee.crossing_users,
                 "crossing_rps": knee.crossing_rps, "found": knee.found,
                 "why_not": knee.why_not or None},
        "cpu": {"intercept_percent": plan.cpu.intercept_percent,
                "slope_percent_per_rps": plan.cpu.slope_percent_per_rps,
                "target_percent": plan.cpu.target_percent, "method": plan.cpu.method,
                "rps_per_replica_at_target": plan.cpu.rps_at_target},
        "current_rps": plan.current_rps, "projected_rps": plan.projected_rps,
        "headroom": plan.inputs.headroom, "replicas_exact": plan.replicas_exact,
        "stages": [{"name": s.name, "users": s.users, "rps": s.rps, "p50_ms": s.p50_ms,
                    "p95_ms": s.p95_ms, "p99_ms": s.p99_ms, "error_percent": s.error_percent,
                    "replicas": s.replicas, "cpu_cores": s.cpu_cores, "exact": s.exact}
                   for s in plan.stages],
        "environments": [_env_json(e) for e in plan.environments],
        "prices": {"file": plan.prices.source_file, "as_of": plan.prices.as_of,
                   "region": plan.prices.region, "currency": plan.prices.currency},
        "notes": list(plan.notes),
    }


def write_plan(folder: Path, plan: CapacityPlan) -> PlanFiles:
    files = PlanFiles(folder / "capacity.md", folder / "capacity.html", folder / "capacity.json")
    write_json(files.json, plan_json(plan))
    write_text(files.markdown, render_plan_markdown(plan))
    write_text(files.html, render_plan_html(plan))
    return files
