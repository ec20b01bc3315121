"""Create or update the monitors through Datadog's Monitors API (v1, datadog-api-client),
idempotently.

The monitors the harness manages carry `managed-by:servicedesk-harness`; each one's
`harness-id:<key>` tag matches it to its definition. A push lists the managed monitors, then
creates what is missing, updates what differs and leaves the rest alone; `dry_run` only plans.
Monitors with a harness-id the definitions no longer have are reported as stale, never deleted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import DependencyError
from harness.provision.client import USER_AGENT, ServiceClient
from harness.provision.credentials import ENV_DD_API_KEY, ENV_DD_APP_KEY, DatadogCredentials
from harness.provision.monitors import (
    HARNESS_ID_TAG,
    MANAGED_TAG,
    composite_parts,
    harness_id,
    strict_monitor,
)

__all__ = ["DatadogClient", "MonitorChange", "plan_monitors", "push_monitors"]

PAGE_SIZE = 1000
MAX_PAGES = 20  # 20 000 managed monitors: far more than the harness makes
COMPARED = ("name", "type", "query", "message", "priority")


@dataclass(frozen=True)
class MonitorChange:
    key: str
    name: str
    action: str  # create, update, unchanged, stale, duplicate
    monitor_id: int | None = None
    fields: tuple[str, ...] = ()


class DatadogClient(ServiceClient):
    """The monitors part of datadog-api-client's MonitorsApi, with its retries (429 and 5xx,
    exponential backoff, honouring the rate-limit reset header) and errors in the harness's
    words. Payloads go through the client's `Monitor` model (provision.monitors.strict_monitor);
    answers come back as plain mappings for the planner."""

    def __init__(self, credentials: DatadogCredentials, *, timeout: float = 20.0,
                 max_retries: int = 3) -> None:
        from datadog_api_client import ApiClient, Configuration
        from datadog_api_client.v1.api.monitors_api import MonitorsApi

        config = Configuration(host=credentials.api_url, enable_retry=True,
                               max_retries=max_retries,
                               request_timeout=timeout)
        config.api_key["apiKeyAuth"] = credentials.api_key
        config.api_key["appKeyAuth"] = credentials.app_key
        super().__init__(credentials.api_url, [credentials.api_key, credentials.app_key])
        self._client = ApiClient(config)
        self._client.user_agent = USER_AGENT
        self._api = MonitorsApi(self._client)

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, call: Callable[[], Any]) -> Any:
        from datadog_api_client.exceptions import ApiException, OpenApiException
        from urllib3.exceptions import HTTPError

        try:
            return call()
        except ApiException as exc:
            if exc.status in (401, 403):
                raise DependencyError(
                    f"Datadog API at {self._base} refused the keys (HTTP {exc.status} on "
                    f"{what}); check {ENV_DD_API_KEY}, {ENV_DD_APP_KEY} (with the "
                    "monitors_read and monitors_write scopes) and DD_SITE") from None
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            raise DependencyError(self._clean(
                f"Datadog API at {self._base}: {what} answered HTTP {exc.status}: "
                f"{str(body or exc.reason)[:300]}")) from None
        except OpenApiException as exc:  # an answer the client's models cannot read
            raise DependencyError(self._clean(
                f"Datadog API at {self._base}: {what} answered something unexpected: {exc}"
            )) from None
        except HTTPError as exc:
            raise DependencyError(self._clean(
                f"Datadog API at {self._base} did not answer {what}: {exc}")) from None

    def list_managed(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            batch = self._call("GET /api/v1/monitor", functools.partial(
                self._api.list_monitors, monitor_tags=MANAGED_TAG, page=page,
                page_size=PAGE_SIZE))
            found += [monitor.to_dict() for monitor in batch]
            if len(batch) < PAGE_SIZE:
                return found
        raise DependencyError(f"Datadog API at {self._base}: more than "
                              f"{MAX_PAGES * PAGE_SIZE} managed monitors; refusing to go on")

    def create(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = strict_monitor(payload)
        made = self._call("POST /api/v1/monitor", lambda: self._api.create_monitor(
            body))
        return dict(made.to_dict())

    def update(self, monitor_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        body = strict_monitor(payload, update=True)
        done = self._call(f"PUT /api/v1/monitor/{monitor_id}", lambda: self._api.update_monitor(
            monitor_id, body))
        return dict(done.to_dict())


def _same(wanted: Any, found: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(found, bool):
        return wanted == found
    if isinstance(wanted, int | float) and isinstance(found, int | float):
        return math.isclose(float(wanted), float(found), rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(wanted, Mapping) and isinstance(found, Mapping):
        return all(_same(v, found.get(k)) for k, v in wanted.items())
    return bool(wanted == found)


def _differences(wanted: Mapping[str, Any], found: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of `wanted` that `found` does not have as wanted (Datadog adds defaults to
    options it returns; only the options the harness sets are compared)."""
    changed = [name for name in COMPARED if not _same(wanted.get(name), found.get(name))]
    if sorted(wanted.get("tags") or []) != sorted(found.get("tags") or []):
        changed.append("tags")
    options = found.get("options") or {}
    for name, value in sorted((wanted.get("options") or {}).items()):
        if not _same(value, options.get(name)):
            changed.append(f"options.{name}")
    return tuple(changed)


