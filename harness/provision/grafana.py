"""Create or update the dashboards through Grafana's HTTP API (service account token).

Idempotent by uid: `POST /api/dashboards/db` with `overwrite: true` replaces the dashboard with
the same uid (Grafana keeps the old one as a version), so a second push updates, never copies.
The dashboards go into one folder, created once by uid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.errors import DependencyError
from harness.provision.client import USER_AGENT, ServiceClient
from harness.provision.credentials import ENV_GRAFANA_TOKEN, GrafanaCredentials
from harness.provision.dashboards import RenderedDashboard

__all__ = ["DashboardPush", "GrafanaClient", "FOLDER_TITLE", "FOLDER_UID"]

FOLDER_UID = "servicedesk"
FOLDER_TITLE = "ServiceDesk"


@dataclass(frozen=True)
class DashboardPush:
    uid: str
    title: str
    action: str  # "created" or "updated"
    version: int | None
    url: str | None


class GrafanaClient(ServiceClient):
    """A thin client; `transport` lets tests stand a local server or a mock in for Grafana."""

    def __init__(self, credentials: GrafanaCredentials, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 15.0) -> None:
        super().__init__(credentials.url, [credentials.token])
        self._http = httpx.Client(
            base_url=credentials.url,
            headers={
                "Authorization": f"Bearer {credentials.token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, *, json: Any = None,
                 ok: tuple[int, ...] = (200,)) -> httpx.Response:
        try:
            response = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise DependencyError(self._clean(
                f"Grafana at {self._base} did not answer {method} {path}: {exc}")) from None
        if response.status_code in (401, 403):
            raise DependencyError(
                f"Grafana at {self._base} refused the token (HTTP {response.status_code} on "
                f"{method} {path}); check {ENV_GRAFANA_TOKEN} and the service account's role "
                "(Editor on the folder)"
            )
        if response.status_code not in ok:
            raise DependencyError(self._clean(
                f"Grafana at {self._base}: {method} {path} answered HTTP "
                f"{response.status_code}: {response.text[:300]}"))
        return response


    def ensure_folder(self, uid: str = FOLDER_UID, title: str = FOLDER_TITLE) -> str:
        """The folder's uid, creating the folder when it does not exist."""
        found = self._request("GET", f"/api/folders/{uid}", ok=(200, 404))
        if found.status_code == 404:
            self._request("POST", "/api/folders", json={"uid": uid, "title": title})
        return uid

    def push(self, dashboards: Iterable[RenderedDashboard], *, folder_uid: str = FOLDER_UID,
             folder_title: str = FOLDER_TITLE) -> list[DashboardPush]:
        folder = self.ensure_folder(folder_uid, folder_title)
        pushed = []
        for item in dashboards:
            existing = self._request("GET", f"/api/dashboards/uid/{item.uid}", ok=(200, 404))
            body = {
                "dashboard": {**item.data(), "id": None, "uid": item.uid},
                "folderUid": folder,
                "overwrite": True,
                "message": "harness dashboards push",
            }
            answer = self._request("POST", "/api/dashboards/db", json=body).json()
            pushed.append(
                DashboardPush(
                    uid=item.uid,
                    title=item.title,
                    action="created" if existing.status_code == 404 else "updated",
                    version=answer.get("version"),
                    url=answer.get("url"),
                )
            )
        return pushed

    def annotate(self, body: dict[str, Any]) -> int | None:
        """Post one annotation (`POST /api/annotations`); Grafana's id for it."""
        answer = self._request("POST", "/api/annotations", json=body).json()
        ident = answer.get("id") if isinstance(answer, dict) else None
        return int(ident) if isinstance(ident, int) else None
