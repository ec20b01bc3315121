"""Create or update the monitors through Datadog's Monitors API (v1), idempotently.

The monitors the harness manages carry `managed-by:servicedesk-harness`; each one's
`harness-id:<key>` tag matches it to its definition. A push lists the managed monitors, then
creates what is missing, updates what differs and leaves the rest alone; `dry_run` only plans.
Monitors with a harness-id the definitions no longer have are reported as stale, never deleted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from harness.errors import DependencyError
from harness.provision.credentials import ENV_DD_API_KEY, ENV_DD_APP_KEY, DatadogCredentials
from harness.provision.monitors import MANAGED_TAG, harness_id
from harness.redact import redact

__all__ = ["DatadogClient", "MonitorChange", "plan_monitors", "push_monitors"]

PAGE_SIZE = 1000
MAX_PAGES = 20  # 20 000 managed monitors: far more than the harness makes
COMPARED = ("name", "type", "query", "message", "priority")
USER_AGENT = "servicedesk-harness"


@dataclass(frozen=True)
class MonitorChange:
    key: str
    name: str
    action: str  # create, update, unchanged, stale, duplicate
    monitor_id: int | None = None
    fields: tuple[str, ...] = ()


class DatadogClient:
    """A thin client; `transport` lets tests stand a local server in for the API."""

    def __init__(self, credentials: DatadogCredentials, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 20.0) -> None:
        self._base = credentials.api_url
        self._secrets = [credentials.api_key, credentials.app_key]
        self._http = httpx.Client(
            base_url=credentials.api_url,
            headers={
                "DD-API-KEY": credentials.api_key,
                "DD-APPLICATION-KEY": credentials.app_key,
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DatadogClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clean(self, text: str) -> str:
        return redact(" ".join(text.split()), extra_secrets=self._secrets)

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Any = None) -> Any:
        try:
            response = self._http.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise DependencyError(self._clean(
                f"Datadog API at {self._base} did not answer {method} {path}: {exc}")) from None
        if response.status_code in (401, 403):
            raise DependencyError(
                f"Datadog API at {self._base} refused the keys (HTTP {response.status_code} on "
                f"{method} {path}); check {ENV_DD_API_KEY}, {ENV_DD_APP_KEY} (with the "
                "monitors_read and monitors_write scopes) and DD_SITE"
            )
        if response.status_code >= 300:
            raise DependencyError(self._clean(
                f"Datadog API at {self._base}: {method} {path} answered HTTP "
                f"{response.status_code}: {response.text[:300]}"))
        return response.json()

    def list_managed(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            batch = self._request("GET", "/api/v1/monitor", params={
                "monitor_tags": MANAGED_TAG, "page": page, "page_size": PAGE_SIZE})
            if not isinstance(batch, list):
                raise DependencyError(f"Datadog API at {self._base}: GET /api/v1/monitor did not "
                                      "answer a list")
            found += batch
            if len(batch) < PAGE_SIZE:
                return found
        raise DependencyError(f"Datadog API at {self._base}: more than "
                              f"{MAX_PAGES * PAGE_SIZE} managed monitors; refusing to go on")

    def create(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", "/api/v1/monitor", json=dict(payload)))

    def update(self, monitor_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._request("PUT", f"/api/v1/monitor/{monitor_id}", json=dict(payload)))


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
                  existing: Sequence[Mapping[str, Any]]) -> list[MonitorChange]:
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
        if key not in wanted_keys:
            changes += [MonitorChange(key, str(m.get("name")), "stale", int(m["id"]))
                        for m in matches]
    return changes


def push_monitors(client: DatadogClient, desired: Sequence[Mapping[str, Any]], *,
                  dry_run: bool = False) -> list[MonitorChange]:
    """Plan against what Datadog has and, unless `dry_run`, apply creates and updates."""
    changes = plan_monitors(desired, client.list_managed())
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
