"""Datadog monitors generated from the SLO spec and the stack's numbers.

Each payload is the body of `POST /api/v1/monitor` (a datadog-api-client `Monitor`), tagged
`managed-by:servicedesk-harness` and `harness-id:<key>` so that `harness monitors push` finds its
own monitors again and updates them instead of creating copies.

Datadog evaluates a metric monitor over one window, so each row of the burn-rate table (1h and
5m at 14.4x, 6h and 30m at 6x, 1d and 2h at 3x, 3d and 6h at 1x for 30 days) is a monitor per
window and a composite monitor that alerts when both do, as the Prometheus rules pair them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.config.model import SloSpec
from harness.provision.ddnames import OpenMetricsNaming
from harness.provision.ddquery import parse_monitor_query
from harness.provision.objectives import (
    BURN_WINDOWS,
    Objective,
    check_period,
    number,
    objectives,
    prometheus_duration,
)
from harness.provision.promql import DURATION, REQUESTS
from harness.provision.runbooks import runbook_url
from harness.provision.sources import StackNumbers

__all__ = [
    "HARNESS_ID_TAG",
    "MANAGED_TAG",
    "MonitorDefinition",
    "build_monitors",
    "composite_parts",
    "harness_id",
    "render_monitors",
    "strict_monitor",
]

MANAGED_TAG = "managed-by:servicedesk-harness"
HARNESS_ID_TAG = "harness-id"
PRIORITY = {"page": 2, "ticket": 3}
# Scrapes and probes are not users (the same exclusion as the Prometheus SLIs).
NOT_PROBES = ("!route:/api/metrics", "!route:/api/health/*")
# Where the integrations' metrics come from: tags set in stack/datadog/conf.d/*.d/conf.yaml.
POSTGRES_SCOPE = "service:servicedesk-postgres"
REDIS_SCOPE = "service:servicedesk-redis"


@dataclass(frozen=True)
class MonitorDefinition:
    """One monitor before it becomes a payload.

    Attributes:
        key: stable id (the `harness-id` tag); never reuse one for a different monitor.
        critical, warning: thresholds; `critical` is also the number in the query.
        no_data: whether a silent metric should alert (for gauges that must always report).
    """

    key: str
    name: str
    query: str
    message: str
    critical: float
    severity: str
    warning: float | None = None
    no_data: bool = False
    type: str = "query alert"  # or "composite": `query` joins other monitors' harness-ids

    def payload(self, service: str) -> dict[str, Any]:
        thresholds: dict[str, float] = {"critical": self.critical}
        if self.warning is not None:
            thresholds["warning"] = self.warning
        options: dict[str, Any] = {
            # a composite's verdict is its parts'; thresholds belong to them
            **({"thresholds": thresholds} if self.type != "composite" else {}),
            "notify_no_data": self.no_data,
            "require_full_window": False,
            "include_tags": True,
            "new_group_delay": 300,
        }
        if self.no_data:
            options["no_data_timeframe"] = 20
        return {
            "name": self.name,
            "type": self.type,
            "query": self.query,
            "message": self.message,
            "priority": PRIORITY[self.severity],
            "tags": sorted(
                {
                    f"service:{service}",
                    MANAGED_TAG,
                    f"{HARNESS_ID_TAG}:{self.key}",
                    f"severity:{self.severity}",
                }
            ),
            "options": options,
        }


def harness_id(monitor: Mapping[str, Any]) -> str | None:
    """The `harness-id` tag's value of a monitor (a payload or one read back from the API)."""
    for tag in monitor.get("tags") or ():
        if isinstance(tag, str) and tag.startswith(f"{HARNESS_ID_TAG}:"):
            return tag.split(":", 1)[1]
    return None


def _scope(*tags: str) -> str:
    return "{" + ",".join(tags) + "}"


