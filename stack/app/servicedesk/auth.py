"""Bearer tokens: generated once, stored as SHA-256 hashes, looked up through a short-TTL cache."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from collections.abc import Callable
from typing import cast

from .asgi import HttpError
from .cache.memory import TtlLru
from .models import User
from .store.base import TicketStore

__all__ = ["AUTH_CACHE_TTL_SECONDS", "Authenticator", "hash_token", "new_token"]

AUTH_CACHE_TTL_SECONDS = 5.0
AUTH_CACHE_MAX_ENTRIES = 10_000
_TOKEN_BYTES = 32
_UNKNOWN = object()  # negative-cache marker: this hash belongs to nobody
_CHALLENGE = ((b"www-authenticate", b'Bearer realm="servicedesk"'),)


def new_token(rng: random.Random | None = None) -> str:
    """A URL-safe token; deterministic only when ``rng`` is given (seeded test data)."""
    if rng is None:
        return secrets.token_urlsafe(_TOKEN_BYTES)
    return rng.getrandbits(_TOKEN_BYTES * 8).to_bytes(_TOKEN_BYTES, "big").hex()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _unauthorized(message: str) -> HttpError:
    return HttpError(401, "unauthorized", message, headers=_CHALLENGE)


class Authenticator:
    """Resolve an ``Authorization`` header to a :class:`User` or raise HTTP 401.

    Lookups (found or not) are cached for ``ttl`` seconds, so a revoked token may keep working
    that long on a replica that has just seen it.
    """

    def __init__(
        self,
        store: TicketStore,
        *,
        ttl: float = AUTH_CACHE_TTL_SECONDS,
        max_entries: int = AUTH_CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache: TtlLru[str, object] = TtlLru(max_entries=max_entries, ttl=ttl, clock=clock)

    async def authenticate(self, authorization: bytes | None) -> User:
        if not authorization:
            raise _unauthorized("missing bearer token")
        scheme, _, token = authorization.partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            raise _unauthorized("expected 'Authorization: Bearer <token>'")
        digest = hashlib.sha256(token).hexdigest()
        found = self._cache.get(digest)
        if found is None:
            user = await self._store.user_by_token_hash(digest)
            found = _UNKNOWN if user is None else user
            self._cache.set(digest, found)
        if found is _UNKNOWN:
            raise _unauthorized("unknown token")
        return cast(User, found)
