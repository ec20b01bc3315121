"""API Performance: per-route traffic, latency and errors, and each SLO group's latency against
its own objectives (loadtests/slo.yaml `groups`)."""

from harness.provision.dashboards import DashboardContext
from harness.provision.objectives import number, objectives
from harness.provision.panels import RATE, Line, Query, dashboard, layout, row, timeseries
from harness.provision.promql import (
    DURATION,
    REQUESTS,
    SERVICE_TRAFFIC,
    group_quantile,
    le,
    quantile,
)

BY_ROUTE = "{{method}} {{route}}"


def build(ctx: DashboardContext):
    slo = ctx.slo
    availability = objectives(slo)[0]
    p95 = (slo.latency.p95_ms or 0) / 1000
    p99 = (slo.latency.p99_ms or 0) / 1000

    def per_route(q: float) -> str:
        return quantile(q, DURATION, RATE, by=("method", "route"), selector=SERVICE_TRAFFIC)

    group_panels = []
    for name, group in sorted(slo.groups.items()):
        lines = [Line(v / 1000, c) for v, c in ((group.p95_ms, "orange"), (group.p99_ms, "red"))
                 if v]
        group_panels.append(
            timeseries(f"Group {name}: latency p95 / p99",
                       [Query(group_quantile(0.95, group.requests, RATE), "p95"),
                        Query(group_quantile(0.99, group.requests, RATE), "p99")],
                       unit="s", lines=lines,
                       description=f"{group.description or name}: "
                       f"{', '.join(group.requests)}. Dashed: this group's objectives.")
        )
    rows = [
        [
            timeseries("Requests/s by route",
                       [Query(f"sum by (method, route) (rate({REQUESTS}{{{SERVICE_TRAFFIC}}}"
                              f"[{RATE}]))", BY_ROUTE)],
                       unit="reqps", stacked=True, description="User requests per route."),
            timeseries("Server error ratio by route",
                       [Query(f'1 - (sum by (method, route) (rate({REQUESTS}{{{SERVICE_TRAFFIC},'
                              f'status!~"5.."}}[{RATE}])) / sum by (method, route) '
                              f"(rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{RATE}])))", BY_ROUTE)],
                       unit="percentunit", lines=[Line(availability.budget)],
                       description="Share of 5xx answers per route; dashed: the error budget "
                       f"({number(availability.budget * 100)} %)."),
            timeseries("Client errors/s by route and status",
                       [Query(f"sum by (method, route, status) (rate({REQUESTS}"
                              f'{{{SERVICE_TRAFFIC},status=~"4.."}}[{RATE}]))',
                              "{{method}} {{route}} {{status}}")],
                       unit="reqps", description="4xx answers: bad input, missing tickets, "
                       "authentication and permission failures."),
        ],
        [row("Latency by route")],
        [
            timeseries("p95 latency by route", [Query(per_route(0.95), BY_ROUTE)], unit="s",
                       lines=[Line(p95)] if p95 else [],
                       description="Dashed: the service's p95 objective."),
            timeseries("p99 latency by route", [Query(per_route(0.99), BY_ROUTE)], unit="s",
                       lines=[Line(p99)] if p99 else [],
                       description="Dashed: the service's p99 objective."),
            timeseries(f"Requests slower than {number(p95 * 1000)} ms by route",
                       [Query(f'1 - (sum by (method, route) (rate({DURATION}_bucket'
                              f'{{{SERVICE_TRAFFIC},le="{le(p95)}"}}[{RATE}])) / '
                              f"sum by (method, route) (rate({DURATION}_count"
                              f"{{{SERVICE_TRAFFIC}}}[{RATE}])))", BY_ROUTE)],
                       unit="percentunit", lines=[Line(round(1 - 0.95, 12))],
                       description="Share of each route's requests over the p95 objective; "
                       "above 5 % the route's p95 misses it."),
        ],
    ]
    if group_panels:
        rows += [[row("SLO groups")], group_panels]
    return dashboard(
        uid="servicedesk-api",
        title="ServiceDesk / API Performance",
        description="Per-route traffic, latency and errors; each SLO group against its "
        "objectives.",
        tags=["api"],
        panels=layout(*rows),
    )