def _latency(spec: SloSpec, naming: OpenMetricsNaming, objective: Objective) -> MonitorDefinition:
    assert objective.threshold_seconds is not None  # noqa: S101 - latency objectives have one
    base = (f"service:{spec.service}", *NOT_PROBES)
    count = f"sum:{naming.histogram(DURATION, 'count')}{_scope(*base)} by {{env}}.as_count()"
    within = (
        f"sum:{naming.histogram(DURATION, 'bucket')}"
        f"{_scope(*base, 'upper_bound:' + naming.upper_bound(objective.threshold_seconds))}"
        " by {env}.as_count()"
    )
    budget = objective.budget
    ms = number(objective.threshold_seconds * 1000)
    percentile = objective.slo.split("-", 1)[1]
    return MonitorDefinition(
        key=objective.slo,
        name=f"[{spec.service}] {percentile} latency above {ms} ms",
        query=f"sum(last_10m):({count} - {within}) / {count} > {number(budget)}",
        critical=budget,
        warning=round(budget * 0.8, 12),
        severity="page",
        message=(
            f"More than {number(budget * 100)} % of requests took longer than {ms} ms over the "
            f"last 10 minutes, so {percentile} latency is above its objective "
            f"({objective.description}, loadtests/slo.yaml).\n"
            "Share of slow requests: {{value}}. Look at the API Performance dashboard for the "
            "routes, and the Database Performance dashboard for pool waits."
        ),
    )


def _window(seconds: int) -> str:
    """A Datadog evaluation window: last_5m, last_1h, last_1d, last_72h (no last_3d)."""
    return f"last_{seconds // 3600}h" if seconds > 86400 else f"last_{prometheus_duration(seconds)}"


def _burn(spec: SloSpec, naming: OpenMetricsNaming, objective: Objective,
          period: float) -> list[MonitorDefinition]:
    """Per row of the burn-rate table: a monitor on the long window, one on the short window
    (silent parts), and the composite that alerts when both burn too fast, as the Prometheus
    rules pair them. The composite names its parts by harness-id; the push swaps in their ids."""
    base = (f"service:{spec.service}", *NOT_PROBES)
    requests = naming.counter(REQUESTS)
    errors = f"sum:{requests}{_scope(*base, 'status:5*')} by {{env}}.as_count()"
    total = f"sum:{requests}{_scope(*base)} by {{env}}.as_count()"
    out = []
    for row in BURN_WINDOWS:
        long = prometheus_duration(row.long_seconds)
        short = prometheus_duration(row.short_seconds)
        factor = row.factor(period)
        threshold = round(factor * objective.budget, 12)
        key = f"error-budget-burn-{long}"
        parts = []
        for which, seconds in (("long", row.long_seconds), ("short", row.short_seconds)):
            span = prometheus_duration(seconds)
            parts.append(MonitorDefinition(
                key=f"{key}-{which}-window",
                name=f"[{spec.service}] error budget burn {number(factor)}x over {span} "
                     f"({which} window of the {long} pair)",
                query=f"sum({_window(seconds)}):{errors} / {total} > {number(threshold)}",
                critical=threshold,
                severity=row.severity,
                message=(
                    f"The {which} window ({span}) of the {long} burn-rate pair; it does not "
                    f"notify on its own: the composite `{key}` alerts when the {long} and "
                    f"{short} windows both burn at {number(factor)}x or more."
                ),
            ))
        out += parts
        out.append(
            MonitorDefinition(
                key=key,
                name=f"[{spec.service}] error budget burning {number(factor)}x over {long} "
                     f"and {short}",
                query=" && ".join(f"{HARNESS_ID_TAG}:{part.key}" for part in parts),
                critical=threshold,
                severity=row.severity,
                type="composite",
                message=(
                    f"Over the last {long}, and still over the last {short}, more than "
                    f"{number(threshold * 100)} % of requests failed with a 5xx: the error "
                    f"budget ({number(objective.budget * 100)} % of requests over "
                    f"{prometheus_duration(period)}, {objective.description}) is burning at "
                    f"{number(factor)}x or more, which spends {number(row.budget_spent * 100)} %"
                    f" of it in {long}."
                ),
            )
        )
    return out


