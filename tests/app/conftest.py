"""Fixtures for the ServiceDesk app tests: settings on a temp SQLite file, an in-process client,
users of each role."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "stack" / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

import httpx  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from servicedesk.app import ServiceDeskApp, create_app  # noqa: E402
from servicedesk.metrics import Metrics  # noqa: E402
from servicedesk.settings import Settings, load_settings  # noqa: E402

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'servicedesk.db'}"


@pytest.fixture
def env(db_url: str) -> dict[str, str]:
    """Environment for an app under test; tests may add keys before ``settings`` is built."""
    return {
        "DATABASE_URL": db_url,
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": "4",
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SLA_SWEEP_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "warning",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def app(settings: Settings, metrics: Metrics) -> ServiceDeskApp:
    return create_app(settings, metrics=metrics)


@pytest.fixture
async def client(app: ServiceDeskApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client bound to ``app`` in-process, with the app's lifespan around it."""
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as c:
            yield c
    finally:
        await app.shutdown()


@dataclass(frozen=True)
class Actor:
    id: int
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def _make_user(client: httpx.AsyncClient, role: str, name: str = "Test User") -> Actor:
    response = await client.post(
        "/api/users",
        json={"name": name, "role": role},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Actor(body["id"], body["role"], body["token"])


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> Actor:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    me = (await client.get("/api/users/me", headers=headers)).json()
    return Actor(me["id"], "admin", ADMIN_TOKEN)


@pytest.fixture
async def agent(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "agent", "Alice Agent")


@pytest.fixture
async def customer(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "customer", "Carl Customer")


@pytest.fixture
async def other_customer(client: httpx.AsyncClient) -> Actor:
    return await _make_user(client, "customer", "Olga Other")


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def new_ticket(client: httpx.AsyncClient) -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await new_ticket(actor, title=..., priority=..., description=...)`` -> ticket JSON."""

    async def create(
        actor: Actor, *, title: str = "VPN drops every 10 minutes", **extra: str
    ) -> dict[str, Any]:
        body = {
            "title": title,
            "description": "Since Monday the tunnel resets.",
            "priority": "high",
        }
        body.update(extra)
        response = await client.post("/api/tickets", json=body, headers=actor.headers)
        assert response.status_code == 201, response.text
        return response.json()

    return create


# --- real servers for the PostgreSQL store and the Redis cache (integration) ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres_user() -> tuple[list[str], int, int]:
    """initdb and postgres refuse to run as root: drop to the ``postgres`` account then."""
    if os.geteuid() != 0:
        return [], os.getuid(), os.getgid()
    account = pwd.getpwnam("postgres")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("running the tests as root needs setpriv to start PostgreSQL")
    prefix = [setpriv, f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}", "--clear-groups"]
    return prefix, account.pw_uid, account.pw_gid


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (initdb/pg_ctl from PATH) in a temp folder, listening on
    a free 127.0.0.1 port with its unix socket in that folder. Yields a superuser URL."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("initdb and pg_ctl must be on PATH for the PostgreSQL tests")
    prefix, uid, gid = _as_postgres_user()
    base = Path(tempfile.mkdtemp(prefix="servicedesk-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir()
    for path in (base, sockets):
        os.chown(path, uid, gid)
    port = _free_port()
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "servicedesk", "--auth=trust", "-E", "UTF8",
         "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w",
         "-t", "60", "start"],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    if started.returncode != 0:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")
    try:
        yield f"postgresql://servicedesk@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class RedisServer:
    """A redis-server process on a free port; ``stop``/``start`` simulate an outage."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(binary).exists():
            raise RuntimeError("redis-server is needed for the Redis cache tests")
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir), "--maxmemory-policy",
             "allkeys-lru"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
