"""Probes for Kubernetes and the harness: startup, liveness, readiness (no auth, no delay)."""

from __future__ import annotations

import asyncio
import os

from ..asgi import Request, Response, json_response
from ..context import AppContext
from ..router import Route

__all__ = ["READY_CHECK_TIMEOUT_SECONDS", "routes"]

READY_CHECK_TIMEOUT_SECONDS = 2.0


def routes(ctx: AppContext) -> list[Route]:
    pid = os.getpid()

    async def startup(request: Request) -> Response:
        if not ctx.state.started:
            return json_response({"status": "starting", "pid": pid}, 503)
        return json_response({"status": "started", "pid": pid})

    async def live(request: Request) -> Response:
        return json_response({"status": "ok", "pid": pid})

    async def ready(request: Request) -> Response:
        checks = {
            "database": await _check(ctx.store.ping()),
            "cache": await _check(ctx.cache.ping()),
        }
        # Only the database gates readiness: the cache has a database fallback, and a Redis
        # outage must not take every replica out of the Service at once.
        ok = ctx.state.started and not ctx.state.stopping and checks["database"] == "ok"
        ok = ok and not ctx.settings.artificial_unready
        status = "unavailable"
        if ctx.state.draining:
            # Leave the load balancer first, before this replica stops accepting connections.
            ok, status = False, "draining"
        if ok:
            status = "ready" if checks["cache"] == "ok" else "degraded"
        body = {"status": status, "pid": pid, "checks": checks}
        return json_response(body, 200 if ok else 503)

    return [
        Route("GET", "/api/health/startup", startup, delayed=False),
        Route("GET", "/api/health/live", live, delayed=False),
        Route("GET", "/api/health/ready", ready, delayed=False),
    ]


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, READY_CHECK_TIMEOUT_SECONDS)  # type: ignore[arg-type]
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
