"""The app's settings: every key present, secrets only from secrets, the seed's pool promises kept;
and compose and Kubernetes giving the app the same settings (drift)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from harness.validate.compose import service_environment
from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import Setting, app_pods, container_settings, settings_file
from harness.validate.units import GIB, compose_bytes, compose_cpus

__all__ = ["REQUIRED_KEYS", "RULES", "SECRET_KEYS", "check"]

REQUIRED_KEYS = (
    "PORT",
    "HOST",
    "APP_ENV",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "DATABASE_URL",
    "DB_POOL_MIN",
    "DB_POOL_MAX",
    "DB_POOL_ACQUIRE_TIMEOUT_SECONDS",
    "DB_POOL_IDLE_TIMEOUT_SECONDS",
    "DB_POOL_MAX_LIFETIME_SECONDS",
    "CACHE_URL",
    "CACHE_TTL_SECONDS",
    "CACHE_MAX_ENTRIES",
    "REDIS_POOL_SIZE",
    "REDIS_MAX_RETRIES",
    "REDIS_RETRY_BACKOFF_BASE_SECONDS",
    "REDIS_RETRY_BACKOFF_CAP_SECONDS",
    "SLA_RESPONSE_MINUTES_CRITICAL",
    "SLA_RESPONSE_MINUTES_HIGH",
    "SLA_RESPONSE_MINUTES_MEDIUM",
    "SLA_RESPONSE_MINUTES_LOW",
    "SLA_SWEEP_INTERVAL_SECONDS",
    "ADMIN_TOKEN",
    "ARTIFICIAL_DELAY_MS",
    "SHUTDOWN_DRAIN_SECONDS",
    "UPLOADS_DIR",
)
SECRET_KEYS = ("DATABASE_URL", "ADMIN_TOKEN")
# Settings that name the environment and may differ between targets.
ENVIRONMENT_KEYS = frozenset({"APP_ENV", "LOG_LEVEL"})
# The seed's pooling promises ("Connection Pooling") and the app's port.
SEED_VALUES = {
    "PORT": 3000,
    "DB_POOL_ACQUIRE_TIMEOUT_SECONDS": 5,
    "DB_POOL_IDLE_TIMEOUT_SECONDS": 600,
    "DB_POOL_MAX_LIFETIME_SECONDS": 1800,
    "REDIS_POOL_SIZE": 20,
    "REDIS_MAX_RETRIES": 3,
}
# The seed's compose resources for the app.
COMPOSE_RESOURCES = {
    ("limits", "cpus"): 2.0,
    ("limits", "memory"): 2 * GIB,
    ("reservations", "cpus"): 1.0,
    ("reservations", "memory"): 1 * GIB,
}

REQUIRED = Rule(
    "settings.required",
    Severity.ERROR,
    "the app gets every setting it reads (the same list in compose and Kubernetes)",
    "add the key to stack/k8s/base/configmap.yaml (secrets: the Secret) and to the compose app "
    "environment",
)
SECRET_LITERAL = Rule(
    "settings.secret-literal",
    Severity.ERROR,
    "DATABASE_URL and ADMIN_TOKEN come from a Secret (compose: a ${VARIABLE} from .env), never "
    "a literal",
    "Kubernetes: valueFrom.secretKeyRef to servicedesk-secrets; compose: ${POSTGRES_PASSWORD} "
    "/ ${ADMIN_TOKEN}",
)
SEED_VALUE = Rule(
    "settings.seed-values",
    Severity.ERROR,
    "pool timeouts and Redis pool/retries are the seed's (5 s, 10 min, 30 min; 20, 3); PORT 3000",
    "restore the seed's value",
)
DRIFT_KEYS = Rule(
    "drift.settings-keys",
    Severity.ERROR,
    "compose and Kubernetes give the app the same setting keys",
    "add the missing key on the side that lacks it (DD_* tracer settings are exempt)",
)
DRIFT_VALUES = Rule(
    "drift.settings-values",
    Severity.ERROR,
    "compose and Kubernetes give the app the same values (APP_ENV, LOG_LEVEL may differ)",
    "make the ConfigMap (or overlay patch) and the compose environment agree",
)
DRIFT_COMPOSE_RESOURCES = Rule(
    "drift.compose-resources",
    Severity.ERROR,
    "compose app limits 2 CPU / 2G and reservations 1 CPU / 1G, as the seed says",
    "deploy.resources: {limits: {cpus: '2', memory: 2G}, reservations: {cpus: '1', memory: 1G}}",
)
RULES = (REQUIRED, SECRET_LITERAL, SEED_VALUE, DRIFT_KEYS, DRIFT_VALUES, DRIFT_COMPOSE_RESOURCES)


@dataclass(frozen=True, slots=True)
class _AppEnv:
    target: str
    file: str
    object: str
    settings: Mapping[str, Setting]


def _k8s_envs(stack: Stack) -> Iterator[_AppEnv]:
    for target, dep, container in app_pods(stack.targets):
        settings = container_settings(target, container, dep.file)
        yield _AppEnv(
            target.name,
            settings_file(target, dep),
            f"{dep.ref} container {container.get('name')}",
            settings,
        )


def _compose_env(stack: Stack) -> _AppEnv | None:
    app, raw = stack.compose.service("app"), stack.compose.raw_service("app")
    if app is None or raw is None:
        return None
    raw_env = service_environment(raw)
    settings = {
        key: Setting(
            None if "${" in raw_env.get(key, "") and key in SECRET_KEYS else value,
            "compose",
            stack.compose.file,
        )
        for key, value in service_environment(app).items()
    }
    return _AppEnv("compose", stack.compose.file, "service app", settings)


def _exempt(key: str) -> bool:
    return key.startswith("DD_")


_URL_SECRET = re.compile(r"^[a-z+]+://[^:/@]+:\$\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}@")


def _secret_literals(stack: Stack, envs: list[_AppEnv]) -> Iterator[Finding]:
    for env in envs:
        if env.target == "compose":
            continue
        for key in SECRET_KEYS:
            setting = env.settings.get(key)
            if setting is not None and setting.source != "secret":
                yield SECRET_LITERAL.finding(
                    target=env.target,
                    file=setting.file,
                    object=env.object,
                    message=f"{key} comes from a {setting.source}, not a Secret: it leaks into "
                    "every "
                    f"`kubectl get -o yaml`",
                )
    raw = stack.compose.raw_service("app")
    if raw is None:
        return
    raw_env = service_environment(raw)
    for key in SECRET_KEYS:
        value = raw_env.get(key)
        if value is None:
            continue
        ok = (
            bool(_URL_SECRET.match(value))
            if key == "DATABASE_URL"
            else value.strip().startswith("${")
        )
        if not ok:
            yield SECRET_LITERAL.finding(
                stack.compose.where("app"),
                message=f"{key} holds a literal secret; it must come from a variable set in .env",
            )


def _seed_values(envs: list[_AppEnv]) -> Iterator[Finding]:
    for env in envs:
        for key, want in SEED_VALUES.items():
            setting = env.settings.get(key)
            if setting is None or setting.value is None:
                continue
            try:
                ok = float(setting.value) == want
            except ValueError:
                ok = False
            if not ok:
                yield SEED_VALUE.finding(
                    target=env.target,
                    file=setting.file,
                    object=env.object,
                    message=f"{key} is {setting.value!r}; the seed says {want}",
                )


def _drift(compose: _AppEnv, envs: list[_AppEnv]) -> Iterator[Finding]:
    compose_keys = {k for k in compose.settings if not _exempt(k)}
    for env in envs:
        if env.target == "compose":
            continue
        keys = {k for k in env.settings if not _exempt(k)}
        only_k8s, only_compose = sorted(keys - compose_keys), sorted(compose_keys - keys)
        if only_k8s or only_compose:
            parts = []
            if only_k8s:
                parts.append(f"only in Kubernetes: {', '.join(only_k8s)}")
            if only_compose:
                parts.append(f"only in compose: {', '.join(only_compose)}")
            yield DRIFT_KEYS.finding(
                target=env.target, file=env.file, object=env.object, message="; ".join(parts)
            )
        for key in sorted(keys & compose_keys - ENVIRONMENT_KEYS):
            k8s_value, compose_value = env.settings[key].value, compose.settings[key].value
            if k8s_value is None or compose_value is None or k8s_value == compose_value:
                continue
            yield DRIFT_VALUES.finding(
                target=env.target,
                file=env.settings[key].file,
                object=env.object,
                message=f"{key} is {k8s_value!r} here but {compose_value!r} in {compose.file}",
            )


def _compose_resources(stack: Stack) -> Iterator[Finding]:
    app = stack.compose.service("app")
    if app is None:
        return
    resources = (app.get("deploy") or {}).get("resources") or {}
    wrong = []
    for (kind, name), want in COMPOSE_RESOURCES.items():
        raw = (resources.get(kind) or {}).get(name)
        try:
            have = (
                None
                if raw is None
                else (compose_cpus(raw) if name == "cpus" else compose_bytes(raw))
            )
        except ValueError:
            have = None
        if have != want:
            shown = f"{want:g}" if name == "cpus" else f"{want / GIB:g}G"
            wrong.append(f"{kind}.{name} is {raw!r} (want {shown})")
    if wrong:
        yield DRIFT_COMPOSE_RESOURCES.finding(
            stack.compose.where("app"),
            message="; ".join(wrong),
        )


def check(stack: Stack) -> Iterator[Finding]:
    envs = list(_k8s_envs(stack))
    compose = _compose_env(stack)
    if compose is not None:
        envs.append(compose)
    for env in envs:
        missing = [k for k in REQUIRED_KEYS if k not in env.settings]
        if missing:
            yield REQUIRED.finding(
                target=env.target,
                file=env.file,
                object=env.object,
                message=f"missing {', '.join(missing)}",
            )
    yield from _secret_literals(stack, envs)
    yield from _seed_values(envs)
    if compose is not None:
        yield from _drift(compose, envs)
    yield from _compose_resources(stack)
