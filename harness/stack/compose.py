"""The `compose` backend: the bundled docker-compose stack on this machine's container engine.

`up` builds the app image through Compose, starts the default services plus Prometheus (which the
harness reads) plus every service of the chosen profiles, waits for every healthcheck within a
budget read from the file, seeds the database in the first app replica, and hands back nginx's TLS
port and each replica's own port, all published on 127.0.0.1 only. `down` saves every container's
log, runs `down -v`, and removes whatever still carries the project's label. Compose v2
(`docker compose` or a `docker-compose` 2.x binary) and v1 (`docker-compose` 1.x) both work: the
harness uses only commands they share and reads state from the engine through the labels both set.
A `rollout` fault starts and stops the app containers one at a time (harness.stack.composeapp).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from harness import paths
from harness.config.model import SeedSpec
from harness.errors import DependencyError, StackError
from harness.redact import redact
from harness.stack import prometheus
from harness.stack.backend import Endpoints, Leftovers, Replica
from harness.stack.capabilities import Capabilities
from harness.stack.certs import self_signed
from harness.stack.composeapp import ComposeAppService
from harness.stack.composefile import APP_SERVICE, PROMETHEUS_SERVICE, PROXY_SERVICE, ComposeFile
from harness.stack.engine import (
    LOOPBACK,
    ComposeTool,
    ContainerState,
    Runner,
    docker,
    find_compose,
    last_line,
    project_containers,
    project_leftovers,
)

__all__ = ["ComposeStack"]


@dataclass
class _Project:
    name: str
    tool: ComposeTool
    files: tuple[Path, ...]
    env: dict[str, str]
    secrets: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    started: bool = False
    containers: list[ContainerState] = field(default_factory=list)


class ComposeStack:
    """The bundled compose stack, started for one run and removed with its volumes afterwards.

    Attributes:
        compose_file: the docker-compose.yml (default: the bundled one).
        profiles: profiles whose services start too (Prometheus always does).
        replicas: app containers (`--scale app=N`); None: the file's.
        start_timeout: seconds for every healthcheck to pass; None: from the file's healthchecks.
        leftovers: what `down` found still labelled with the project afterwards (empty: clean).
    """

    name = "compose"

    def __init__(
        self,
        *,
        log_dir: Path,
        profiles: Sequence[str] = (),
        replicas: int | None = None,
        settings: Mapping[str, str] | None = None,
        seed: SeedSpec | None = None,
        compose_file: Path | None = None,
        start_timeout: float | None = None,
        environ: Mapping[str, str] | None = None,
        run: Runner = subprocess.run,
    ) -> None:
        self.compose_file = compose_file or paths.stack_dir() / "compose" / "docker-compose.yml"
        self.file = ComposeFile.load(self.compose_file)
        self.services = self.file.services_for(profiles)
        self.ports = self.file.port_variables(self.services)
        self.profiles = tuple(profiles)
        self.replicas = replicas
        self.settings = dict(settings or {})
        self.seed = seed or SeedSpec()
        self.log_dir = log_dir
        self.start_timeout = start_timeout
        self.environ = dict(os.environ if environ is None else environ)
        self.run = run
        self.project: _Project | None = None
        self.app: ComposeAppService | None = None  # once up: what a rollout starts and stops
        self.work_dir: Path | None = None
        self.tokens_file: Path | None = None
        self.leftovers: dict[str, list[str]] = {}
        self.timings: dict[str, float] = {}

    # -- up -----------------------------------------------------------------------------------

    def up(self) -> Endpoints:
        tool = find_compose(self.environ, run=self.run)
        engine = docker(["version", "--format", "{{.Server.Version}}"], timeout=20, run=self.run,
                         check=False)
        if engine.returncode != 0:
            raise DependencyError("no Docker daemon answers (start dockerd; scripts/images starts "
                                  "one and builds the local images)")
        self.work_dir = Path(tempfile.mkdtemp(prefix="harness-compose-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env, generated = self._environment()
        main = self.compose_file
        if tool.major == 1:
            main = self.work_dir / "docker-compose.v1.yml"
            main.write_text(self.file.for_compose_v1(), encoding="utf-8")
        self.project = _Project(
            name=f"servicedesk-{secrets.token_hex(3)}", tool=tool,
            files=(main, self._override()), env=env, secrets=generated,
            profiles=self.file.profiles(),
        )
        started = time.monotonic()
        self._build()
        self.timings["build"] = time.monotonic() - started
        self._ensure_images()
        budget = self.start_timeout or self.file.start_budget(self.services) + 60
        started = time.monotonic()
        self.project.started = True
        self.project.containers = self._up(budget)
        self.timings["up"] = time.monotonic() - started
        self.app = ComposeAppService(self.project.name, self.work_dir, self._scale_app,
                                     proxy_network=self.file.proxy_network(self.project.name),
                                     save_log=self._save_log, run=self.run)
        started = time.monotonic()
        self._seed()
        self.timings["seed"] = time.monotonic() - started
        self._wait_scraped()
        self._warm_up()
        return self.endpoints()

    def _warm_up(self, rounds: int = 3) -> None:
        """A few reads on each replica and through nginx before the load, as a deployment that
        has been serving would have had: the scenario measures the steady service, not each
        process's first queries and nginx's first upstream and TLS connections. Best effort."""
        assert self.tokens_file is not None  # noqa: S101
        tokens = json.loads(self.tokens_file.read_text(encoding="utf-8"))
        agent = (tokens.get("agents") or [tokens.get("admin")])[0]
        endpoints = self.endpoints()
        paths = ("/api/tickets?per_page=10", "/api/search?q=printer&per_page=20",
                 "/api/sla/summary")
        with httpx.Client(timeout=10.0, verify=False,  # noqa: S501 - the run's own certificate
                          headers={"Authorization": f"Bearer {agent}"}) as client:
            for base in [r.url for r in endpoints.replicas] + [endpoints.service_url]:
                for _ in range(rounds):
                    for path in paths:
                        with contextlib.suppress(httpx.HTTPError):
                            client.get(f"{base}{path}")

    def _wait_scraped(self, timeout: float = 60.0) -> None:
        """Prometheus has every app replica as a healthy target (its DNS discovery refreshes
        every 15 s), so what it collects covers the whole run."""
        url = self._prometheus_url()
        config = self.file.mounted(PROMETHEUS_SERVICE, "prometheus.yml")
        job = prometheus.app_job(config) if config else None
        if url is None or job is None:
            return
        expected = len(self._app_containers())
        started = time.monotonic()
        seen = prometheus.wait_for_targets(url, f'up{{job="{job}"}}', expected, timeout=timeout)
        self.timings["prometheus"] = time.monotonic() - started
        if seen < expected:
            raise StackError(f"Prometheus scraped {seen} of {expected} app replicas after "
                             f"{timeout:.0f} s (job {job} of {config})")

    def _environment(self) -> tuple[dict[str, str], tuple[str, ...]]:
        env = dict(self.environ)
        generated = []
        for name in self.file.required_variables():
            if not env.get(name):
                env[name] = secrets.token_urlsafe(18)
                generated.append(env[name])
        for name in self.ports:  # an ephemeral port on loopback only: "127.0.0.1::8443"
            env[name] = f"{LOOPBACK}:"
        env.pop("COMPOSE_PROFILES", None)
        env.pop("COMPOSE_PROJECT_NAME", None)
        return env, tuple(generated)

    def _override(self) -> Path:
        """A second compose file for this run: each app replica's port on 127.0.0.1 (scrapes),
        the scenario's app settings, and a fresh self-signed certificate unless real ones exist."""
        assert self.work_dir is not None  # noqa: S101 - set by up()
        app: dict[str, Any] = {"ports": [f"{LOOPBACK}::{self.file.app_port()}"]}
        if self.settings:
            app["environment"] = dict(self.settings)
        services: dict[str, Any] = {APP_SERVICE: app}
        certs = _certificate_mount(self.file)
        if certs is not None and not (certs[0] / "tls.crt").exists():
            folder = self.work_dir / "certs"
            self_signed(folder, self.run)
            services[PROXY_SERVICE] = {"volumes": [f"{folder}:{certs[1]}:ro"]}
        path = self.work_dir / "compose.override.yml"
        path.write_text(yaml.safe_dump({"services": services}, sort_keys=True), encoding="utf-8")
        return path

    def _build(self) -> None:
        assert self.project is not None  # noqa: S101
        if not self.file.services[APP_SERVICE].get("build"):
            return
        args = [f"{name}={self.project.env[name]}" for name in self.file.build_args()
                if self.project.env.get(name)]
        image = self._image(APP_SERVICE)
        before = self._image_id(image)
        self._compose(["build", *(a for arg in args for a in ("--build-arg", arg)), APP_SERVICE],
                      timeout=1800, log="compose-build.log")
        if before and before != self._image_id(image):
            # The previous build lost its tag to this one (Compose labels each image with its
            # project, so every run makes a new one): remove it rather than pile them up.
            docker(["image", "rm", before], run=self.run, check=False)

    def _image_id(self, image: str) -> str | None:
        done = docker(["image", "inspect", "--format", "{{.Id}}", image], run=self.run,
                      check=False)
        return done.stdout.strip() or None if done.returncode == 0 else None

    def _ensure_images(self) -> None:
        """Every image is here or is pulled now; the engine's own error (it names the registry
        it tried) is replaced by what to do about it."""
        for service in self.services:
            image = self._image(service)
            if service == APP_SERVICE or docker(["image", "inspect", image], run=self.run,
                                                check=False).returncode == 0:
                continue
            if docker(["pull", "-q", image], timeout=900, run=self.run, check=False).returncode:
                raise DependencyError(
                    f"{service}'s image {image} is not here and could not be pulled (build the "
                    "local images with scripts/images and export the variables it prints)")

    def _up(self, budget: float) -> list[ContainerState]:
        """`compose up -d` in the background while the engine is watched once a second: a
        container that exits, restarts or turns unhealthy ends the wait at once; otherwise every
        container must be healthy within `budget` seconds."""
        assert self.project is not None  # noqa: S101
        scale = ["--scale", f"{APP_SERVICE}={self.replicas}"] if self.replicas else []
        log = self.log_dir / "compose-up.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(  # noqa: S603 - argv of our own making
                self._argv(["up", "-d", "--no-build", *scale, *self.services]), stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.project.env,
                cwd=str(self.compose_file.parent), start_new_session=True)
        deadline = time.monotonic() + budget
        try:
            for _ in range(int(budget) + 10):  # bounded by the budget as well
                code = popen.poll()
                states = [s for s in project_containers(self.project.name, run=self.run)
                          if s.service in self.services]
                failed = [s for s in states if s.failed]
                if failed:
                    bad = failed[0]
                    raise StackError(self._redact(
                        f"{bad.service} failed ({_condition(bad)}): {self._log_tail(bad)}"))
                if code not in (None, 0):
                    raise StackError(self._redact(
                        f"`compose up` failed: {last_line(log.read_text(errors='replace'))}"))
                missing = set(self.services) - {s.service for s in states}
                waiting = [s for s in states if not s.healthy]
                if code == 0 and not missing and not waiting:
                    return sorted(states, key=lambda s: (s.service, s.number))
                if time.monotonic() > deadline:
                    names = sorted(missing) + [f"{s.service} ({_condition(s)})" for s in waiting]
                    raise StackError(f"not healthy within {budget:.0f} s: {', '.join(names)}")
                time.sleep(1.0)
            raise StackError(f"not healthy within {budget:.0f} s")
        finally:
            if popen.poll() is None:
                popen.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    popen.wait(timeout=10)
                if popen.poll() is None:
                    popen.kill()
            with contextlib.suppress(OSError):
                log.write_text(self._redact(log.read_text(errors="replace")), encoding="utf-8")

    def _seed(self) -> None:
        first = self._app_containers()[0]
        inside = "/tmp/harness-tokens.json"  # noqa: S108 - the container's private tmpfs
        script = (f'python -m servicedesk seed "$@" --tokens-out {inside} >&2 '
                  f'&& cat {inside} && rm -f {inside}')
        done = docker(["exec", first.id, "sh", "-c", script, "seed",
                       "--tickets", str(self.seed.tickets), "--agents", str(self.seed.agents),
                       "--customers", str(self.seed.customers)],
                      timeout=600, run=self.run, check=False)
        (self.log_dir / "seed.log").write_text(self._redact(done.stderr), encoding="utf-8")
        try:
            tokens = json.loads(done.stdout)
        except json.JSONDecodeError:
            tokens = None
        if done.returncode != 0 or not isinstance(tokens, dict):
            raise StackError(self._redact(
                f"seeding the database failed (status {done.returncode}): "
                f"{last_line(done.stderr)}"))
        assert self.work_dir is not None  # noqa: S101
        path = self.work_dir / "tokens.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps(tokens), encoding="utf-8")
        self.tokens_file = path

    # -- state --------------------------------------------------------------------------------

    def _app_containers(self) -> list[ContainerState]:
        assert self.project is not None  # noqa: S101
        apps = [c for c in self.project.containers if c.service == APP_SERVICE]
        if not apps:
            raise StackError("no app container is running")
        return apps

    def _published(self, variable: str) -> int | None:
        if self.project is None or variable not in self.ports:
            return None
        service, port = self.ports[variable]
        for container in self.project.containers:
            if container.service == service and port in container.ports:
                return container.ports[port]
        return None

    def _prometheus_url(self) -> str | None:
        variable = next((v for v, (s, _) in self.ports.items() if s == PROMETHEUS_SERVICE), None)
        port = self._published(variable) if variable else None
        return f"http://{LOOPBACK}:{port}" if port else None

    def ready(self) -> bool:
        if self.project is None:
            return False
        states = [s for s in project_containers(self.project.name, run=self.run)
                  if s.service in self.services]
        return bool(states) and all(s.healthy for s in states)

    def endpoints(self) -> Endpoints:
        if self.project is None or not self.project.containers:
            return Endpoints(backend=self.name, service_url="", replicas=())
        app_port = self.file.app_port()
        # The containers that serve now: a rollout starts and stops them.
        apps = self.app.serving() if self.app is not None else self._app_containers()
        replicas = tuple(
            Replica(name=f"{APP_SERVICE}-{c.number}", url=f"http://{LOOPBACK}:{c.ports[app_port]}")
            for c in apps if app_port in c.ports
        )
        https = next((v for v in self.ports if "HTTPS" in v), None)
        proxy = self._published(https) if https else None
        return Endpoints(
            backend=self.name,
            service_url=f"https://{LOOPBACK}:{proxy}" if proxy else "",
            replicas=replicas,
            prometheus_url=self._prometheus_url(),
            database=f"postgresql (compose service, {self._image('postgres')})",
            cache=f"redis (compose service, {self._image('redis')})",
            tokens_file=str(self.tokens_file) if self.tokens_file else None,
            extra={"project": self.project.name, "compose": self.project.tool.describe(),
                   **self._tool_urls(),
                   **({"started": ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items())}
                      if self.timings else {})},
        )

    def _tool_urls(self) -> dict[str, str]:
        """The published web UIs of the profiles' services (pgAdmin, Grafana), by service."""
        urls = {}
        for variable, (service, _) in sorted(self.ports.items()):
            port = self._published(variable)
            if port and service not in (PROMETHEUS_SERVICE, PROXY_SERVICE):
                urls[service] = f"http://{LOOPBACK}:{port}"
        return urls

    def _image(self, service: str) -> str:
        return self.file.image(service, self.project.env if self.project else self.environ)

    def container_states(self) -> list[ContainerState]:
        """Every container of the run's project now (tests read their hardening from these ids)."""
        return project_containers(self.project.name, run=self.run) if self.project else []

    # -- down ---------------------------------------------------------------------------------

    def capabilities(self) -> Capabilities:
        """The app service's containers (a rollout); nothing else is the faults' to touch."""
        return Capabilities(containers=self.app)

    def _scale_app(self, replicas: int, override: Path | None) -> None:
        """`compose up --no-start` of the app service alone at `replicas`: the new container
        created, the running ones kept as they are; `override`: one more file (a rollout's
        revision)."""
        self._compose(["up", "--no-start", "--no-deps", "--no-recreate", "--no-build", "--scale",
                       f"{APP_SERVICE}={replicas}", APP_SERVICE], timeout=120,
                      log="compose-rollout.log", extra=(override,) if override else ())

    def down(self) -> Leftovers:
        self.app = None
        project, self.project = self.project, None
        if project is not None and project.started:
            self.project = project  # for _compose during the teardown
            try:
                self._save_logs(project.name)
                url = self._prometheus_url()
                if url:
                    with contextlib.suppress(Exception):
                        prometheus.save_snapshot(url, self.log_dir / "prometheus.json")
                with contextlib.suppress(StackError):
                    self._compose(["down", "-v", "--remove-orphans", "-t", "10"], timeout=180,
                                  log="compose-down.log")
                self.leftovers = self._sweep(project.name)
            finally:
                self.project = None
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
        return Leftovers({kind: tuple(names) for kind, names in self.leftovers.items()})

    def _save_logs(self, project: str) -> None:
        with contextlib.suppress(Exception):
            for container in project_containers(project, run=self.run):
                done = docker(["logs", "--timestamps", container.id], timeout=30, run=self.run,
                               check=False)
                self._save_log(container, done.stdout + done.stderr)

    def _save_log(self, container: ContainerState, text: str) -> None:
        (self.log_dir / f"{container.service}-{container.number}.log").write_text(
            self._redact(text), encoding="utf-8")

    def _sweep(self, project: str) -> dict[str, list[str]]:
        """Remove whatever `down` left (e.g. after an interrupted `up`); report what remains."""
        left = project_leftovers(project, run=self.run)
        removal = {"container": ["rm", "-f", "-v"], "network": ["network", "rm"],
                   "volume": ["volume", "rm", "-f"]}
        for kind in ("container", "network", "volume"):
            if left[kind]:
                docker([*removal[kind], *left[kind]], timeout=120, run=self.run, check=False)
        return {k: v for k, v in project_leftovers(project, run=self.run).items() if v}

    # -- helpers ------------------------------------------------------------------------------

    def _argv(self, args: Sequence[str], extra: Sequence[Path] = ()) -> list[str]:
        project = self.project
        assert project is not None  # noqa: S101
        argv = [*project.tool.argv, "-p", project.name]
        for path in (*project.files, *extra):
            argv += ["-f", str(path)]
        for profile in project.profiles:
            argv += ["--profile", profile]
        return argv + list(args)

    def _compose(self, args: Sequence[str], *, timeout: float, log: str,
                 extra: Sequence[Path] = ()) -> None:
        project = self.project
        assert project is not None  # noqa: S101
        argv = self._argv(args, extra)
        try:
            done = self.run(argv, capture_output=True, text=True, timeout=timeout, env=project.env,
                            cwd=str(self.compose_file.parent))
        except subprocess.TimeoutExpired:
            raise StackError(f"`compose {args[0]}` did not finish within {timeout:.0f} s") from None
        with (self.log_dir / log).open("a", encoding="utf-8") as handle:
            handle.write(self._redact(f"$ compose {' '.join(args)}\n{done.stdout}{done.stderr}\n"))
        if done.returncode != 0:
            raise StackError(self._redact(f"`compose {args[0]}` failed: {last_line(done.stderr)}"))

    def _log_tail(self, container: ContainerState, lines: int = 3) -> str:
        done = docker(["logs", "--tail", str(lines), container.id], timeout=20, run=self.run,
                       check=False)
        tail = (done.stdout + done.stderr).splitlines()[-lines:]
        return " | ".join(line.strip() for line in tail)

    def _redact(self, text: str) -> str:
        return redact(text, extra_secrets=self.project.secrets if self.project else ())


def _condition(state: ContainerState) -> str:
    if state.restarts:
        return f"{state.state}, restarted {state.restarts}x"
    return state.health or state.state


def _certificate_mount(file: ComposeFile) -> tuple[Path, str] | None:
    """nginx's certificate folder: (host folder, path inside), from the file's volumes."""
    for source, target in file.volumes(PROXY_SERVICE):
        if source.name == "certs":
            return source, target
    return None
