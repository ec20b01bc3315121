"""Application Overview: traffic, errors, latency against the SLO, replicas against the HPA."""

from harness.provision.dashboards import DashboardContext
from harness.provision.objectives import number, objectives
from harness.provision.panels import RATE, Line, Query, dashboard, layout, row, stat, timeseries
from harness.provision.promql import DURATION, REQUESTS, SERVICE_TRAFFIC, error_ratio, quantile

# Only the app's own processes: every replica exposes servicedesk_build_info.
OWN = "on (instance) servicedesk_build_info"
# On Kubernetes the HPA's own count (kube-state-metrics), elsewhere the replicas reporting.
REPLICAS = ('max(kube_horizontalpodautoscaler_status_current_replicas{namespace=~"$namespace"})'
            " or count(servicedesk_build_info)")


def build(ctx: DashboardContext):
    slo, stack = ctx.slo, ctx.stack
    availability = objectives(slo)[0]
    p95 = (slo.latency.p95_ms or 0) / 1000
    p99 = (slo.latency.p99_ms or 0) / 1000
    latency_lines = [Line(v, c) for v, c in ((p95, "orange"), (p99, "red")) if v]
    requests = f"sum(rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{RATE}]))"

    def latency(q: float) -> str:
        return quantile(q, DURATION, RATE, selector=SERVICE_TRAFFIC)

    cpu_lines = []
    if stack.cpu_target_percent:
        cpu_lines.append(Line(stack.cpu_target_percent / 100, "orange"))
    memory_lines = []
    if stack.memory_target_percent:
        memory_lines.append(Line(stack.memory_target_percent / 100, "orange"))
    panels = layout(
        [
            stat("Requests/s", Query(requests), unit="reqps",
                 description="User requests answered per second (probes and scrapes left out)."),
            stat("Server error ratio", Query(error_ratio(RATE)), unit="percentunit", decimals=2,
                 lines=[Line(availability.budget)],
                 description=f"Share of 5xx answers; red above the error budget "
                 f"({number(availability.budget * 100)} %)."),
            stat("p95 latency", Query(latency(0.95)), unit="s", lines=[Line(p95)],
                 description=f"Red above the p95 objective ({number(p95 * 1000)} ms)."),
            stat("Replicas", Query(REPLICAS), unit="none",
                 lines=[Line(stack.max_replicas)],
                 description=f"The HPA's current replicas (kube-state-metrics), else the "
                 f"replicas reporting metrics; the HPA allows "
                 f"{stack.min_replicas}-{stack.max_replicas} (red at the maximum)."),
            stat("Open tickets", Query("sum(max by (priority) (servicedesk_tickets_open))"),
                 unit="none", description="Unresolved tickets (every replica reports the "
                 "database's count, so each priority is taken once)."),
            stat("In flight", Query("sum(servicedesk_http_requests_in_flight)"), unit="none",
                 description="Requests being handled right now, all replicas."),
        ],
        [row("Traffic and latency")],
        [
            timeseries("Requests/s by status",
                       [Query(f"sum by (status) (rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{RATE}]))",
                              "{{status}}")],
                       unit="reqps", stacked=True,
                       description="User requests per second by HTTP status."),
            timeseries("Latency p50 / p95 / p99",
                       [Query(latency(0.5), "p50"), Query(latency(0.95), "p95"),
                        Query(latency(0.99), "p99")],
                       unit="s", lines=latency_lines,
                       description="From the app's histogram; dashed lines: the p95 and p99 "
                       "objectives of loadtests/slo.yaml."),
        ],
        [row("Replicas")],
        [
            timeseries("CPU per replica (share of the request)",
                       [Query(f"(rate(process_cpu_seconds_total[{RATE}]) and {OWN})"
                              f" / {number(stack.cpu_request_cores or 1)}", "{{instance}}")],
                       unit="percentunit", lines=cpu_lines,
                       description=f"CPU used / the Deployment's request "
                       f"({number(stack.cpu_request_cores or 1)} cores); the dashed line is "
                       f"the HPA's target ({stack.cpu_target_percent} %)."),
            timeseries("Memory per replica (share of the request)",
                       [Query(f"(process_resident_memory_bytes and {OWN})"
                              f" / {stack.memory_request_bytes or 1}", "{{instance}}")],
                       unit="percentunit", lines=memory_lines,
                       description=f"Resident memory / the Deployment's request; the dashed "
                       f"line is the HPA's target ({stack.memory_target_percent} %)."),
            timeseries("In-flight requests per replica",
                       [Query("sum by (instance) (servicedesk_http_requests_in_flight)",
                              "{{instance}}")],
                       unit="none", description="Concurrency per replica."),
        ],
    )
    return dashboard(
        uid="servicedesk-overview",
        title="ServiceDesk / Application Overview",
        description="Traffic, errors, latency against the SLO, replicas against the HPA.",
        tags=["overview"],
        panels=panels,
    )