def _capacity(spec: SloSpec, naming: OpenMetricsNaming,
              stack: StackNumbers) -> list[MonitorDefinition]:
    app = _scope(f"service:{spec.service}")
    in_use = naming.gauge("servicedesk_db_pool_connections_in_use")
    pool_max = naming.gauge("servicedesk_db_pool_max")
    timeouts = naming.counter("servicedesk_db_pool_acquire_timeouts_total")
    hpa = _scope(f"horizontalpodautoscaler:{stack.hpa_name}")
    usable = round(stack.pg_usable_connections / stack.pg_max_connections, 12)
    budget = round(stack.pg_app_budget / stack.pg_max_connections, 12)
    evictions = max(stack.cache_max_entries // 10, 1)
    gib = stack.redis_maxmemory_bytes / 2**30
    return [
        MonitorDefinition(
            key="db-pool-saturation",
            name=f"[{spec.service}] database connection pool saturated",
            query=(
                f"min(last_5m):max:{in_use}{app} by {{env}} / max:{pool_max}{app} by {{env}}"
                " >= 1"
            ),
            critical=1,
            warning=0.8,
            severity="ticket",
            message=(
                f"The busiest replica has had all of its DB_POOL_MAX={stack.db_pool_max} "
                "connections lent out for 5 minutes; requests wait up to "
                f"{number(stack.db_pool_acquire_timeout_seconds)} s for one "
                "(DB_POOL_ACQUIRE_TIMEOUT_SECONDS) and then fail with 503."
            ),
        ),
        MonitorDefinition(
            key="db-pool-acquire-timeouts",
            name=f"[{spec.service}] requests time out waiting for a database connection",
            query=f"sum(last_5m):sum:{timeouts}{app} by {{env}}.as_count() > 0",
            critical=0,
            severity="ticket",
            message=(
                "{{value}} connection acquisitions gave up after "
                f"{number(stack.db_pool_acquire_timeout_seconds)} s in the last 5 minutes; each "
                "is a 503 for a user."
            ),
        ),
        MonitorDefinition(
            key="hpa-at-max-replicas",
            name=f"[{spec.service}] autoscaler at its maximum replicas",
            query=(
                f"min(last_15m):max:kubernetes_state.hpa.current_replicas{hpa} by "
                f"{{kube_namespace}} / max:kubernetes_state.hpa.max_replicas{hpa} by "
                "{kube_namespace} >= 1"
            ),
            critical=1,
            warning=0.8,
            severity="ticket",
            message=(
                f"HPA {stack.hpa_name} has run at its maximum for 15 minutes (the bundled "
                f"manifest allows {stack.min_replicas}-{stack.max_replicas} replicas, CPU target "
                f"{stack.cpu_target_percent} %, memory {stack.memory_target_percent} %): it "
                "cannot add capacity. Raise maxReplicas only within the database connection "
                "budget."
            ),
        ),
        MonitorDefinition(
            key="redis-memory",
            name=f"[{spec.service}] Redis memory near maxmemory",
            query=(
                f"avg(last_10m):max:redis.mem.used{_scope(REDIS_SCOPE)} by {{env}} / "
                f"max:redis.mem.maxmemory{_scope(REDIS_SCOPE)} by {{env}} > 0.95"
            ),
            critical=0.95,
            warning=0.9,
            severity="ticket",
            message=(
                f"Redis uses {{{{value}}}} of maxmemory ({number(gib)} GiB in the bundled "
                f"redis.conf, policy {stack.redis_maxmemory_policy}); at 100 % it evicts keys."
            ),
        ),
        MonitorDefinition(
            key="redis-evictions",
            name=f"[{spec.service}] Redis evicting keys",
            query=(
                f"change(max(last_10m),10m_ago):max:redis.keys.evicted{_scope(REDIS_SCOPE)}"
                f" by {{env}} > {evictions}"
            ),
            critical=evictions,
            warning=0,
            severity="ticket",
            message=(
                "Redis evicted {{value}} keys in 10 minutes. Warning at any eviction; critical "
                f"above {evictions}, a tenth of the cache's CACHE_MAX_ENTRIES="
                f"{stack.cache_max_entries}: the cache no longer holds the working set."
            ),
        ),
        MonitorDefinition(
            key="postgres-connections",
            name=f"[{spec.service}] PostgreSQL connections near max_connections",
            query=(
                f"avg(last_5m):max:postgresql.percent_usage_connections{_scope(POSTGRES_SCOPE)}"
                f" by {{env}} >= {number(usable)}"
            ),
            critical=usable,
            warning=budget,
            severity="page",
            message=(
                f"PostgreSQL has {{{{value}}}} of max_connections={stack.pg_max_connections} in "
                f"use. Warning at the app's budget ({stack.pg_app_budget} = "
                f"{stack.pg_max_connections} - {stack.pg_superuser_reserved} reserved - "
                f"{stack.pg_headroom} headroom); critical at {stack.pg_usable_connections}, "
                "where non-superusers get \"too many clients\"."
            ),
        ),
    ]


def build_monitors(spec: SloSpec, stack: StackNumbers,
                   naming: OpenMetricsNaming) -> tuple[dict[str, Any], ...]:
    """The monitor payloads, sorted by key; each checked against Datadog's grammar and model."""
    period = check_period(spec)
    found = objectives(spec)
    definitions: list[MonitorDefinition] = []
    for objective in found:
        if objective.kind == "latency":
            definitions.append(_latency(spec, naming, objective))
    definitions += _burn(spec, naming, found[0], period)
    definitions += _capacity(spec, naming, stack)
    definitions = [
        replace(d, message=f"{d.message}\n\nRunbook: {runbook_url(spec.runbooks, monitor=d.key)}")
        for d in definitions
    ]
    definitions.sort(key=lambda d: d.key)
    keys = [d.key for d in definitions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate monitor keys: {keys}")
    payloads = tuple(d.payload(spec.service) for d in definitions)
    for payload in payloads:
        check_payload(payload)
        if payload["type"] == "composite" and not set(composite_parts(payload)) <= set(keys):
            raise ValueError(f"{payload['name']}: joins monitors that do not exist")
    return payloads


def composite_parts(payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The harness-ids a composite monitor's query joins with &&."""
    found = re.fullmatch(rf"{HARNESS_ID_TAG}:([a-z0-9-]+)( && {HARNESS_ID_TAG}:([a-z0-9-]+))+",
                         payload["query"])
    if payload.get("type") != "composite" or found is None:
        raise ValueError(f"{payload.get('name')}: not a composite of harness-ids: "
                         f"{payload.get('query')!r}")
    return tuple(re.findall(rf"{HARNESS_ID_TAG}:([a-z0-9-]+)", payload["query"]))


def check_payload(payload: Mapping[str, Any]) -> None:
    """The query parses, and its threshold and operator agree with the options' thresholds."""
    if payload.get("type") == "composite":
        composite_parts(payload)
        strict_monitor(payload)
        return
    parsed = parse_monitor_query(payload["query"])
    thresholds = payload["options"]["thresholds"]
    if parsed.threshold != float(thresholds["critical"]):
        raise ValueError(
            f"{payload['name']}: the query's threshold {parsed.threshold:g} is not the critical "
            f"threshold {thresholds['critical']}"
        )
    warning = thresholds.get("warning")
    if warning is not None:
        above = parsed.operator in (">", ">=")
        if (above and warning >= thresholds["critical"]) or (
            not above and warning <= thresholds["critical"]
        ):
            raise ValueError(f"{payload['name']}: warning {warning} is past critical")
    strict_monitor(payload)


def strict_monitor(payload: Mapping[str, Any], *, update: bool = False) -> Any:
    """The payload as datadog-api-client's `Monitor` (`MonitorUpdateRequest` with `update`),
    refusing anything the model does not know (the client itself keeps unknown fields and enum
    values as "unparsed")."""
    from datadog_api_client import Configuration
    from datadog_api_client.model_utils import OpenApiModel, validate_and_convert_types
    from datadog_api_client.v1.model.monitor import Monitor
    from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest

    model = validate_and_convert_types(
        dict(payload), (MonitorUpdateRequest if update else Monitor,), ["monitor"], True, True,
        Configuration(),
    )

    def walk(node: Any, where: str) -> None:
        if isinstance(node, OpenApiModel):
            if getattr(node, "_unparsed", False):
                raise ValueError(f"{where}: not understood by the Monitor model")
            known = set(getattr(node, "attribute_map", {}))
            data = getattr(node, "_data_store", {})
            if known:
                unknown = sorted(set(data) - known)
                if unknown:
                    raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}")
            for key, value in data.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]")

    walk(model, "monitor")
    return model


def render_monitors(payloads: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(list(payloads), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
