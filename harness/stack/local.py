"""The `local` backend: the app's replicas on 127.0.0.1 against a real PostgreSQL and Redis 7.

The servers are started from this machine's binaries with the bundled settings scaled to its
memory (max_connections stays the seed's 100), or `--database-url` / `--redis-url` point at
existing ones. Everything started is stopped on every exit.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from harness.redact import redact_url
from harness.stack.backend import Endpoints, Leftovers
from harness.stack.capabilities import Capabilities
from harness.stack.embedded import EmbeddedStack, ProbeSpec
from harness.stack.services.postgres import PostgresServer
from harness.stack.services.redis import RedisServer

__all__ = ["LocalStack"]


class LocalStack:
    """The embedded stack's replica processes plus PostgreSQL and Redis servers.

    Attributes:
        app: the replicas, as the embedded backend runs them; `up` points them at the servers.
        postgres: the server the harness started, or None with --database-url.
        redis: likewise with --redis-url.
    """

    name = "local"

    def __init__(self, app: EmbeddedStack, *, database_url: str | None = None,
                 redis_url: str | None = None) -> None:
        self.app = app
        self.log_dir = app.log_dir
        self.database_url = database_url
        self.redis_url = redis_url
        self.postgres: PostgresServer | None = None
        self.redis: RedisServer | None = None
        self.work_dir: Path | None = None

    @property
    def probe(self) -> ProbeSpec:
        return self.app.probe

    def up(self) -> Endpoints:
        self.work_dir = Path(tempfile.mkdtemp(prefix="harness-local-"))
        database_url = self.database_url
        if database_url is None:
            self.postgres = PostgresServer(log_dir=self.log_dir)
            database_url = self.postgres.start()
        redis_url = self.redis_url
        if redis_url is None:
            self.redis = RedisServer(work_dir=self.work_dir, log_dir=self.log_dir)
            redis_url = self.redis.start()
        self.app.database_url = database_url
        self.app.cache_url = redis_url
        self.app.up()
        return self.endpoints()

    def ready(self) -> bool:
        return self.app.ready()

    def endpoints(self) -> Endpoints:
        inner = self.app.endpoints()
        database = redact_url(self.app.database_url or "")
        if self.postgres is not None:
            database += f" (max_connections {self.postgres.max_connections})"
        return Endpoints(
            backend=self.name,
            service_url=inner.service_url,
            replicas=inner.replicas,
            database=database,
            cache=self.app.cache_url,
            tokens_file=inner.tokens_file,
        )

    def capabilities(self) -> Capabilities:
        """The replicas; PostgreSQL and Redis once `up` started them (not with the URL of a
        server elsewhere)."""
        return Capabilities(replicas=self.app, database=self.postgres, postgres=self.postgres,
                            redis=self.redis)

    def down(self) -> Leftovers:
        with contextlib.suppress(Exception):
            self.app.down()
        for server in (self.redis, self.postgres):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        self.redis = self.postgres = None
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
        return Leftovers()  # processes and a work directory only
