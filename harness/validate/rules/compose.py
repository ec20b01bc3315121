"""The compose file's own promises: the seed's profiles, images overridable from the environment,
and every required variable documented in .env.example."""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.validate.model import Finding, Rule, Severity, Stack

__all__ = ["CORE_SERVICES", "PROFILES", "RULES", "check"]

CORE_SERVICES = ("postgres", "redis", "app", "nginx")
PROFILES = {"monitoring": ("prometheus", "grafana", "datadog"), "tools": ("pgadmin",)}

PROFILES_RULE = Rule(
    "compose.profiles",
    Severity.ERROR,
    "core services start by default; Prometheus/Grafana/Datadog in `monitoring`, pgAdmin in "
    "`tools`",
    "set `profiles:` as the seed's quick start uses them",
)
IMAGE_OVERRIDE = Rule(
    "compose.image-override",
    Severity.WARNING,
    "every image is ${VARIABLE:-default}, so users pin versions and CI uses local builds",
    "write image: ${NAME_IMAGE:-repository:tag}",
)
ENV_EXAMPLE = Rule(
    "compose.env-example",
    Severity.ERROR,
    "every required ${VAR:?} is listed in .env.example (and .env is git-ignored)",
    "add the variable to stack/compose/.env.example",
)
RULES = (PROFILES_RULE, IMAGE_OVERRIDE, ENV_EXAMPLE)

_OVERRIDABLE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?-[^}]+\}$")


def check(stack: Stack) -> Iterator[Finding]:
    compose = stack.compose
    services = compose.raw.get("services") or {}
    for name in CORE_SERVICES:
        svc = services.get(name)
        if svc is None:
            yield PROFILES_RULE.finding(
                compose.where(name),
                message=f"no service {name}",
            )
        elif svc.get("profiles"):
            yield PROFILES_RULE.finding(
                compose.where(name),
                message=f"core service in profiles {svc['profiles']}: `docker compose up -d` "
                "would not start it",
            )
    for profile, names in PROFILES.items():
        for name in names:
            svc = services.get(name)
            if svc is None or profile not in (svc.get("profiles") or []):
                where = "missing" if svc is None else f"profiles {svc.get('profiles') or []}"
                yield PROFILES_RULE.finding(
                    compose.where(name),
                    message=f"{name} should be in profile {profile} ({where})",
                )
    for name, svc in services.items():
        image = str((svc or {}).get("image", ""))
        if not _OVERRIDABLE.match(image):
            yield IMAGE_OVERRIDE.finding(
                compose.where(name),
                message=f"image {image or '(none)'} cannot be overridden from the environment",
            )
    missing = [v for v in compose.required_variables if v not in compose.env_example]
    if missing:
        yield ENV_EXAMPLE.finding(
            target="compose",
            file="compose/.env.example",
            object=".env.example",
            message=f"required but not in .env.example: {', '.join(missing)}",
        )
    gitignore = stack.text("compose/.gitignore") or ""
    if ".env" not in {line.strip().lstrip("/") for line in gitignore.splitlines()}:
        yield ENV_EXAMPLE.finding(
            target="compose",
            file="compose/.gitignore",
            object=".env",
            message=".env (which holds the passwords) is not git-ignored next to the compose file",
            fix="add `.env` to stack/compose/.gitignore",
        )
