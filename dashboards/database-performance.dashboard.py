"""Database Performance: the connection pools against DB_POOL_MAX and the acquire timeout, the
connection budget against PostgreSQL's max_connections, and query latency."""

from harness.provision.dashboards import DashboardContext
from harness.provision.objectives import number
from harness.provision.panels import RATE, Line, Query, dashboard, layout, row, stat, timeseries
from harness.provision.promql import quantile

WAIT = "servicedesk_db_pool_acquire_wait_seconds"
QUERY = "servicedesk_db_query_duration_seconds"


def build(ctx: DashboardContext):
    stack = ctx.stack
    timeout = stack.db_pool_acquire_timeout_seconds
    budget_lines = [Line(stack.pg_app_budget, "orange"), Line(stack.pg_usable_connections)]
    budget_text = (
        f"budget {stack.pg_app_budget} = max_connections {stack.pg_max_connections} - "
        f"{stack.pg_superuser_reserved} reserved - {stack.pg_headroom} headroom (orange); "
        f"PostgreSQL refuses clients beyond {stack.pg_usable_connections} (red)"
    )
    panels = layout(
        [
            stat("Connections in use", Query("sum(servicedesk_db_pool_connections_in_use)"),
                 unit="none", description="Connections lent out, all replicas."),
            stat("Open connections", Query("sum(servicedesk_db_pool_size)"), unit="none",
                 lines=budget_lines, description=f"Connections the pools hold; {budget_text}."),
            stat("Waiting for a connection", Query("sum(servicedesk_db_pool_waiting)"),
                 unit="none", lines=[Line(1)],
                 description="Requests queued on an exhausted pool (red: any)."),
            stat("Acquire timeouts/s",
                 Query(f"sum(rate(servicedesk_db_pool_acquire_timeouts_total[{RATE}]))"),
                 unit="none", decimals=3,
                 description=f"Acquisitions that gave up after {number(timeout)} s (503s)."),
        ],
        [row("Connection pools")],
        [
            timeseries("Pool connections per replica",
                       [Query("sum by (instance) (servicedesk_db_pool_connections_in_use)",
                              "{{instance}} in use"),
                        Query("sum by (instance) (servicedesk_db_pool_connections_idle)",
                              "{{instance}} idle"),
                        Query("max(servicedesk_db_pool_max)", "pool max (reported)")],
                       unit="none", lines=[Line(stack.db_pool_max)],
                       description=f"Dashed: DB_POOL_MAX={stack.db_pool_max} from the ConfigMap; "
                       "the reported maximum should sit on it."),
            timeseries("Pool utilization per replica",
                       [Query("servicedesk_db_pool_connections_in_use / servicedesk_db_pool_max",
                              "{{instance}}")],
                       unit="percentunit", lines=[Line(0.8, "orange"), Line(1)],
                       description="In use / pool maximum; at 100 % requests start to wait."),
            timeseries("Waiting for a connection per replica",
                       [Query("sum by (instance) (servicedesk_db_pool_waiting)",
                              "{{instance}}")],
                       unit="none", description="Requests queued on the pool."),
        ],
        [
            timeseries("Acquire wait p95 / p99",
                       [Query(quantile(0.95, WAIT, RATE), "p95"),
                        Query(quantile(0.99, WAIT, RATE), "p99")],
                       unit="s", lines=[Line(timeout)],
                       description="Time spent waiting for a pooled connection; dashed: "
                       f"DB_POOL_ACQUIRE_TIMEOUT_SECONDS={number(timeout)}."),
            timeseries("Acquire timeouts and pool errors/s",
                       [Query("sum(rate(servicedesk_db_pool_acquire_timeouts_total"
                              f"[{RATE}]))", "acquire timeouts"),
                        Query(f"sum(rate(servicedesk_db_pool_errors_total[{RATE}]))",
                              "pool errors")],
                       unit="none",
                       description="Timeouts become 503s; errors are failed connections and "
                       "database errors seen by the pool."),
            timeseries("Client connections against max_connections",
                       [Query("sum(servicedesk_db_pool_size)", "open (all pools)")],
                       unit="none", lines=budget_lines,
                       description=f"Connections all replicas' pools hold; {budget_text}."),
        ],
        [row("Queries")],
        [
            timeseries("Query latency p95 by operation",
                       [Query(quantile(0.95, QUERY, RATE, by=("operation",)),
                              "{{operation}}")],
                       unit="s",
                       description="One data-layer operation on a pooled connection (the "
                       "acquire wait excluded)."),
            timeseries("Queries/s by operation",
                       [Query(f"sum by (operation) (rate({QUERY}_count[{RATE}]))",
                              "{{operation}}")],
                       unit="ops", stacked=True, description="Data-layer operations per second."),
        ],
    )
    return dashboard(
        uid="servicedesk-database",
        title="ServiceDesk / Database Performance",
        description="Connection pools, the PostgreSQL connection budget and query latency.",
        tags=["database", "postgresql"],
        panels=panels,
    )
