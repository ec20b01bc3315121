"""The compose app service as a rollout's handle (harness.stack.capabilities.ComposeApp).

Compose has no rolling update. The closest it can do, one container at a time: `compose up --no-
start --no-deps --no-recreate --no-build --scale app=N+1 app` with one more file whose
`environment` is the new revision's settings creates one new container and leaves the others as
they are (their configuration differs now; --no-recreate keeps them). Before it starts it is
connected again to the network nginx reaches the app on without the service's name, and once its
healthcheck passes again with it (`admit`): nginx, which resolves `app` through Docker's DNS and
does not read health, sends to it only from then on. (Taken off that network instead, it lost its
gateway: Docker's DNS then failed its lookups and its healthcheck stalled.) `docker stop -t
<grace>` ends an old one (SIGTERM, SIGKILL after the grace) and `docker rm` removes it (its log
saved first), so the next `--scale` counts only what runs. Each container's revision is remembered
by its id (the stack's own containers are revision 1); its health is the engine's, from the compose
healthcheck.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from harness.errors import StackError
from harness.stack.capabilities import AppContainer
from harness.stack.composefile import APP_SERVICE
from harness.stack.engine import (
    ContainerState,
    Runner,
    docker,
    last_line,
    project_containers,
)

__all__ = ["ComposeAppService"]

STOP_SLACK = 30.0  # seconds past the grace for `docker stop` itself to return


class ComposeAppService:
    """The app containers of compose project `project`; `scale(replicas, override)` runs
    `compose up` of the app service at that scale with `override` (None: the stack's settings)
    as one more file; revision files are written to `work_dir`, a removed container's log as
    `save_log(state, text)` says."""

    def __init__(self, project: str, work_dir: Path,
                 scale: Callable[[int, Path | None], None], *, proxy_network: str,
                 save_log: Callable[[ContainerState, str], None] | None = None,
                 run: Runner = subprocess.run) -> None:
        self.project = project
        self.work_dir = work_dir
        self.proxy_network = proxy_network
        self._save_log = save_log
        self._scale = scale
        self._run = run
        self._settings: dict[int, dict[str, str]] = {1: {}}
        self._current = 1
        self._revisions: dict[str, int] = {}  # container id -> revision, for those started here
        self._stopping: set[str] = set()
        self._pending: set[str] = set()  # started off nginx's network, not admitted yet
        # A start counts the containers while no stop removes one (else --scale miscounts).
        self._lock = threading.Lock()

    @property
    def revision(self) -> int:
        return self._current

    def revise(self, settings: Mapping[str, str]) -> int:
        number = max(self._settings) + 1
        self._settings[number] = dict(settings)
        self._current = number
        return number

    def restore(self, revision: int) -> None:
        if revision not in self._settings:
            raise ValueError(f"no revision {revision} (have {sorted(self._settings)})")
        self._current = revision

    def containers(self) -> list[AppContainer]:
        with self._lock:
            pending = set(self._pending)
        return [AppContainer(s.id, s.name, self._revisions.get(s.id, 1),
                             s.healthy and s.health is not None, s.id not in pending)
                for s in self._running()]

    def serving(self) -> list[ContainerState]:
        """The app containers nginx sends to: running, admitted, not being stopped; oldest
        first."""
        with self._lock:
            pending = set(self._pending)
        return [s for s in self._running() if s.id not in pending]

    def _running(self) -> list[ContainerState]:
        with self._lock:
            stopping = set(self._stopping)
        running = [s for s in self._states() if s.state == "running" and s.id not in stopping]
        return sorted(running, key=lambda s: s.number)

    def start(self) -> str:
        with self._lock:
            before = {s.id for s in self._states()}
            self._scale(len(before) + 1, self._override(self._current))
            created = [s.id for s in self._states() if s.id not in before]
            if len(created) != 1:
                raise StackError(f"`compose up --scale {APP_SERVICE}={len(before) + 1}` made "
                                 f"{len(created)} app containers instead of one")
            container = created[0]
            self._revisions[container] = self._current
            self._pending.add(container)
        self._join(container, alias=False)  # on the network (its gateway), not under `app`
        docker(["start", container], run=self._run)
        return container

    def admit(self, container_id: str) -> None:
        self._join(container_id, alias=True)
        with self._lock:
            self._pending.discard(container_id)

    def _join(self, container_id: str, *, alias: bool) -> None:
        """Connect the container to nginx's network again, under the service's name or not
        (Docker cannot add or drop a name of a connection)."""
        done = docker(["network", "disconnect", self.proxy_network, container_id],
                      run=self._run, check=False)
        # Compose v1 creates a container on its first network only (the rest join at its start).
        if done.returncode != 0 and "is not connected" not in done.stderr:
            raise StackError(f"`docker network disconnect` failed: {last_line(done.stderr)}")
        docker(["network", "connect", *(["--alias", APP_SERVICE] if alias else []),
                self.proxy_network, container_id], run=self._run)

    def stop(self, container_id: str, *, grace: float) -> None:
        with self._lock:
            self._stopping.add(container_id)
        threading.Thread(target=self._end, args=(container_id, grace), daemon=True,
                         name=f"compose-stop-{container_id}").start()

    def terminating(self) -> int:
        with self._lock:
            return len(self._stopping)

    def _end(self, container_id: str, grace: float) -> None:
        try:
            with contextlib.suppress(StackError):
                docker(["stop", "-t", str(math.ceil(grace)), container_id],
                       timeout=grace + STOP_SLACK, run=self._run, check=False)
            state = next((s for s in self._states() if s.id == container_id), None)
            if state is not None and self._save_log is not None:
                with contextlib.suppress(StackError):
                    done = docker(["logs", "--timestamps", container_id], timeout=30,
                                  run=self._run, check=False)
                    self._save_log(state, done.stdout + done.stderr)
            with self._lock, contextlib.suppress(StackError):
                docker(["rm", "-f", container_id], run=self._run, check=False)
        finally:
            with self._lock:
                self._stopping.discard(container_id)
                self._pending.discard(container_id)
                self._revisions.pop(container_id, None)

    def _states(self) -> list[ContainerState]:
        return [s for s in project_containers(self.project, run=self._run)
                if s.service == APP_SERVICE]

    def _override(self, revision: int) -> Path | None:
        settings = self._settings[revision]
        if not settings:
            return None
        path = self.work_dir / f"compose.revision-{revision}.yml"
        path.write_text(yaml.safe_dump({"services": {APP_SERVICE: {"environment": settings}}},
                                       sort_keys=True), encoding="utf-8")
        return path
