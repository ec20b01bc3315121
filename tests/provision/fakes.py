"""Local HTTP servers standing in for Grafana's and Datadog's APIs in the contract tests.

Each is a real server on 127.0.0.1 (the clients talk HTTP to it, as to the real thing), records
every request, checks authentication the way the real API does, and keeps state like it: Grafana
dashboards by uid with versions, Datadog monitors by id with the defaults Datadog adds.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harness.provision.monitors import strict_monitor


def _secrets_first(headers: dict[str, str]) -> dict[str, str]:
    """The request's headers with the credentials first, as a careless server might echo them."""
    secret = ("dd-api-key", "dd-application-key", "authorization")
    return dict(sorted(headers.items(), key=lambda item: item[0] not in secret))


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes = b""


@dataclass
class FakeApi:
    """Base: a threaded server, the recorded requests, a lock around the state."""

    requests: list[Recorded] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status (error paths)
    port: int = 0  # 0: any free port

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                parts = urlsplit(self.path)
                record = Recorded(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body, raw)
                with api.lock:
                    api.requests.append(record)
                    status, answer = (
                        (api.fail_with, {"echo": _secrets_first(record.headers),
                                         "message": "failing on purpose"})
                        if api.fail_with else api.handle(record)
                    )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PUT", "DELETE")]

    def handle(self, request: Recorded) -> tuple[int, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass
class FakeDatadog(FakeApi):
    api_key: str = ""
    app_key: str = ""
    monitors: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1000

    # Statuses to answer before serving normally (429: rate limited, 5xx: a passing fault).
    refusals: list[int] = field(default_factory=list)

    def handle(self, request: Recorded) -> tuple[int, Any]:
        if self.refusals:
            return self.refusals.pop(0), {"errors": ["try again"]}
        if (request.headers.get("dd-api-key") != self.api_key
                or request.headers.get("dd-application-key") != self.app_key):
            return 403, {"errors": ["Forbidden"]}
        if request.path == "/api/v1/monitor" and request.method == "GET":
            wanted = set(",".join(request.query.get("monitor_tags", [""])).split(",")) - {""}
            page = int(request.query.get("page", ["0"])[0])
            size = int(request.query.get("page_size", ["100"])[0])
            found = [m for _, m in sorted(self.monitors.items()) if wanted <= set(m["tags"])]
            return 200, found[page * size:(page + 1) * size]
        if request.method in ("POST", "PUT") and (
                request.headers.get("content-type", "").split(";")[0] != "application/json"):
            return 415, {"errors": ["Content-Type must be application/json"]}
        if request.path == "/api/v1/monitor" and request.method == "POST":
            try:
                strict_monitor(request.body)
            except Exception as exc:
                return 400, {"errors": [str(exc)]}
            if problem := self._bad_composite(request.body):
                return 400, {"errors": [problem]}
            monitor_id = self.next_id
            self.next_id += 1
            self.monitors[monitor_id] = self._stored(monitor_id, request.body)
            return 200, self.monitors[monitor_id]
        match = re.fullmatch(r"/api/v1/monitor/(\d+)", request.path)
        if match and request.method == "PUT":
            monitor_id = int(match.group(1))
            if monitor_id not in self.monitors:
                return 404, {"errors": ["Monitor not found"]}
            try:
                strict_monitor(request.body)
            except Exception as exc:
                return 400, {"errors": [str(exc)]}
            if problem := self._bad_composite(request.body):
                return 400, {"errors": [problem]}
            self.monitors[monitor_id] = self._stored(monitor_id, request.body)
            return 200, self.monitors[monitor_id]
        return 404, {"errors": ["Not found"]}

    def _bad_composite(self, body: dict[str, Any]) -> str | None:
        """Datadog refuses a composite whose query is not monitor ids it knows, joined by
        boolean operators."""
        if body.get("type") != "composite":
            return None
        query = str(body.get("query", ""))
        if not re.fullmatch(r"\d+( (&&|\|\|) \d+)+", query):
            return f"composite query {query!r} is not monitor ids joined by && or ||"
        unknown = [i for i in re.findall(r"\d+", query) if int(i) not in self.monitors]
        return f"composite refers to unknown monitors {unknown}" if unknown else None

    @staticmethod
    def _stored(monitor_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """What Datadog returns: the body plus an id, metadata and option defaults."""
        options = {"notify_audit": False, "silenced": {}, "include_tags": True,
                   "new_host_delay": 300, **body.get("options", {})}
        return {**body, "id": monitor_id, "options": options, "overall_state": "No Data",
                "created": "2025-01-01T00:00:00+00:00", "multi": True}


@dataclass
class FakeGrafana(FakeApi):
    token: str = ""
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: Recorded) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Unauthorized"}
        if request.path == "/api/annotations" and request.method == "POST":
            return self._annotate(request.body)
        match = re.fullmatch(r"/api/folders/([^/]+)", request.path)
        if match and request.method == "GET":
            folder = self.folders.get(match.group(1))
            return (200, folder) if folder else (404, {"message": "folder not found"})
        if request.path == "/api/folders" and request.method == "POST":
            uid = request.body["uid"]
            if uid in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[uid] = {"uid": uid, "title": request.body["title"]}
            return 200, self.folders[uid]
        match = re.fullmatch(r"/api/dashboards/uid/([^/]+)", request.path)
        if match and request.method == "GET":
            found = self.dashboards.get(match.group(1))
            return (200, found) if found else (404, {"message": "Dashboard not found"})
        if request.path == "/api/dashboards/db" and request.method == "POST":
            dashboard = request.body.get("dashboard") or {}
            uid = dashboard.get("uid")
            if not uid or request.body.get("folderUid") not in self.folders:
                return 400, {"message": "bad request"}
            existing = self.dashboards.get(uid)
            if existing and not request.body.get("overwrite"):
                return 412, {"status": "name-exists"}
            version = existing["meta"]["version"] + 1 if existing else 1
            self.dashboards[uid] = {"dashboard": dashboard,
                                    "meta": {"version": version,
                                             "folderUid": request.body["folderUid"]}}
            return 200, {"id": len(self.dashboards), "uid": uid, "status": "success",
                         "version": version, "url": f"/d/{uid}/x"}
        return 404, {"message": "Not found"}

    def _annotate(self, body: Any) -> tuple[int, Any]:
        """Grafana's POST /api/annotations: epoch milliseconds, optional timeEnd (a region),
        tags as strings, text."""
        ok = (isinstance(body, dict) and isinstance(body.get("time"), int)
              and isinstance(body.get("text"), str)
              and all(isinstance(t, str) for t in body.get("tags", []))
              and set(body) <= {"time", "timeEnd", "tags", "text", "dashboardUID", "panelId"}
              and body.get("timeEnd", body["time"]) >= body["time"])
        if not ok:
            return 400, {"message": "bad annotation"}
        self.annotations.append(body)
        return 200, {"message": "Annotation added", "id": len(self.annotations)}
