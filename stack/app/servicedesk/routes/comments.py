"""Comments on a ticket; customers may only see and comment on their own tickets."""

from __future__ import annotations

from typing import cast

from ..asgi import Request, Response, json_response
from ..codec import comment_dict
from ..context import AppContext
from ..models import User
from ..payloads import required_object, text_field
from ..router import Route
from ..timestamps import format_ts
from .roles import ANYONE
from .tickets import cache_key, not_found, visible_ticket

__all__ = ["routes"]

MAX_BODY = 10_000


def routes(ctx: AppContext) -> list[Route]:
    async def add(request: Request) -> Response:
        user = cast(User, request.user)
        ticket_id = request.params["id"]
        body = text_field(required_object(await request.json()), "body", max_length=MAX_BODY)
        await visible_ticket(ctx, user, ticket_id)
        comment = await ctx.store.add_comment(ticket_id, user.id, body, format_ts(ctx.now()))
        await ctx.cache.delete(cache_key(ticket_id))  # updated_at moved
        if comment is None:
            raise not_found(ticket_id)
        return json_response(comment_dict(comment), 201)

    async def list_(request: Request) -> Response:
        ticket_id = request.params["id"]
        await visible_ticket(ctx, cast(User, request.user), ticket_id)
        found = await ctx.store.list_comments(ticket_id)
        return json_response({"items": [comment_dict(c) for c in found]})

    return [
        Route("POST", "/api/tickets/{id}/comments", add, ANYONE),
        Route("GET", "/api/tickets/{id}/comments", list_, ANYONE),
    ]
