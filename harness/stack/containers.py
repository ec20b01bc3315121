"""`--stack local --services containers`: the local backend's PostgreSQL and Redis as containers.

For machines with a container engine but no PostgreSQL or Redis installed. testcontainers starts
the images the compose file names (POSTGRES_IMAGE, REDIS_IMAGE, or its defaults) with the same
scaled settings the local backend gives its own servers, each published on 127.0.0.1 only; the
app's replicas run locally as in `local`. testcontainers' reaper (Ryuk) is an image from a registry
and is disabled: every container carries a label of this run, and `down` removes what carries it
and records whatever would remain.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from harness import paths
from harness.errors import DependencyError, StackError
from harness.redact import redact, redact_url
from harness.stack.backend import Endpoints, Leftovers
from harness.stack.capabilities import Capabilities
from harness.stack.composefile import ComposeFile
from harness.stack.engine import LOOPBACK
from harness.stack.local import LocalStack
from harness.stack.services import postgres as pg
from harness.stack.services import redis as rd
from harness.stack.services.postgres import ConnectionCounts, count_connections

__all__ = ["RUN_LABEL", "ContainerDatabase", "ContainerServices", "leftovers", "sweep_run"]

RUN_LABEL = "servicedesk.harness.run"
SWEEP_SECONDS = 60.0  # for a busy engine to remove the run's containers (one try fell short)
SUPERUSER = "postgres"


@dataclass(frozen=True)
class ContainerDatabase:
    """The PostgreSQL container's connection limits and pg_stat_activity (a DatabaseConnections
    capability: counted, not stopped or restarted by faults)."""

    max_connections: int
    reserved_connections: int
    admin_url: str = field(repr=False)

    def connection_counts(self) -> ConnectionCounts:
        return count_connections(self.admin_url)


def _docker_client() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # docker.errors.DockerException and the socket's own errors
        raise DependencyError(f"no Docker daemon answers ({type(exc).__name__}); start dockerd "
                              "(scripts/images starts one and builds the local images)") from None
    return client


def leftovers(run: str) -> dict[str, list[str]]:
    """Containers and volumes still labelled with this run (empty lists: nothing remains)."""
    client = _docker_client()
    try:
        containers, volumes = _labelled(client, run)
        return {"container": [c.name for c in containers], "volume": [v.name for v in volumes]}
    finally:
        client.close()


def _labelled(client: Any, run: str) -> tuple[list[Any], list[Any]]:
    """The containers (stopped ones too) and volumes labelled with `run`. ignore_removed: a
    container whose removal ends between the listing and its inspection is gone, not an error."""
    selector = {"label": f"{RUN_LABEL}={run}"}
    return (client.containers.list(all=True, filters=selector, ignore_removed=True),
            client.volumes.list(filters=selector))


def _started(container: Any) -> Any:
    """The engine's container behind a testcontainers one, or None if it never started."""
    from testcontainers.core.exceptions import ContainerStartException

    if container is None:
        return None
    try:
        return container.get_wrapped_container()
    except ContainerStartException:
        return None


