"""Route table: exact paths through a dict, ``{id}`` templates by segment, mounts by prefix.

A match carries the route *template* (``/api/tickets/{id}``), which labels the request metrics;
anything unmatched is labelled ``other`` so label cardinality stays bounded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from .asgi import ASGIApp, Request, Response
from .metrics import OTHER_ROUTE
from .models import Role

__all__ = ["Handler", "Match", "Mount", "Route", "Router"]

Handler = Callable[[Request], Awaitable[Response]]
_MAX_ID_DIGITS = 18  # fits a signed 64-bit integer


@dataclass(frozen=True, slots=True)
class Route:
    """``roles`` None means public; otherwise a bearer token of one of these roles is needed.
    ``delayed`` routes wait ARTIFICIAL_DELAY_MS first (probes and metrics never do)."""

    method: str
    template: str
    handler: Handler
    roles: frozenset[Role] | None = None
    delayed: bool = True


@dataclass(frozen=True, slots=True)
class Mount:
    """Hand every path under ``prefix`` to another ASGI app (static files)."""

    prefix: str
    app: ASGIApp
    template: str


@dataclass(frozen=True, slots=True)
class Match:
    route: Route | None
    mount: Mount | None
    params: dict[str, int]
    template: str
    allowed: tuple[str, ...] = ()  # set when the path exists but not for this method


_NO_MATCH = Match(None, None, {}, OTHER_ROUTE)


class Router:
    def __init__(self, routes: Iterable[Route], mounts: Iterable[Mount] = ()) -> None:
        self._exact: dict[str, dict[str, Route]] = {}
        self._templated: dict[int, list[tuple[tuple[str, ...], dict[str, Route]]]] = {}
        for route in routes:
            self._add(route)
        self._mounts = tuple(mounts)

    def _add(self, route: Route) -> None:
        if "{" not in route.template:
            methods = self._exact.setdefault(route.template, {})
        else:
            segments = tuple(route.template.split("/"))
            candidates = self._templated.setdefault(len(segments), [])
            existing = [m for known, m in candidates if known == segments]
            if existing:
                methods = existing[0]
            else:
                methods = {}
                candidates.append((segments, methods))
        if route.method in methods:
            raise ValueError(f"duplicate route {route.method} {route.template}")
        methods[route.method] = route

    def match(self, method: str, path: str) -> Match:
        params: dict[str, int] = {}
        methods = self._exact.get(path)
        if methods is None:
            methods = self._match_templated(path, params)
        if methods is not None:
            route = methods.get(method) or (methods.get("GET") if method == "HEAD" else None)
            if route is None:
                template = next(iter(methods.values())).template
                return Match(None, None, params, template, tuple(sorted(methods)))
            return Match(route, None, params, route.template)
        for mount in self._mounts:
            if path.startswith(mount.prefix + "/"):
                return Match(None, mount, params, mount.template)
        return _NO_MATCH

    def _match_templated(self, path: str, params: dict[str, int]) -> dict[str, Route] | None:
        parts = path.split("/")
        for segments, methods in self._templated.get(len(parts), ()):
            for want, got in zip(segments, parts, strict=True):
                if want[:1] == "{":
                    if not got.isdigit() or len(got) > _MAX_ID_DIGITS or not got.isascii():
                        break
                    params[want[1:-1]] = int(got)
                elif want != got:
                    break
            else:
                return methods
            params.clear()
        return None
