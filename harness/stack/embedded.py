"""The `embedded` backend: the reference app as N replica processes on 127.0.0.1.

SQLite and an in-memory cache, the seed's "Development" profile; needs only Python. The replicas
share one service port through SO_REUSEPORT, so the kernel spreads connections across them as a
Kubernetes Service does; each also listens on a port of its own for probes and scrapes. With
`service="readiness"` the service port is a forwarder that sends new connections only to ready
replicas (harness.stack.service), as kube-proxy follows Endpoints: what a rollout needs.

The replicas' settings are revised as a Deployment's pod template is (`revise`, `restore`):
replicas started afterwards run the new revision; `retire` ends one as the kubelet ends a
deleted pod (out of the Service first, then preStop, SIGTERM, SIGKILL after the grace period).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness import paths
from harness.config.appsettings import bundled_app_settings
from harness.config.k8s import DeploymentSpec, load_pdb
from harness.config.model import SeedSpec
from harness.errors import StackError
from harness.redact import redact_url
from harness.stack import processes
from harness.stack.backend import Endpoints, Leftovers, Replica
from harness.stack.capabilities import Capabilities
from harness.stack.controller import ProbeTiming, ReplicaController
from harness.stack.processes import ManagedProcess
from harness.stack.service import ENDPOINTS_LAG, ReadinessService
from harness.testhook import pause_at

__all__ = ["EmbeddedStack", "ProbeSpec"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ProbeSpec:
    """How replicas are judged started: the Deployment's startup probe, on a local clock."""

    # Without a startup probe in the manifest: the seed's "Initial readiness (30 attempts)".
    attempts: int = 30
    period: float = 1.0

    @classmethod
    def of(cls, deployment: DeploymentSpec) -> ProbeSpec:
        """The Deployment's startup probe attempts, on a one-second local clock."""
        return cls(attempts=deployment.startup_failure_threshold or cls.attempts, period=1.0)


