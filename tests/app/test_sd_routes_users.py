import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_admin_creates_users_and_they_can_log_in(
    admin_headers, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/api/users", json={"name": "Ana", "role": "agent"}, headers=admin_headers
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "role", "token", "created_at"}
    assert (body["name"], body["role"]) == ("Ana", "agent")
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == body["id"] and "token" not in me.json()


async def test_only_admins_create_users(client: httpx.AsyncClient, agent, customer) -> None:
    for actor in (agent, customer):
        response = await client.post(
            "/api/users", json={"name": "x", "role": "agent"}, headers=actor.headers
        )
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


async def test_bootstrap_admin_comes_from_admin_token(
    admin_headers, client: httpx.AsyncClient
) -> None:
    me = await client.get("/api/users/me", headers=admin_headers)
    assert me.status_code == 200 and me.json()["role"] == "admin"


@pytest.mark.parametrize(
    "body",
    [{"name": "x", "role": "admin"}, {"name": "", "role": "agent"}, {"role": "agent"}, ["x"]],
)
async def test_bad_user_payloads_are_422(
    admin_headers, client: httpx.AsyncClient, body: object
) -> None:
    response = await client.post("/api/users", json=body, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_invalid_json_is_400(admin_headers, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", content=b"{nope", headers=admin_headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


async def test_oversized_bodies_are_413(admin_headers, client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", content=b"x" * 70_000, headers=admin_headers)
    assert response.status_code == 413


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "x"}])
async def test_401_without_a_valid_token(client: httpx.AsyncClient, headers: dict) -> None:
    response = await client.get("/api/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")