def sweep_run(client: Any, run: str, *, patience: float = SWEEP_SECONDS, pause: float = 0.5,
              clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> Leftovers:
    """Remove every container and volume labelled with `run`, round after round until none is
    listed or `patience` seconds have passed, and return what is still listed then.

    Removal is not done when `remove` returns: on a busy engine a container stays listed while
    its removal is in progress (another `remove` gets 409), and its volume stays in use until
    the container is gone."""
    deadline = clock() + patience
    while True:
        containers, volumes = _labelled(client, run)
        if not containers and not volumes:
            return Leftovers()
        if clock() >= deadline:
            return Leftovers({"container": tuple(c.name for c in containers),
                              "volume": tuple(v.name for v in volumes)})
        for container in containers:
            with contextlib.suppress(Exception):  # 409 (in progress) or 404 (gone meanwhile)
                container.remove(force=True, v=True)
        for volume in volumes:
            with contextlib.suppress(Exception):  # 409 while a container still holds it
                volume.remove(force=True)
        sleep(pause)


def _ensure_image(image: str, what: str) -> None:
    """The image is here, or is pulled now; the engine's own error (it names the registry it
    tried) is replaced by what to do about it."""
    import docker

    client = _docker_client()
    try:
        try:
            client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            pass
        try:
            client.images.pull(image)
        except docker.errors.APIError:
            raise DependencyError(
                f"{what} image {image} is not here and could not be pulled (build the local "
                "images with scripts/images and export the variables it prints)") from None
    finally:
        client.close()


class ContainerServices:
    """A LocalStack whose PostgreSQL and Redis are containers started through testcontainers.

    Attributes:
        local: the wrapped local backend (the app's replicas).
        run: the label value marking this run's containers.
    """

    name = "local"

    def __init__(self, local: LocalStack, *, log_dir: Path,
                 environ: Mapping[str, str] | None = None) -> None:
        self.local = local
        self.log_dir = log_dir
        env = os.environ if environ is None else environ
        compose = ComposeFile.load(paths.stack_dir() / "compose" / "docker-compose.yml")
        self.postgres_image = compose.image("postgres", env)
        self.redis_image = compose.image("redis", env)
        self.run = secrets.token_hex(6)
        self._password = secrets.token_urlsafe(18)
        self._app_password = secrets.token_urlsafe(18)
        self._postgres: Any = None
        self._redis: Any = None
        self._admin: str | None = None
        self.postgres: ContainerDatabase | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def up(self) -> Endpoints:
        from testcontainers.core.config import ConnectionMode, testcontainers_config

        # Ryuk (the reaper) is pulled from a registry; this class cleans up after itself instead.
        testcontainers_config.ryuk_disabled = True
        # Ports are published on 127.0.0.1 of the engine's host, which is this machine; a leftover
        # /.dockerenv would otherwise make testcontainers dial the bridge's gateway instead.
        if testcontainers_config.connection_mode_override is None:
            testcontainers_config.connection_mode_override = ConnectionMode.docker_host
        _docker_client().close()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        database_url = self._start_postgres()
        redis_url = self._start_redis()
        self.local.database_url = database_url
        self.local.redis_url = redis_url
        self.local.up()
        return self.endpoints()

    def _prepare(self, container: Any, name: str, data: str, port: int) -> None:
        """The run's label on the container and on a named volume for its data (an anonymous
        volume would carry no label to find it by), and the port published on an ephemeral port
        of 127.0.0.1 only."""
        client = _docker_client()
        try:
            volume = client.volumes.create(name=f"servicedesk-{name}-{self.run}",
                                           labels={RUN_LABEL: self.run})
        finally:
            client.close()
        container.with_volume_mapping(volume.name, data, mode="rw")
        container.ports[str(port)] = (LOOPBACK,)  # docker-py: (host ip,) -> an ephemeral port

    def _start_postgres(self) -> str:
        from testcontainers.community.postgres import PostgresContainer

        settings = pg.scaled_settings()
        # As the local backend's own server: a throwaway database, durability not measured.
        settings.update({"fsync": "off", "synchronous_commit": "off"})
        command = ["postgres"] + [f"-c{key}={value}" for key, value in sorted(settings.items())]
        container = PostgresContainer(self.postgres_image, username=SUPERUSER,
                                      password=self._password, dbname=SUPERUSER, driver=None)
        container.with_command(command).with_kwargs(shm_size="256m", labels={RUN_LABEL: self.run})
        self._prepare(container, "postgres", "/var/lib/postgresql/data", 5432)
        self._postgres = container
        self._start(container, "PostgreSQL", self.postgres_image)
        port = int(container.get_exposed_port(5432))
        self._admin = f"postgresql://{SUPERUSER}:{self._password}@{LOOPBACK}:{port}/{SUPERUSER}"
        self.postgres = ContainerDatabase(int(settings.get("max_connections", "100")),
                                          int(settings.get("superuser_reserved_connections", "3")),
                                          self._admin)
        self._create_app_database()
        return f"postgresql://{pg.ROLE}:{self._app_password}@{LOOPBACK}:{port}/{pg.DATABASE}"

    def _create_app_database(self) -> None:
        """The app's own role and database, as the local backend's server has."""
        assert self._admin is not None  # noqa: S101
        with psycopg.connect(self._admin, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(pg.ROLE), sql.Literal(self._app_password)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(pg.DATABASE), sql.Identifier(pg.ROLE)))

    def _start_redis(self) -> str:
        from testcontainers.community.redis import RedisContainer

        settings = rd.scaled_settings()
        command = ["redis-server"]
        for key, value in sorted(settings.items()):
            command += [f"--{key}", *value.split()]
        container = RedisContainer(self.redis_image)
        container.with_command(command).with_kwargs(labels={RUN_LABEL: self.run})
        self._prepare(container, "redis", "/data", 6379)
        self._redis = container
        self._start(container, "Redis", self.redis_image)
        return f"redis://{LOOPBACK}:{int(container.get_exposed_port(6379))}/0"

    def _start(self, container: Any, what: str, image: str) -> None:
        _ensure_image(image, what)
        try:
            container.start()
        except Exception as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            inner = _started(container)
            with contextlib.suppress(Exception):
                tail = inner.logs(tail=3).decode("utf-8", "replace").strip().splitlines()
                message += f" ({' | '.join(tail)})" if tail else ""
            raise StackError(redact(f"{what} container ({image}) did not start: {message}",
                                    extra_secrets=(self._password,))) from None

    def ready(self) -> bool:
        return self.local.ready()

    def endpoints(self) -> Endpoints:
        inner = self.local.endpoints()
        return Endpoints(
            backend=self.name,
            service_url=inner.service_url,
            replicas=inner.replicas,
            database=(f"{redact_url(self.local.database_url or '')} "
                      f"(container {self.postgres_image})"),
            cache=f"{self.local.redis_url} (container {self.redis_image})",
            tokens_file=inner.tokens_file,
            extra={"services": "containers (testcontainers)"},
        )

    # -- what the instruments use (the local autoscaler, pg_stat_activity) ---------------------

    def capabilities(self) -> Capabilities:
        """The replicas and the database's connections; the containers themselves are not
        stopped or restarted by faults."""
        return Capabilities(replicas=self.local.app, database=self.postgres)

    # -- down ---------------------------------------------------------------------------------

    def down(self) -> Leftovers:
        with contextlib.suppress(Exception):
            self.local.down()
        for name, container in (("redis", self._redis), ("postgres", self._postgres)):
            wrapped = _started(container)
            if wrapped is None:
                continue
            with contextlib.suppress(Exception):
                logs = wrapped.logs(timestamps=True).decode("utf-8", "replace")
                (self.log_dir / f"{name}.log").write_text(
                    redact(logs, extra_secrets=(self._password, self._app_password)),
                    encoding="utf-8")
            with contextlib.suppress(Exception):
                container.stop(force=True, delete_volume=True)
        self._redis = self._postgres = None
        self._admin = None
        return self._sweep()

    def _sweep(self) -> Leftovers:
        """Remove whatever still carries this run's label (an interrupted start, a failed stop)."""
        try:
            client = _docker_client()
        except DependencyError:
            return Leftovers()
        try:
            return sweep_run(client, self.run)
        except Exception as exc:  # docker.errors.APIError mid-sweep: say where to look instead
            return Leftovers({"anything labelled": (
                f"{RUN_LABEL}={self.run} (the engine stopped answering: {type(exc).__name__})",)})
        finally:
            client.close()
