"""PromQL for the app's metrics (stack/app/servicedesk/metrics.py), shared by rules and panels.

The SLIs count "good" requests (not 5xx; within the latency bound) and take the complement, so
they are defined, and zero, while nothing fails: a panel or a rule on the 5xx series alone would
return no data on a healthy service.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client.utils import floatToGoString

from harness.provision.objectives import Objective

__all__ = [
    "DURATION",
    "REQUESTS",
    "SERVICE_TRAFFIC",
    "bad_ratio",
    "error_ratio",
    "group_quantile",
    "le",
    "quantile",
    "request_selector",
    "slow_ratio",
]

REQUESTS = "servicedesk_http_requests_total"
DURATION = "servicedesk_http_request_duration_seconds"
# Probes and scrapes are not users: they are left out of every SLI.
SERVICE_TRAFFIC = 'route!~"/api/(metrics|health/.*)"'


def le(seconds: float) -> str:
    """The `le` label value the Python client writes for a bucket bound (0.25, 1.0, 10.0)."""
    return floatToGoString(seconds)


def error_ratio(window: str) -> str:
    """The share of user requests answered with a 5xx over `window`."""
    return (
        f'1 - (sum(rate({REQUESTS}{{{SERVICE_TRAFFIC},status!~"5.."}}[{window}]))'
        f" / sum(rate({REQUESTS}{{{SERVICE_TRAFFIC}}}[{window}])))"
    )


def slow_ratio(threshold_seconds: float, window: str) -> str:
    """The share of user requests slower than `threshold_seconds` (a bucket bound)."""
    return (
        f'1 - (sum(rate({DURATION}_bucket{{{SERVICE_TRAFFIC},le="{le(threshold_seconds)}"}}'
        f"[{window}])) / sum(rate({DURATION}_count{{{SERVICE_TRAFFIC}}}[{window}])))"
    )


def bad_ratio(objective: Objective, window: str) -> str:
    """The objective's SLI error ratio: bad requests / all requests over `window`."""
    if objective.kind == "errors":
        return error_ratio(window)
    if objective.threshold_seconds is None:
        raise ValueError(f"latency objective {objective.slo} has no threshold")
    return slow_ratio(objective.threshold_seconds, window)


def quantile(q: float, metric: str, window: str, *, by: Sequence[str] = (),
             selector: str = "") -> str:
    """`histogram_quantile` over a classic histogram, aggregated by `le` and `by`."""
    labels = ", ".join(("le", *by))
    return (
        f"histogram_quantile({q}, sum by ({labels}) "
        f"(rate({metric}_bucket{{{selector}}}[{window}])))"
        if selector
        else f"histogram_quantile({q}, sum by ({labels}) (rate({metric}_bucket[{window}])))"
    )


def request_selector(request: str) -> str:
    """The label matchers of a request name as the SLO spec's groups write it: "GET /api/x"
    (a name without a method matches every method)."""
    method, _, route = request.strip().partition(" ")
    if not route:
        return f'{SERVICE_TRAFFIC},route="{method}"'
    return f'method="{method}",route="{route.strip()}"'


def group_quantile(q: float, requests: Sequence[str], window: str) -> str:
    """`histogram_quantile` over the requests of one SLO group (a union of their buckets)."""
    parts = " or ".join(
        f"rate({DURATION}_bucket{{{request_selector(r)}}}[{window}])" for r in requests
    )
    return f"histogram_quantile({q}, sum by (le) ({parts}))"