def plan_monitors(desired: Sequence[Mapping[str, Any]],
                  existing: Sequence[Mapping[str, Any]], *,
                  elsewhere: frozenset[str] = frozenset()) -> list[MonitorChange]:
    """Create, update, unchanged, duplicate per desired monitor; stale for managed monitors
    whose key is neither desired nor planned `elsewhere`."""
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for monitor in sorted(existing, key=lambda m: int(m.get("id") or 0)):
        key = harness_id(monitor)
        if key is not None:
            by_key.setdefault(key, []).append(monitor)
    changes = []
    wanted_keys = set()
    for payload in desired:
        key = harness_id(payload)
        if key is None:
            raise ValueError(f"monitor {payload.get('name')!r} has no harness-id tag")
        wanted_keys.add(key)
        matches = by_key.get(key, [])
        if not matches:
            changes.append(MonitorChange(key, str(payload["name"]), "create"))
            continue
        first, *others = matches
        fields = _differences(payload, first)
        changes.append(MonitorChange(key, str(payload["name"]),
                                     "update" if fields else "unchanged",
                                     int(first["id"]), fields))
        changes += [MonitorChange(key, str(m.get("name")), "duplicate", int(m["id"]))
                    for m in others]
    for key, matches in sorted(by_key.items()):
        if key not in wanted_keys and key not in elsewhere:
            changes += [MonitorChange(key, str(m.get("name")), "stale", int(m["id"]))
                        for m in matches]
    return changes


def _resolved(composite: Mapping[str, Any], ids: Mapping[str, int]) -> dict[str, Any]:
    """A composite with its parts' harness-ids replaced by their monitor ids (a part not
    created yet keeps its harness-id: only a dry run sees that)."""
    query = str(composite["query"])
    for key in composite_parts(composite):
        if key in ids:
            query = query.replace(f"{HARNESS_ID_TAG}:{key}", str(ids[key]), 1)
    return {**composite, "query": query}


def push_monitors(client: DatadogClient, desired: Sequence[Mapping[str, Any]], *,
                  dry_run: bool = False) -> list[MonitorChange]:
    """Plan against what Datadog has and, unless `dry_run`, apply creates and updates: first
    the plain monitors, then the composites over them (which need their parts' ids)."""
    existing = client.list_managed()
    plain = [p for p in desired if p.get("type") != "composite"]
    composites = [p for p in desired if p.get("type") == "composite"]
    composite_keys = frozenset(k for k in map(harness_id, composites) if k is not None)
    plain_keys = frozenset(k for k in map(harness_id, plain) if k is not None)
    changes = _apply(client, plain, plan_monitors(plain, existing, elsewhere=composite_keys),
                     dry_run)
    ids: dict[str, int] = {}
    for monitor in sorted(existing, key=lambda m: -int(m.get("id") or 0)):  # the oldest wins
        key = harness_id(monitor)
        if key is not None:
            ids[key] = int(monitor["id"])
    for change in changes:
        if change.monitor_id is not None and change.action in ("create", "update", "unchanged"):
            ids[change.key] = change.monitor_id
    resolved = [_resolved(c, ids) for c in composites]
    second = [c for c in plan_monitors(resolved, existing, elsewhere=plain_keys)
              if c.action != "stale"]
    return changes + _apply(client, resolved, second, dry_run)


def _apply(client: DatadogClient, desired: Sequence[Mapping[str, Any]],
           changes: list[MonitorChange], dry_run: bool) -> list[MonitorChange]:
    if dry_run:
        return changes
    payloads = {harness_id(p): p for p in desired}
    applied = []
    for change in changes:
        if change.action == "create":
            made = client.create(payloads[change.key])
            change = MonitorChange(change.key, change.name, "create", int(made["id"]))
        elif change.action == "update" and change.monitor_id is not None:
            client.update(change.monitor_id, payloads[change.key])
        applied.append(change)
    return applied
