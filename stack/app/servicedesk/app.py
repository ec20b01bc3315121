"""The ASGI application: lifespan (pool, schema, cache, SLA sweep) and request dispatch.

Every request is timed into servicedesk_http_request_duration_seconds under its route template;
handler errors become JSON error bodies (PoolTimeout -> 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime

from . import dogstatsd
from .asgi import HttpError, Message, Receive, Request, Response, Scope, Send, error_response
from .auth import Authenticator, hash_token
from .cache import Cache, CacheError, build_cache
from .context import AppContext
from .metrics import Metrics
from .models import Role
from .router import Match, Mount, Route, Router
from .routes import all_mounts, all_routes
from .settings import Settings
from .sla import SlaPolicy, SlaSweeper
from .store import PoolTimeout, StoreUnavailable, TicketStore, build_store
from .timestamps import format_ts, utcnow

__all__ = ["ServiceDeskApp", "create_app"]

log = logging.getLogger(__name__)

_RETRY_AFTER = ((b"retry-after", b"1"),)


def create_app(
    settings: Settings,
    *,
    metrics: Metrics | None = None,
    store: TicketStore | None = None,
    cache: Cache | None = None,
    now: Callable[[], datetime] = utcnow,
    run_sweeper: bool = True,
) -> ServiceDeskApp:
    """Wire the app from ``settings``; nothing connects until the ASGI lifespan starts."""
    metrics = metrics if metrics is not None else Metrics()
    store = store if store is not None else build_store(settings, metrics)
    cache = cache if cache is not None else build_cache(settings, metrics)
    ctx = AppContext(
        settings=settings,
        store=store,
        cache=cache,
        metrics=metrics,
        sla=SlaPolicy.from_settings(settings),
        auth=Authenticator(store),
        now=now,
        business=dogstatsd.from_environ(os.environ),
    )
    return ServiceDeskApp(ctx, run_sweeper=run_sweeper)


class ServiceDeskApp:
    """ASGI callable. ``ctx`` holds the dependencies; ``router`` the route table."""

    def __init__(self, ctx: AppContext, *, run_sweeper: bool = True) -> None:
        self.ctx = ctx
        self.router = Router(all_routes(ctx), all_mounts(ctx))
        self.sweeper = SlaSweeper(
            store=ctx.store,
            metrics=ctx.metrics,
            interval=ctx.settings.sla_sweep_interval_seconds,
            now=ctx.now,
            business=ctx.business,
        )
        self._run_sweeper = run_sweeper
        self._sweep_task: asyncio.Task[None] | None = None
        self._delay = ctx.settings.artificial_delay_ms / 1000.0
        self._cpu = ctx.settings.artificial_cpu_ms / 1000.0

    # --- lifecycle ---

    async def startup(self) -> None:
        ctx = self.ctx
        await ctx.store.open()
        await ctx.store.migrate()
        if ctx.settings.admin_token:
            token_hash = hash_token(ctx.settings.admin_token)
            await ctx.store.ensure_user("admin", Role.ADMIN, token_hash, format_ts(ctx.now()))
        await ctx.cache.open()
        if self._run_sweeper:
            self._sweep_task = asyncio.get_running_loop().create_task(self.sweeper.run())
        ctx.state.started = True
        log.info("servicedesk started", extra={"fields": {"store": type(ctx.store).__name__}})

    async def shutdown(self) -> None:
        self.ctx.state.stopping = True
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep_task
        await self.ctx.cache.close()
        await self.ctx.store.close()
        self.ctx.business.close()
        log.info("servicedesk stopped")

    # --- ASGI ---

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.error("startup failed", extra={"fields": {"error": repr(exc)}})
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.ctx.state.draining:
            send = _closing(send)
        metrics = self.ctx.metrics
        started = time.perf_counter()
        metrics.http_in_flight.inc()
        method = scope["method"]
        match = self.router.match(method, scope["path"])
        status = 500
        try:
            if match.mount is not None:
                status = await self._serve_mount(match.mount, scope, receive, send)
            else:
                response = await self._respond(match, scope, receive)
                status = response.status
                await response.send(send, head_only=method == "HEAD")
        finally:
            metrics.http_in_flight.dec()
            metrics.observe_request(method, match.template, status, time.perf_counter() - started)

    async def _respond(self, match: Match, scope: Scope, receive: Receive) -> Response:
        route = match.route
        if route is None:
            if match.allowed:
                allow = ((b"allow", ", ".join(match.allowed).encode()),)
                return error_response(405, "method_not_allowed", "method not allowed", allow)
            return error_response(404, "not_found", f"no route for {scope['path']}")
        try:
            return await self._handle(route, match, scope, receive)
        except HttpError as exc:
            return exc.response()
        except PoolTimeout as exc:
            return error_response(503, "db_pool_timeout", str(exc), _RETRY_AFTER)
        except StoreUnavailable as exc:
            return error_response(503, "db_unavailable", str(exc), _RETRY_AFTER)
        except CacheError as exc:  # only with CACHE_FALLBACK off
            return error_response(503, "cache_unavailable", str(exc), _RETRY_AFTER)
        except Exception:
            log.exception("unhandled error", extra={"fields": {"route": route.template}})
            return error_response(500, "internal_error", "internal server error")

    async def _handle(self, route: Route, match: Match, scope: Scope, receive: Receive) -> Response:
        request = Request(scope, receive, match.params)
        if route.delayed and self._delay:
            await asyncio.sleep(self._delay)
        if route.delayed and self._cpu:
            _burn_cpu(self._cpu)
        if route.roles is not None:
            user = await self.ctx.auth.authenticate(request.header(b"authorization"))
            if user.role not in route.roles:
                raise HttpError(403, "forbidden", f"role {user.role.value} may not do this")
            request.user = user
        return await route.handler(request)

    async def _serve_mount(self, mount: Mount, scope: Scope, receive: Receive, send: Send) -> int:
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await mount.app(scope, receive, capture)
        return status


def _closing(send: Send) -> Send:
    """While draining, every response closes its connection: keep-alive clients reconnect, and
    the load balancer sends the new connection to a replica that is not stopping."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", ()) if h[0].lower() != b"connection"]
            message = {**message, "headers": [*headers, (b"connection", b"close")]}
        await send(message)

    return closing


def _burn_cpu(seconds: float) -> None:
    """Spin on the CPU for `seconds` of this thread's CPU time: a heavier app on purpose, as the
    Kubernetes HPA walkthrough's CPU-bound page is (ARTIFICIAL_CPU_MS)."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
