"""Cache Performance: hit ratio, lookups, and the Redis client's retries and failures."""

from harness.provision.dashboards import DashboardContext
from harness.provision.panels import RATE, Line, Query, dashboard, layout, row, stat, timeseries

LOOKUPS = "servicedesk_cache_requests_total"


def build(ctx: DashboardContext):
    stack = ctx.stack
    hits = f'sum(rate({LOOKUPS}{{result="hit"}}[{RATE}]))'
    lookups = f"sum(rate({LOOKUPS}[{RATE}]))"
    retry_text = (
        f"each command is retried up to REDIS_MAX_RETRIES={stack.redis_max_retries} times with "
        "exponential backoff; after that it counts as an error and the app reads the database"
    )
    panels = layout(
        [
            stat("Hit ratio", Query(f"{hits} / {lookups}"), unit="percentunit", decimals=1,
                 description="Cache lookups answered from the cache."),
            stat("Lookups/s", Query(lookups), unit="ops", description="All cache lookups."),
            stat("Retries/s", Query(f"sum(rate(servicedesk_cache_retries_total[{RATE}]))"),
                 unit="ops", decimals=3, description=f"Commands retried: {retry_text}."),
            stat("Errors/s", Query(f"sum(rate(servicedesk_cache_errors_total[{RATE}]))"),
                 unit="ops", decimals=3, lines=[Line(0.001)],
                 description="Commands that failed after every retry."),
        ],
        [row("Lookups")],
        [
            timeseries("Lookups/s by result",
                       [Query(f"sum by (result) (rate({LOOKUPS}[{RATE}]))", "{{result}}")],
                       unit="ops", stacked=True, description="Hits and misses."),
            timeseries("Hit ratio per replica",
                       [Query(f'sum by (instance) (rate({LOOKUPS}{{result="hit"}}[{RATE}]))'
                              f" / sum by (instance) (rate({LOOKUPS}[{RATE}]))",
                              "{{instance}}")],
                       unit="percentunit", minimum=0,
                       description="Each replica's share of lookups answered by the cache."),
            timeseries("Retries and failures/s",
                       [Query(f"sum(rate(servicedesk_cache_retries_total[{RATE}]))", "retries"),
                        Query(f"sum(rate(servicedesk_cache_errors_total[{RATE}]))",
                              "failed after retries")],
                       unit="ops",
                       description=f"The Redis client's resilience: {retry_text}. Redis memory "
                       "and evictions are watched by the Datadog monitors (redisdb check)."),
        ],
    )
    return dashboard(
        uid="servicedesk-cache",
        title="ServiceDesk / Cache Performance",
        description="Hit ratio, lookups, and the cache client's retries and failures.",
        tags=["cache", "redis"],
        panels=panels,
    )
