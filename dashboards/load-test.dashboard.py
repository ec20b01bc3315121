"""Load test: the client's view of a run (the harness's remote-written series) beside the
server's view of the same minutes (the app's own metrics), left and right."""

from harness.provision.dashboards import DashboardContext
from harness.provision.objectives import number, objectives
from harness.provision.panels import (
    RATE,
    Line,
    Query,
    choice_variable,
    dashboard,
    layout,
    row,
    stat,
    timeseries,
)
from harness.provision.promql import DURATION, REQUESTS, SERVICE_TRAFFIC, error_ratio, quantile

RUN = 'run_id=~"$run_id"'
CLIENT_REQUESTS = "harness_requests_total"
CLIENT_DURATION = "harness_request_duration_seconds"
REPLICAS = ('max(kube_horizontalpodautoscaler_status_current_replicas{namespace=~"$namespace"})'
            " or count(servicedesk_build_info)")


def build(ctx: DashboardContext):
    slo = ctx.slo
    budget = objectives(slo)[0].budget
    p95 = (slo.latency.p95_ms or 0) / 1000
    p99 = (slo.latency.p99_ms or 0) / 1000
    latency_lines = [Line(v, c) for v, c in ((p95, "orange"), (p99, "red")) if v]
    client_rate = f"sum(rate({CLIENT_REQUESTS}{{{RUN}}}[{RATE}]))"
    client_failed = (f'sum(rate({CLIENT_REQUESTS}{{{RUN},result="failure"}}[{RATE}])) / '
                     f"{client_rate}")
    server_rate = f"sum(rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{RATE}]))"

    def client(q: float) -> str:
        return quantile(q, CLIENT_DURATION, RATE, selector=RUN)

    def server(q: float) -> str:
        return quantile(q, DURATION, RATE, selector=SERVICE_TRAFFIC)

    slo_note = (f"dashed: the p95 ({number(p95 * 1000)} ms) and p99 ({number(p99 * 1000)} ms) "
                "objectives")
    panels = layout(
        [
            stat("Client requests/s", Query(client_rate), unit="reqps",
                 description="Requests the load generator completed per second."),
            stat("Client p95", Query(client(0.95)), unit="s", lines=[Line(p95)],
                 description="Measured by the load generator, network and queueing included."),
            stat("Client failures", Query(client_failed), unit="percentunit", decimals=2,
                 lines=[Line(budget)], description="Failed requests (errors, timeouts, no "
                 f"answer); red above the error budget ({number(budget * 100)} %)."),
            stat("Server requests/s", Query(server_rate), unit="reqps",
                 description="User requests the app answered per second."),
            stat("Server p95", Query(server(0.95)), unit="s", lines=[Line(p95)],
                 description="From the app's own histogram: time inside the app only."),
            stat("Server 5xx", Query(error_ratio(RATE)), unit="percentunit", decimals=2,
                 lines=[Line(budget)], description="Share of 5xx answers."),
        ],
        [row("Latency: client | server")],
        [
            timeseries("Client latency p50 / p95 / p99",
                       [Query(client(0.5), "p50"), Query(client(0.95), "p95"),
                        Query(client(0.99), "p99")],
                       unit="s", lines=latency_lines,
                       description=f"From the harness's histograms (actual send); {slo_note}."),
            timeseries("Server latency p50 / p95 / p99",
                       [Query(server(0.5), "p50"), Query(server(0.95), "p95"),
                        Query(server(0.99), "p99")],
                       unit="s", lines=latency_lines,
                       description=f"From the app's histogram; {slo_note}. A gap to the "
                       "client's is time outside the app (network, proxy, queues)."),
        ],
        [row("Throughput and errors: client | server")],
        [
            timeseries("Client requests/s: achieved, intended, failed",
                       [Query(f"sum(harness_achieved_requests_per_second{{{RUN}}})", "achieved"),
                        Query(f"sum(harness_intended_requests_per_second{{{RUN}}})",
                              "intended (arrival rate)"),
                        Query(f'sum(rate({CLIENT_REQUESTS}{{{RUN},result="failure"}}[{RATE}]))',
                              "failed")],
                       unit="reqps", description="Intended: what an arrival-rate stage asks "
                       "for; below it, the generator or the system fell behind."),
            timeseries("Server requests/s by status",
                       [Query(f"sum by (status) (rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{RATE}]))",
                              "{{status}}")],
                       unit="reqps", stacked=True, description="User requests by HTTP status."),
        ],
        [row("Load and capacity: client | server")],
        [
            timeseries("Users and replicas seen by the harness",
                       [Query(f"sum(harness_users{{{RUN}}})", "users"),
                        Query(f"max(harness_replicas{{{RUN}}})", "replicas")],
                       unit="none", description="Simulated users (an arrival-rate stage's "
                       "concurrency) and the replicas serving, as the harness saw them."),
            timeseries("Replicas and in-flight requests",
                       [Query(REPLICAS, "replicas"),
                        Query("sum(servicedesk_http_requests_in_flight)", "in flight")],
                       unit="none", description="The HPA's replicas (kube-state-metrics) or "
                       "those reporting metrics; requests being handled."),
        ],
        [row("Load generator")],
        [
            timeseries("Generator CPU (of one core) and its wait for a core",
                       [Query(f"max by (generator) (harness_generator_cpu_ratio{{{RUN}}})",
                              "{{generator}}"),
                        Query(f"max by (generator) (harness_generator_cpu_wait_ratio{{{RUN}}})",
                              "{{generator}} waiting")],
                       unit="percentunit", lines=[Line(0.9)], minimum=0,
                       description="At 90 % the generator saturates and its latency is "
                       "untrusted (the run's verdict says so). Waiting: ready to run but "
                       "descheduled; that time is added to the latencies it records."),
            timeseries("Generator event-loop lag (p99)",
                       [Query(f"max by (generator) (harness_generator_loop_lag_seconds{{{RUN}}})",
                              "{{generator}}")],
                       unit="s", lines=[Line(0.005)], minimum=0,
                       description="How late the generator noticed responses; from 5 ms "
                       "(median) an interval counts as saturated."),
        ],
    )
    return dashboard(
        uid="servicedesk-load-test",
        title="ServiceDesk / Load test",
        description="A load test run as the client measured it, beside the server's view.",
        tags=["load-test"],
        panels=panels,
        extra_variables=[choice_variable("run_id", "Run",
                                         "label_values(harness_run_info, run_id)")],
    )
