import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_static_assets_with_cache_headers(client: httpx.AsyncClient) -> None:
    css = await client.get("/static/css/servicedesk.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=3600"
    assert "etag" in css.headers
    js = await client.get("/_next/static/chunks/main.js")
    assert js.status_code == 200
    assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await client.get(
        "/_next/static/chunks/main.js", headers={"if-none-match": js.headers["etag"]}
    )
    assert again.status_code == 304
    assert (await client.get("/static/js/servicedesk.js")).status_code == 200


async def test_missing_assets_and_traversal_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/nope.css")).status_code == 404
    assert (await client.get("/static/../settings.py")).status_code == 404


async def test_home_page_links_the_assets(client: httpx.AsyncClient) -> None:
    home = await client.get("/")
    assert home.status_code == 200 and home.headers["cache-control"] == "no-cache"
    assert b"/static/css/servicedesk.css" in home.content
    assert b"/_next/static/chunks/main.js" in home.content
