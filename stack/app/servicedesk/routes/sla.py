"""GET /api/sla/summary (staff only): ``{"critical": {"open", "breached", "due_soon"}, ...}``.

``open``: unresolved tickets; ``breached``: those past their due time; ``due_soon``: those not yet
due that will be within the last DUE_SOON_FRACTION of their response window.
"""

from __future__ import annotations

from ..asgi import Request, Response, json_response
from ..codec import sla_dict
from ..context import AppContext
from ..router import Route
from ..timestamps import format_ts
from .roles import STAFF

__all__ = ["routes"]


def routes(ctx: AppContext) -> list[Route]:
    async def summary(request: Request) -> Response:
        now = ctx.now()
        rows = await ctx.store.sla_summary(format_ts(now), ctx.sla.due_soon_until(now))
        return json_response({row.priority.value: sla_dict(row) for row in rows})

    return [Route("GET", "/api/sla/summary", summary, STAFF)]
