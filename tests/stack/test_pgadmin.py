"""pgAdmin for real: the compose file's `tools` profile with the pgAdmin image scripts/images
builds from PyPI, logged into with headless Chromium, showing the ServiceDesk database's tables
through the server that servers.json registered (its password read from the container's
environment when connecting).

Slow (the first `scripts/images --tools` installs pgadmin4 into an image, minutes; the stack's
start, about a minute more): run with HARNESS_TEST_PGADMIN=1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from harness.config.model import SeedSpec
from harness.stack.compose import ComposeStack
from tests.stack.engine_support import build_images, with_images

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(2400),
    pytest.mark.skipif(os.environ.get("HARNESS_TEST_PGADMIN", "") in ("", "0"),
                       reason="slow (builds the pgAdmin image, starts compose with the tools "
                              "profile): set HARNESS_TEST_PGADMIN=1"),
]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EMAIL = "sre@servicedesk.example.com"
TABLES = {"tickets", "comments", "users"}


@pytest.fixture(scope="module")
def password() -> str:
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, password: str) -> Iterator[ComposeStack]:
    images = build_images(tools=True)
    assert images.get("PGADMIN_IMAGE") == "servicedesk-pgadmin:local", images
    backend = ComposeStack(
        log_dir=tmp_path_factory.mktemp("pgadmin-logs"),
        replicas=1,
        seed=SeedSpec(tickets=50, agents=3, customers=5),
        environ={**with_images(images), "PGADMIN_DEFAULT_EMAIL": EMAIL,
                 "PGADMIN_DEFAULT_PASSWORD": password},
        profiles=("tools",),
    )
    try:
        backend.up()
        yield backend
    finally:
        backend.down()


@pytest.fixture(scope="module")
def page(stack: ComposeStack) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 900})
        finally:
            browser.close()


# The calls pgAdmin's own object tree makes when a node is expanded, from inside the logged-in
# page (its session cookie and CSRF token): groups, servers, connect, databases, schemas, tables.
TREE = """
async () => {
  const token = window.pgAdmin && window.pgAdmin.csrf_token;
  const headers = {'X-pgA-CSRFToken': token, 'Content-Type': 'application/json'};
  const get = async (path) => {  // the node lists come as `data` or as `result`
    const r = await fetch(path, {headers});
    const body = await r.json();
    if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + body.errormsg);
    return body.data || body.result;
  };
  const groups = await get('/browser/server_group/nodes/');
  const group = groups.find(g => g.label === 'ServiceDesk');
  const servers = await get(`/browser/server/nodes/${group._id}`);
  const server = servers.find(s => s.label === 'ServiceDesk');
  const connect = await fetch(`/browser/server/connect/${group._id}/${server._id}`,
                              {method: 'POST', headers, body: '{}'});
  const connected = await connect.json();
  const databases = await get(`/browser/database/nodes/${group._id}/${server._id}/`);
  const db = databases.find(d => d.label === 'servicedesk');
  const schemas = await get(`/browser/schema/nodes/${group._id}/${server._id}/${db._id}/`);
  const pub = schemas.find(s => s.label === 'public');
  const tables = await get(
    `/browser/table/nodes/${group._id}/${server._id}/${db._id}/${pub._id}/`);
  return {groups: groups.map(g => g.label), servers: servers.map(s => s.label),
          connect: connect.status, connected: connected.success,
          databases: databases.map(d => d.label), tables: tables.map(t => t.label)};
}
"""


def _login(page: Page, url: str, password: str) -> None:
    page.goto(url + "/login", wait_until="networkidle", timeout=120_000)
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_url(lambda u: "/login" not in u, timeout=120_000)
    page.wait_for_function("() => window.pgAdmin && window.pgAdmin.csrf_token", timeout=120_000)


def test_pgadmin_is_published_on_loopback(stack: ComposeStack) -> None:
    url = stack.endpoints().extra["pgadmin"]
    assert url.startswith("http://127.0.0.1:")
    assert {c.service for c in stack.container_states()} >= {"pgadmin", "postgres"}
    assert all(c.health == "healthy" for c in stack.container_states())


def test_a_login_sees_the_servicedesk_tables(stack: ComposeStack, page: Page,
                                             password: str) -> None:
    url = stack.endpoints().extra["pgadmin"]
    _login(page, url, password)
    # the object explorer shows the group servers.json registered
    page.get_by_text("ServiceDesk", exact=True).first.wait_for(state="visible", timeout=60_000)
    found: dict[str, Any] = page.evaluate(TREE)
    assert "ServiceDesk" in found["groups"] and found["servers"] == ["ServiceDesk"], found
    assert found["connect"] == 200 and found["connected"], found
    assert "servicedesk" in found["databases"], found
    assert set(found["tables"]) >= TABLES, found


def test_a_wrong_password_is_refused(stack: ComposeStack, page: Page) -> None:
    context = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        other = context.new_page()
        other.goto(stack.endpoints().extra["pgadmin"] + "/login", wait_until="networkidle")
        other.locator("input[name=email]").fill(EMAIL)
        other.locator("input[name=password]").fill("not-the-password")
        other.get_by_role("button", name="Login").click()
        other.wait_for_timeout(2000)
        assert "/login" in other.url
    finally:
        context.close()
