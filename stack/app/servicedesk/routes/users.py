"""POST /api/users (admin) and GET /api/users/me."""

from __future__ import annotations

from typing import cast

from ..asgi import Request, Response, json_response
from ..auth import hash_token, new_token
from ..codec import user_dict
from ..context import AppContext
from ..models import Role, User
from ..payloads import invalid, required_object, text_field
from ..router import Route
from ..timestamps import format_ts
from .roles import ADMIN, ANYONE

__all__ = ["routes"]

_CREATABLE = (Role.AGENT, Role.CUSTOMER)


def routes(ctx: AppContext) -> list[Route]:
    async def create(request: Request) -> Response:
        body = required_object(await request.json())
        name = text_field(body, "name", max_length=200)
        role = body.get("role")
        if role not in _CREATABLE:
            raise invalid("role", "one of agent, customer")
        token = new_token()
        user = await ctx.store.create_user(
            name, Role(role), hash_token(token), format_ts(ctx.now())
        )
        return json_response({**user_dict(user), "token": token}, 201)

    async def me(request: Request) -> Response:
        return json_response(user_dict(cast(User, request.user)))

    return [
        Route("POST", "/api/users", create, ADMIN),
        Route("GET", "/api/users/me", me, ANYONE),
    ]
