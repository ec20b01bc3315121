"""Static assets: ``/static/...`` and ``/_next/static/...`` (as the Next.js app serves them),
plus a tiny status page at ``/``, so proxy cache headers can be tested."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from ..asgi import ASGIApp, Message, Receive, Request, Response, Scope, Send, error_response
from ..context import AppContext
from ..router import Mount, Route

__all__ = ["IMMUTABLE", "SHORT_LIVED", "mounts", "routes", "static_dir"]

IMMUTABLE = b"public, max-age=31536000, immutable"
SHORT_LIVED = b"public, max-age=3600"
_HTML = b"text/html; charset=utf-8"


def static_dir(ctx: AppContext) -> Path:
    if ctx.settings.static_dir is not None:
        return ctx.settings.static_dir
    return Path(str(files("servicedesk") / "static"))


def _with_cache_control(app: ASGIApp, prefix: str, cache_control: bytes) -> ASGIApp:
    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"cache-control", cache_control),
                ]
            await send(message)

        child = {**scope, "root_path": scope.get("root_path", "") + prefix}
        try:
            await app(child, receive, send_with_header)
        except HTTPException as exc:  # StaticFiles signals 404 and 405 by raising
            code = "not_found" if exc.status_code == 404 else "static_error"
            await error_response(exc.status_code, code, str(exc.detail)).send(send)

    return serve


def mounts(ctx: AppContext) -> list[Mount]:
    files_app = StaticFiles(directory=static_dir(ctx), check_dir=False)
    return [
        Mount("/static", _with_cache_control(files_app, "/static", SHORT_LIVED), "/static/{path}"),
        Mount(
            "/_next/static",
            _with_cache_control(files_app, "/_next/static", IMMUTABLE),
            "/_next/static/{path}",
        ),
    ]


def routes(ctx: AppContext) -> list[Route]:
    try:
        page = (static_dir(ctx) / "index.html").read_bytes()
    except OSError:
        page = b"<!doctype html><title>ServiceDesk</title><h1>ServiceDesk</h1>"

    async def home(request: Request) -> Response:
        return Response(200, page, _HTML, ((b"cache-control", b"no-cache"),))

    return [Route("GET", "/", home, delayed=False)]
