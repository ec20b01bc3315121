"""GET /api/search: full-text search over titles, descriptions and comments."""

from __future__ import annotations

from typing import cast

from ..asgi import Request, Response, json_response
from ..codec import page_dict, ticket_dict
from ..context import AppContext
from ..models import Role, User
from ..payloads import page_args, search_terms
from ..router import Route
from .roles import ANYONE

__all__ = ["routes"]


def routes(ctx: AppContext) -> list[Route]:
    async def search(request: Request) -> Response:
        user = cast(User, request.user)
        terms = search_terms(request.query)
        page, per_page = page_args(request.query)
        owner = user.id if user.role is Role.CUSTOMER else None
        found = await ctx.store.search(terms, owner, page, per_page)
        return json_response({**page_dict(found, ticket_dict), "terms": list(terms)})

    return [Route("GET", "/api/search", search, ANYONE)]
