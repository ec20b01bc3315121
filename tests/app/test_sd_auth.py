import random

import pytest
from servicedesk.asgi import HttpError
from servicedesk.auth import Authenticator, hash_token, new_token
from servicedesk.models import Role, User

pytestmark = pytest.mark.anyio

ALICE = User(7, "Alice", Role.AGENT, "2024-05-01T00:00:00.000Z")


class CountingStore:
    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def user_by_token_hash(self, token_hash: str) -> User | None:
        self.lookups.append(token_hash)
        return ALICE if token_hash == hash_token("alice-token") else None


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tokens_are_random_unless_seeded() -> None:
    assert new_token() != new_token()
    assert len(new_token()) >= 40
    assert new_token(random.Random(3)) == new_token(random.Random(3))


def test_hash_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    "header",
    [None, b"", b"Bearer", b"Bearer ", b"Basic YWxpY2U6cHc=", b"bearer-alice-token"],
)
async def test_missing_or_malformed_headers_are_401(header: bytes | None) -> None:
    auth = Authenticator(CountingStore())  # type: ignore[arg-type]
    with pytest.raises(HttpError) as caught:
        await auth.authenticate(header)
    assert caught.value.status == 401
    assert (b"www-authenticate", b'Bearer realm="servicedesk"') in caught.value.headers


async def test_known_token_resolves_and_is_cached_for_the_ttl() -> None:
    store, clock = CountingStore(), Clock()
    auth = Authenticator(store, ttl=5, clock=clock)  # type: ignore[arg-type]
    assert await auth.authenticate(b"Bearer alice-token") == ALICE
    assert await auth.authenticate(b"bearer   alice-token") == ALICE
    assert len(store.lookups) == 1
    clock.now = 5.1
    assert await auth.authenticate(b"Bearer alice-token") == ALICE
    assert len(store.lookups) == 2


async def test_unknown_tokens_are_401_and_negatively_cached() -> None:
    store = CountingStore()
    auth = Authenticator(store)  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(HttpError) as caught:
            await auth.authenticate(b"Bearer guess")
        assert caught.value.status == 401 and caught.value.message == "unknown token"
    assert len(store.lookups) == 1
