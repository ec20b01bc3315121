"""SLA Metrics: each SLO over its compliance period, error budget left, burn rates, and the
ticket SLA (breaches, open tickets). Reads the recording rules of `harness rules build`."""

from harness.provision.dashboards import DashboardContext
from harness.provision.objectives import (
    BURN_WINDOWS,
    number,
    objectives,
    prometheus_duration,
)
from harness.provision.panels import RATE, Line, Query, dashboard, layout, row, stat, timeseries
from harness.provision.rules import sli_record


def build(ctx: DashboardContext):
    slo = ctx.slo
    period = prometheus_duration(slo.compliance_period)
    found = objectives(slo)

    def labels(objective) -> str:
        return f'{{service="{slo.service}",slo="{objective.slo}"}}'

    stats = []
    burn_panels = []
    for objective in found:
        good = f"1 - {sli_record(period)}{labels(objective)}"
        stats.append(
            stat(f"{objective.slo} ({period})", Query(good), unit="percentunit", decimals=3,
                 base="red", lines=[Line(objective.target, "green")],
                 description=f"SLO: {objective.description}. Green at or above "
                 f"{number(objective.target * 100)} %.")
        )
        stats.append(
            stat(f"{objective.slo} budget left", Query(
                f"slo:period_error_budget_remaining:ratio{labels(objective)}"),
                unit="percentunit", decimals=1, base="red", lines=[Line(0, "green")],
                description=f"Share of the {period} error budget "
                f"({number(objective.budget * 100)} % of requests) not yet spent.")
        )
        burn_panels.append(
            timeseries(
                f"{objective.slo} burn rate",
                [
                    Query(f"{sli_record(prometheus_duration(w.long_seconds))}{labels(objective)}"
                          f" / {number(objective.budget)}", prometheus_duration(w.long_seconds))
                    for w in BURN_WINDOWS
                ],
                unit="none",
                lines=[Line(w.factor(slo.compliance_period),
                            "red" if w.severity == "page" else "orange") for w in BURN_WINDOWS],
                description="How fast the error budget burns (1 = exactly the budget over the "
                "period). Dashed: the alert thresholds of each window (red: page, orange: "
                "ticket); an alert also needs the short window above the same line.",
            )
        )
    panels = layout(
        stats,
        [row("Error budget burn")],
        burn_panels,
        [row("Ticket SLA")],
        [
            timeseries("SLA breaches per hour by priority",
                       [Query("sum by (priority) (rate(servicedesk_sla_breaches_total"
                              f"[{RATE}])) * 3600", "{{priority}}")],
                       unit="none", stacked=True,
                       description="Tickets that passed their response due time unresolved "
                       "(counted once across replicas)."),
            timeseries("Open tickets by priority",
                       [Query("max by (priority) (servicedesk_tickets_open)", "{{priority}}")],
                       unit="none", stacked=True,
                       description="Unresolved tickets in the database."),
            timeseries("Tickets created per hour by priority",
                       [Query("sum by (priority) (rate(servicedesk_tickets_created_total"
                              f"[{RATE}])) * 3600", "{{priority}}")],
                       unit="none", stacked=True, description="New tickets."),
        ],
    )
    return dashboard(
        uid="servicedesk-sla",
        title="ServiceDesk / SLA Metrics",
        description=f"The SLOs of loadtests/slo.yaml over {period}, error budgets and burn "
        "rates (from the generated recording rules), and the ticket SLA.",
        tags=["sla", "slo"],
        panels=panels,
    )