class EmbeddedStack:
    """Replica processes of stack/app on loopback.

    Attributes:
        replicas: how many replicas `up` starts.
        settings: app settings (ConfigMap keys) on top of the bundled ConfigMap.
        seed: how much data is seeded before the replicas start.
        log_dir: where each replica's log is written (kept after `down`).
    """

    name = "embedded"

    def __init__(
        self,
        *,
        replicas: int,
        log_dir: Path,
        settings: Mapping[str, str] | None = None,
        seed: SeedSpec | None = None,
        probe: ProbeSpec | None = None,
        database_url: str | None = None,
        cache_url: str | None = None,
        service: Literal["reuseport", "readiness"] = "reuseport",
    ) -> None:
        if replicas < 1:
            raise StackError("the embedded stack needs at least one replica")
        self.initial_replicas = replicas
        self.log_dir = log_dir
        self.settings = dict(settings or {})
        self.seed = seed or SeedSpec()
        self.probe = probe or ProbeSpec()
        self.database_url = database_url  # None: SQLite in the work folder
        self.cache_url = cache_url  # None: the in-memory LRU
        self.work_dir: Path | None = None
        self.service_port: int | None = None
        self.tokens_file: Path | None = None  # written by the seeding in up()
        self._replicas: list[ManagedProcess] = []
        self._ports: dict[str, int] = {}
        self._started_at: dict[str, float] = {}  # monotonic
        self._terminating: list[threading.Thread] = []
        self._serial = 0
        self._lock = threading.Lock()
        self._admin_token = secrets.token_urlsafe(24)
        # Replaces replicas that die, as a Deployment's ReplicaSet would (harness.stack.controller).
        self.controller: ReplicaController | None = None
        # Routes the app's database traffic, e.g. through the slow-database fault's proxy.
        self._database_route: Callable[[str], str] | None = None
        self.service = ReadinessService(self._endpoint_ports) if service == "readiness" else None
        # The pod template's revisions: settings on top of `settings`, by revision number.
        self._templates: dict[int, dict[str, str]] = {1: {}}
        self._revision = 1
        self._revision_of: dict[str, int] = {}
        self._retiring: dict[str, ManagedProcess] = {}
        self._left_endpoints_at: dict[str, float] = {}  # monotonic: a retired ready replica

    # -- settings -----------------------------------------------------------------------------

    def _database_url(self) -> str:
        if self.database_url:
            if self._database_route is not None:
                return self._database_route(self.database_url)
            return self.database_url
        assert self.work_dir is not None  # noqa: S101 - set by up()
        return f"sqlite:///{self.work_dir / 'servicedesk.db'}"

    def app_environment(
        self, admin_port: int | None = None, replica: str | None = None, revision: int = 1
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DD_", "HARNESS_"))}
        env.update(bundled_app_settings())
        env.update(
            {
                "APP_ENV": "development",
                "HOST": HOST,
                "DATABASE_URL": self._database_url(),
                "CACHE_URL": self.cache_url or "memory://",
                "UPLOADS_DIR": str(self.work_dir / "uploads") if self.work_dir else "uploads",
                "LOG_FORMAT": "json",
                "ADMIN_TOKEN": self._admin_token,
                "PYTHONPATH": str(paths.app_dir()),
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.service is None:
            # No drain by default: the kernel's SO_REUSEPORT group does not read readiness, so
            # a draining replica would still get new connections; a scenario may set it.
            env["SHUTDOWN_DRAIN_SECONDS"] = "0"
        env.update(self.settings)
        env.update(self._templates.get(revision, {}))
        if self.service is not None:  # the forwarder is the service port; each its own port
            if admin_port is not None:
                env["PORT"] = str(admin_port)
        else:
            if self.service_port is not None:
                env["PORT"] = str(self.service_port)
                env["REUSE_PORT"] = "true"
            if admin_port is not None:
                env["ADMIN_PORT"] = str(admin_port)
        if replica is not None:
            env["HOSTNAME"] = replica  # as a pod's name: the app labels its DB sessions with it
        return env

    # -- what it can do (harness.stack.capabilities.ReplicaSet) -------------------------------

    def capabilities(self) -> Capabilities:
        return Capabilities(replicas=self)

    @property
    def startup_attempts(self) -> int:
        return self.probe.attempts

    def processes(self) -> list[ManagedProcess]:
        with self._lock:
            return list(self._replicas)

    def probe_url(self, process: ManagedProcess) -> str:
        return f"http://{HOST}:{self._ports[process.name]}"

    def route_database(self, route: Callable[[str], str]) -> None:
        self._database_route = route

    def _endpoint_ports(self) -> list[int]:
        """The service's endpoints: replicas the controller saw ready (all of them before it
        runs: `up` waited for each), and a ready one retired less than ENDPOINTS_LAG ago (the
        service learns of it late, as kube-proxy does). Asked at every new connection, so not
        under the lock a replica start holds (copying a list or dict is atomic)."""
        running = list(self._replicas)
        controller = self.controller
        now = time.monotonic()
        late = [name for name, at in list(self._left_endpoints_at.items())
                if now - at < ENDPOINTS_LAG]
        return [self._ports[p.name] for p in running
                if controller is None or controller.is_ready(p.name)] + [
            self._ports[name] for name in late]

    # -- revisions (a Deployment's pod template) ----------------------------------------------

    @property
    def revision(self) -> int:
        """The revision replicas are started from now."""
        return self._revision

    def revision_of(self, process: ManagedProcess) -> int:
        return self._revision_of.get(process.name, 1)

    def revise(self, settings: Mapping[str, str]) -> int:
        """A new revision with `settings` on top of the stack's; replicas started from now on
        (by the controller) run it. Returns its number."""
        with self._lock:
            revision = max(self._templates) + 1
            self._templates[revision] = dict(settings)
            self._revision = revision
            return revision

    def restore(self, revision: int) -> None:
        """Start replicas from an earlier revision again (a rollback)."""
        with self._lock:
            if revision not in self._templates:
                raise StackError(f"no revision {revision} (have {sorted(self._templates)})")
            self._revision = revision

    def retire(self, process: ManagedProcess, *, pre_stop: float, grace: float,
               reason: str) -> None:
        """End one replica as the kubelet ends a deleted pod, in the background: it leaves the
        set at once and the service's endpoints ENDPOINTS_LAG later, while the preStop sleep,
        SIGTERM, and SIGKILL once `grace` seconds (counted from the start, preStop included)
        have passed, go on without waiting for that."""
        with self._lock:
            if process not in self._replicas:
                return
            self._replicas.remove(process)
            self._retiring[process.name] = process
        controller = self.controller
        now = time.monotonic()
        if controller is None or controller.is_ready(process.name):
            self._left_endpoints_at = {**{name: at for name, at in self._left_endpoints_at.items()
                                          if now - at < ENDPOINTS_LAG}, process.name: now}
        if controller is not None:
            controller.mark_gone(process.name)
            controller.record(process.name, "terminating", reason, expected=True)
        stopper = threading.Thread(target=self._terminate, args=(process, pre_stop, grace),
                                   name=f"retire-{process.name}", daemon=True)
        stopper.start()
        self._terminating = [t for t in self._terminating if t.is_alive()] + [stopper]

    def _terminate(self, process: ManagedProcess, pre_stop: float, grace: float) -> None:
        began = time.monotonic()
        try:
            if pre_stop > 0:
                time.sleep(min(pre_stop, grace))
            processes.kill_group(process.pid, max(grace - (time.monotonic() - began), 0.0),
                                 process.popen)
        except OSError as exc:  # kill_group already ignores a process that is gone
            # down() stops whatever is left; the failed stop is named in the replica events.
            if self.controller is not None:
                self.controller.record(process.name, "stop-failed", f"{exc}", expected=True)
            return
        finally:
            with self._lock:
                self._retiring.pop(process.name, None)
        if self.controller is not None:
            code = process.popen.poll()
            self.controller.record(
                process.name, "stopped",
                f"{'exit status ' + str(code) if code is not None and code >= 0 else 'killed'} "
                f"{time.monotonic() - began:.1f}s after it was retired", expected=True)

    def terminating(self) -> int:
        """Replicas retired and not ended yet (a Deployment's terminating pods)."""
        with self._lock:
            return len(self._retiring)

    # -- lifecycle ----------------------------------------------------------------------------

    def up(self) -> Endpoints:
        self.work_dir = Path(tempfile.mkdtemp(prefix="harness-embedded-"))
        self.service_port = (self.service.start() if self.service is not None
                             else processes.free_port())
        self._seed()
        for _ in range(self.initial_replicas):
            self._start_replica()
        pause_at("stack")
        for replica in list(self._replicas):
            self._wait_started(replica)
        self._start_controller()
        return self.endpoints()

    def _start_controller(self) -> None:
        self.controller = ReplicaController(
            desired=self.initial_replicas,
            running=lambda: list(self._replicas),
            remove=self._forget,
            start=self._start_replica,
            startup_url=lambda p: f"http://{HOST}:{self._ports[p.name]}/api/health/startup",
            ready_url=lambda p: f"http://{HOST}:{self._ports[p.name]}/api/health/ready",
            budget=load_pdb(paths.k8s_base_dir() / "pdb.yaml"),
            timing=ProbeTiming(period=min(self.probe.period, 0.5),
                               readiness_period=_readiness_period(),
                               startup_attempts=self.probe.attempts,
                               startup_period=self.probe.period),
        )
        for replica in self._replicas:
            self.controller.mark_ready(replica.name, self._started_at.get(replica.name))
        self.controller.start()

    def _forget(self, process: ManagedProcess) -> bool:
        with self._lock:
            if process in self._replicas:
                self._replicas.remove(process)
                return True
        return False

    def _seed(self) -> None:
        assert self.work_dir is not None  # noqa: S101
        tokens = self.work_dir / "tokens.json"
        seeder = processes.start(
            "seed",
            [
                sys.executable, "-m", "servicedesk", "seed",
                "--tickets", str(self.seed.tickets),
                "--agents", str(self.seed.agents),
                "--customers", str(self.seed.customers),
                "--tokens-out", str(tokens),
            ],
            env=self.app_environment(),
            log_path=self.log_dir / "seed.log",
        )
        try:
            code = seeder.popen.wait(timeout=300)
        except Exception:
            processes.stop(seeder)
            raise
        if code != 0:
            raise StackError(f"seeding the database failed (status {code}): {seeder.log_tail()}")
        self.tokens_file = tokens

    def _start_replica(self) -> ManagedProcess:
        with self._lock:
            self._serial += 1
            name = f"replica-{self._serial}"
            port = processes.free_port()
            process = processes.start(
                name,
                [sys.executable, "-m", "servicedesk", "serve"],
                env=self.app_environment(admin_port=port, replica=name, revision=self._revision),
                log_path=self.log_dir / f"{name}.log",
            )
            self._ports[name] = port
            self._revision_of[name] = self._revision
            self._started_at[name] = time.monotonic()
            self._replicas.append(process)
            return process

    def _wait_started(self, replica: ManagedProcess) -> None:
        base = f"http://{HOST}:{self._ports[replica.name]}"
        processes.wait_for_probe(
            f"{base}/api/health/startup",
            attempts=self.probe.attempts,
            period=self.probe.period,
            process=replica,
        )
        processes.wait_for_probe(
            f"{base}/api/health/ready", attempts=self.probe.attempts, period=self.probe.period,
            process=replica,
        )

    def ready(self) -> bool:
        import httpx

        with httpx.Client(timeout=2.0) as client:
            for replica in self.endpoints().replicas:
                try:
                    if client.get(f"{replica.url}/api/health/ready").status_code != 200:
                        return False
                except httpx.HTTPError:
                    return False
        return True

    def current_replicas(self) -> tuple[Replica, ...]:
        """Every running replica, starting or ready, with its readiness as the controller's
        probes last saw it (all ready before the controller runs: `up` waited for them)."""
        with self._lock:
            running = [p for p in self._replicas if p.alive()]
        replicas = []
        for p in running:
            url = f"http://{HOST}:{self._ports[p.name]}"
            if self.controller is None:
                replicas.append(Replica(p.name, url, p.pid, True, self._started_at.get(p.name)))
                continue
            state = self.controller.state(p.name)
            replicas.append(Replica(p.name, url, p.pid, state.ready,
                                    state.started_at or self._started_at.get(p.name),
                                    state.ready_changed_at))
        return tuple(replicas)

    def endpoints(self) -> Endpoints:
        replicas = self.current_replicas()
        return Endpoints(
            backend=self.name,
            service_url=f"http://{HOST}:{self.service_port}",
            replicas=replicas,
            database=redact_url(self.database_url) if self.database_url else "sqlite (embedded)",
            cache=self.cache_url or "in-memory LRU",
            tokens_file=str(self.tokens_file) if self.tokens_file is not None else None,
        )

    def replica_count(self) -> int:
        with self._lock:
            return len(self._replicas)

    def desired_replicas(self) -> int:
        """The count last asked for (a Deployment's spec.replicas)."""
        return self.controller.desired if self.controller is not None else self.replica_count()

    def scale(self, replicas: int) -> None:
        """Write the desired count and return, as a Deployment's spec.replicas is written: the
        controller starts missing replicas in the background (gated by their probes); extra
        ones leave the set at once (not-ready first, then newest) and stop in the background.
        Before the controller runs (inside `up`), new replicas are started and awaited here."""
        if self.controller is None:
            while self.replica_count() < replicas:
                self._wait_started(self._start_replica())
            self._scale_down(replicas)
            return
        # Not under the controller's reconcile lock: a round of probes against overloaded
        # replicas can hold it for seconds, and the sync must not wait. Writing the count
        # first keeps the controller from starting a replacement for a replica leaving here.
        self.controller.desired = max(replicas, 1)
        self._scale_down(replicas)

    def _scale_down(self, replicas: int) -> None:
        controller = self.controller
        with self._lock:
            extra = len(self._replicas) - max(replicas, 1)
            if extra <= 0:
                return
            ranked = sorted(  # a ReplicaSet deletes not-ready pods first, then the newest
                enumerate(self._replicas),
                key=lambda item: (controller is not None and controller.is_ready(item[1].name),
                                  -item[0]),
            )
            victims = [process for _, process in ranked[:extra]]
            for victim in victims:
                self._replicas.remove(victim)
        for victim in victims:
            if controller is not None:
                controller.mark_gone(victim.name)
        stopper = threading.Thread(target=_stop_all, args=(victims,), name="scale-down",
                                   daemon=True)
        stopper.start()
        self._terminating = [t for t in self._terminating if t.is_alive()] + [stopper]

    def down(self) -> Leftovers:
        if self.controller is not None:
            self.controller.stop()  # first, or it would replace what is being stopped
        with self._lock:
            replicas, self._replicas = self._replicas, []
        with self._lock:
            retiring = list(self._retiring.values())
        for replica in [*replicas, *retiring]:  # a retiring one may still be in its preStop
            with contextlib.suppress(Exception):
                processes.stop(replica)
        for stopper in self._terminating:
            stopper.join(timeout=30)  # replicas a scale-down or rollout is still stopping
        if self.service is not None:
            self.service.stop()
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None
        return Leftovers()  # processes only, each stopped (killed at the last)

    # -- `harness up` / `harness down` across processes ---------------------------------------

    def state(self) -> dict[str, object]:
        endpoints = self.endpoints()
        return {
            "backend": self.name,
            "service_url": endpoints.service_url,
            "replicas": [{"name": r.name, "url": r.url, "pid": r.pid} for r in endpoints.replicas],
            "work_dir": str(self.work_dir),
            "tokens_file": endpoints.tokens_file,
            "log_dir": str(self.log_dir),
        }


def _stop_all(victims: list[ManagedProcess]) -> None:
    for victim in victims:
        with contextlib.suppress(Exception):
            processes.stop(victim)


def _readiness_period() -> float:
    """The Deployment's readiness probe period: how often a ready replica is probed."""
    from harness.config.k8s import load_deployment

    probe = load_deployment(paths.k8s_base_dir() / "deployment.yaml").readiness_probe
    return float(probe.period_seconds) if probe is not None else 10.0


def stop_from_state(state_file: Path) -> list[str]:
    """Stop what a detached `harness up` started; returns the names of what was stopped.

    The state file is removed even when it is corrupt (else `harness up` stays refused for
    good); a corrupt one then raises ConfigError naming it, after whatever it still described
    was stopped."""
    from harness.errors import ConfigError

    problem = None
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        state, problem = {}, f"unreadable ({type(exc).__name__}: {exc})"
    if not isinstance(state, dict):
        state, problem = {}, "not a JSON object"
    replicas = state.get("replicas", [])
    stopped = []
    for replica in replicas if isinstance(replicas, list) else []:
        try:
            pid, name = int(replica["pid"]), str(replica["name"])
        except (KeyError, TypeError, ValueError):
            problem = problem or f"a replica entry is malformed: {replica!r}"
            continue
        if pid > 0 and _is_app_process(pid):  # pid 0 or -1 would signal our own group
            processes.kill_group(pid)
            stopped.append(name)
    work_dir = state.get("work_dir")
    if isinstance(work_dir, str) and Path(work_dir).name.startswith("harness-embedded-"):
        shutil.rmtree(work_dir, ignore_errors=True)
    try:
        state_file.unlink(missing_ok=True)
    except OSError as exc:
        raise ConfigError(str(state_file), None, f"cannot remove it: {exc.strerror}") from None
    if problem is not None:
        raise ConfigError(str(state_file), None, f"{problem}; removed it (stopped "
                          f"{len(stopped)} replica(s); anything else it described is not "
                          "known and may still run)")
    return stopped


def _is_app_process(pid: int) -> bool:
    """Only kill what is still ours: a pid may have been reused since `up`."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"servicedesk" in cmdline
