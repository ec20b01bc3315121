"""GET /api/metrics: Prometheus text exposition of this replica's registry (no auth)."""

from __future__ import annotations

from ..asgi import Request, Response
from ..context import AppContext
from ..metrics import CONTENT_TYPE_LATEST
from ..router import Route

__all__ = ["routes"]

_CONTENT_TYPE = CONTENT_TYPE_LATEST.encode()


def routes(ctx: AppContext) -> list[Route]:
    async def scrape(request: Request) -> Response:
        return Response(200, ctx.metrics.render(), _CONTENT_TYPE)

    return [Route("GET", "/api/metrics", scrape, delayed=False)]
