"""The parts of a docker-compose.yml the `compose` backend acts on: services per profile, the
variables it must set, published ports, the app's build arguments, and the healthcheck budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.config.durations import parse_duration
from harness.config.k8s import APP_PORT
from harness.errors import ConfigError

__all__ = ["APP_SERVICE", "PROMETHEUS_SERVICE", "PROXY_SERVICE", "ComposeFile"]

APP_SERVICE = "app"
PROXY_SERVICE = "nginx"
PROMETHEUS_SERVICE = "prometheus"

_REQUIRED = re.compile(r"\$\{(\w+):\?")
_PORT = re.compile(r"^\$\{(\w+)(?::-[^}]*)?\}:(\d+)(?:/tcp)?$")
_ARG = re.compile(r"^\s*ARG\s+(\w+)", re.MULTILINE)


@dataclass(frozen=True)
class ComposeFile:
    """The parts of a docker-compose.yml the backend acts on."""

    path: Path
    services: Mapping[str, Mapping[str, Any]]
    text: str

    @classmethod
    def load(cls, path: Path) -> ComposeFile:
        try:
            text = path.read_text(encoding="utf-8")
            data = yaml.safe_load(text)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(str(path), None, f"cannot be read as YAML: {exc}") from None
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict) or not services:
            raise ConfigError(str(path), "services", "missing or empty")
        for name in (APP_SERVICE, PROXY_SERVICE):
            if name not in services:
                raise ConfigError(str(path), ("services", name), "missing (the harness drives it)")
        return cls(path, services, text)

    def profiles(self) -> tuple[str, ...]:
        return tuple(sorted({p for s in self.services.values() for p in s.get("profiles") or ()}))

    def services_for(self, profiles: Iterable[str]) -> tuple[str, ...]:
        """The default services, Prometheus (the harness reads it), and the profiles' services."""
        wanted = set(profiles)
        unknown = wanted - set(self.profiles())
        if unknown:
            raise ConfigError(str(self.path), "profiles", f"no profile {sorted(unknown)[0]!r}",
                              ", ".join(self.profiles()) or "none")
        return tuple(
            name for name, spec in self.services.items()
            if not spec.get("profiles") or name == PROMETHEUS_SERVICE
            or wanted & set(spec.get("profiles") or ())
        )

    def proxy_network(self, project: str) -> str:
        """The engine's name of the network nginx reaches the app on (the first both list;
        Compose names it <project>_<key> unless the file names it)."""
        def keys(service: str) -> list[str]:
            listed = (self.services.get(service) or {}).get("networks") or ["default"]
            return [str(k) for k in listed]

        shared = [k for k in keys(APP_SERVICE) if k in keys(PROXY_SERVICE)]
        if not shared:
            raise ConfigError(str(self.path), ("services", PROXY_SERVICE, "networks"),
                              f"no network shared with {APP_SERVICE}")
        data = yaml.safe_load(self.text) or {}
        named = ((data.get("networks") or {}).get(shared[0]) or {}).get("name")
        return str(named) if named else f"{project}_{shared[0]}"

    def image(self, service: str, env: Mapping[str, str]) -> str:
        """The service's image as Compose would resolve `${NAME:-default}` with `env`."""
        image = str((self.services.get(service) or {}).get("image", ""))
        match = re.fullmatch(r"\$\{(\w+)(?::-([^}]*))?\}", image)
        if match:
            return env.get(match.group(1)) or match.group(2) or image
        return image

    def volumes(self, service: str) -> tuple[tuple[Path, str], ...]:
        """The service's bind mounts: (host path, path inside), host paths resolved."""
        found = []
        for volume in (self.services.get(service) or {}).get("volumes") or ():
            parts = str(volume).split(":")
            if len(parts) >= 2 and parts[0].startswith((".", "/")):
                found.append(((self.path.parent / parts[0]).resolve(), parts[1]))
        return tuple(found)

    def mounted(self, service: str, name: str) -> Path | None:
        """The host file or folder called `name` that the service mounts, if any."""
        return next((source for source, _ in self.volumes(service) if source.name == name), None)

    def for_compose_v1(self) -> str:
        """The file as Compose v1 accepts it, to be written elsewhere: without the top-level
        `name` (v1 refuses it; `-p` names the project), anchors expanded, and relative host paths
        made absolute so they still point at the bundled files."""
        data = yaml.safe_load(self.text)
        data.pop("name", None)
        for spec in data.get("services", {}).values():
            volumes = spec.get("volumes") or []
            for index, volume in enumerate(volumes):
                parts = str(volume).split(":")
                if parts[0].startswith("."):
                    parts[0] = str((self.path.parent / parts[0]).resolve())
                    volumes[index] = ":".join(parts)
            build = spec.get("build")
            if isinstance(build, dict) and str(build.get("context", ".")).startswith("."):
                build["context"] = str((self.path.parent / build.get("context", ".")).resolve())
        return yaml.safe_dump(data, sort_keys=False)

    def required_variables(self) -> tuple[str, ...]:
        """Variables the file refuses to run without (`${NAME:?message}`)."""
        return tuple(sorted(set(_REQUIRED.findall(self.text))))

    def port_variables(self, services: Iterable[str]) -> dict[str, tuple[str, int]]:
        """Each published port's variable -> (service, container port). A host port written as a
        literal would be published on every interface; the harness refuses such a file."""
        found: dict[str, tuple[str, int]] = {}
        for name in services:
            for index, entry in enumerate(self.services[name].get("ports") or ()):
                match = _PORT.match(str(entry))
                if not match:
                    raise ConfigError(
                        str(self.path), ("services", name, "ports", index),
                        f"{entry!r} publishes a fixed host port",
                        "\"${NAME:-default}:port\", so the harness can bind it to 127.0.0.1")
                found[match.group(1)] = (name, int(match.group(2)))
        return found

    def app_port(self) -> int:
        app = self.services[APP_SERVICE]
        env = app.get("environment") or {}
        port = env.get("PORT") if isinstance(env, dict) else None
        expose = app.get("expose") or ()
        return int(port or (str(expose[0]).split("/")[0] if expose else APP_PORT))

    def build_args(self) -> tuple[str, ...]:
        """The ARGs of the app's Dockerfile (e.g. PYTHON_IMAGE, the base to build FROM)."""
        build = self.services[APP_SERVICE].get("build")
        if not isinstance(build, dict):
            return ()
        context = self.path.parent / build.get("context", ".")
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        try:
            return tuple(dict.fromkeys(_ARG.findall(dockerfile.read_text(encoding="utf-8"))))
        except OSError:
            return ()

    def start_budget(self, services: Iterable[str]) -> float:
        """Seconds within which every service must be healthy: along the longest depends_on chain,
        each healthcheck's start_period + interval x retries (when Docker gives up on it)."""
        memo: dict[str, float] = {}

        def budget(name: str, seen: frozenset[str]) -> float:
            if name in memo:
                return memo[name]
            spec = self.services.get(name) or {}
            check = spec.get("healthcheck") or {}
            own = 0.0
            if check and not check.get("disable"):
                own = (_seconds(check.get("start_period"), 0) + _seconds(check.get("interval"), 30)
                       * int(check.get("retries", 3)))
            deps = spec.get("depends_on") or ()
            deps = list(deps.keys()) if isinstance(deps, dict) else list(deps)
            before = max((budget(d, seen | {name}) for d in deps if d not in seen), default=0.0)
            memo[name] = own + before
            return memo[name]

        return max((budget(s, frozenset()) for s in services), default=0.0)


def _seconds(value: object, default: float) -> float:
    if value is None:
        return default
    try:
        return parse_duration(value)
    except ValueError:
        return default
