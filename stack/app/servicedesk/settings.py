"""Settings: environment variables only, parsed once into a frozen :class:`Settings`.

The Kubernetes ConfigMap, the compose file and the harness's embedded stack all use the keys
listed in :data:`ENV_KEYS`. A bad value raises :class:`SettingsError` with a one-line message
naming the key, the value received and what is allowed. Secrets (``ADMIN_TOKEN``, the password in
``DATABASE_URL``) never appear in ``repr()`` or in :meth:`Settings.redacted`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .models import Priority

__all__ = ["ENV_KEYS", "Settings", "SettingsError", "load_settings", "redact_url"]

APP_ENVS = ("development", "staging", "production")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
LOG_FORMATS = ("json", "text")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
CACHE_SCHEMES = ("memory", "redis")


class SettingsError(ValueError):
    """A setting is missing, malformed or inconsistent; the message is one line."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of one replica. Build with :func:`load_settings`."""

    port: int = 3000
    host: str = "0.0.0.0"
    reuse_port: bool = False
    admin_port: int | None = None
    app_env: str = "development"
    log_level: str = "info"
    log_format: str = "json"
    database_url: str = field(default="sqlite:///./servicedesk.db", repr=False)
    db_pool_min: int = 10
    db_pool_max: int = 50
    db_pool_acquire_timeout_seconds: float = 5.0
    db_pool_idle_timeout_seconds: float = 600.0
    db_pool_max_lifetime_seconds: float = 1800.0
    # Resilience switch for fault tests: false = once the database drops a connection the
    # store stops using it (an app that never reconnects). Keep true in every real deployment.
    db_pool_reconnect: bool = True
    cache_url: str = field(default="memory://", repr=False)
    cache_ttl_seconds: float = 30.0
    cache_max_entries: int = 10_000
    redis_pool_size: int = 20
    redis_max_retries: int = 3
    redis_retry_backoff_base_seconds: float = 0.05
    redis_retry_backoff_cap_seconds: float = 1.0
    # Resilience switch for fault tests: false = a Redis failure fails the request (503)
    # instead of falling back to the database. Keep true in every real deployment.
    cache_fallback: bool = True
    sla_response_minutes_critical: int = 60
    sla_response_minutes_high: int = 240
    sla_response_minutes_medium: int = 480
    sla_response_minutes_low: int = 1440
    sla_sweep_interval_seconds: float = 15.0
    admin_token: str | None = field(default=None, repr=False)
    artificial_delay_ms: float = 0.0
    # CPU burnt per API request (a heavier app on purpose, e.g. to exercise the autoscaler).
    artificial_cpu_ms: float = 0.0
    # A broken version on purpose: readiness never passes (the harness's bad rollout).
    artificial_unready: bool = False
    # SIGTERM: fail readiness at once, keep serving this long (load balancers and Endpoints
    # stop sending meanwhile), then finish requests in flight and exit 0.
    shutdown_drain_seconds: float = 5.0
    # Resilience switch for rollout tests: false = SIGTERM stops listening at once (no drain).
    # Keep true in every real deployment.
    graceful_shutdown: bool = True
    uploads_dir: Path = Path("./uploads")
    static_dir: Path | None = None

    @property
    def database_scheme(self) -> str:
        return urlsplit(self.database_url).scheme

    @property
    def cache_scheme(self) -> str:
        return urlsplit(self.cache_url).scheme

    @property
    def sla_response_minutes(self) -> Mapping[Priority, int]:
        return {
            Priority.CRITICAL: self.sla_response_minutes_critical,
            Priority.HIGH: self.sla_response_minutes_high,
            Priority.MEDIUM: self.sla_response_minutes_medium,
            Priority.LOW: self.sla_response_minutes_low,
        }

    def for_cli(self) -> Settings:
        """One-shot commands (migrate, seed) need a connection or two, not the server's pool."""
        return dataclasses.replace(self, db_pool_min=1, db_pool_max=2)

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict safe to log: secrets masked, URLs without passwords."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "admin_token":
                value = "<set>" if value else "<unset>"
            elif f.name in ("database_url", "cache_url"):
                value = redact_url(value)
            elif isinstance(value, Path):
                value = str(value)
            out[f.name] = value
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.redacted().items())
        return f"Settings({inner})"


def redact_url(url: str) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- parsers: each takes the raw string and returns the value or raises ValueError(expected) ---


def _int(minimum: int = 0, maximum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        expected = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum else "")
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(expected) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(expected)
        return value

    return parse


def _float(minimum: float = 0.0, strictly_positive: bool = False) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        expected = "a number > 0" if strictly_positive else f"a number >= {minimum:g}"
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(expected) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(expected)
        if value < minimum or (strictly_positive and value <= 0):
            raise ValueError(expected)
        return value

    return parse


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("one of true, false, 1, 0, yes, no, on, off")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise ValueError("one of " + ", ".join(allowed))
        return value

    return parse


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip()
        scheme = urlsplit(value).scheme
        if scheme not in schemes or "://" not in value:
            raise ValueError("a URL with scheme " + " or ".join(f"{s}://" for s in schemes))
        if scheme == "sqlite" and not value.startswith("sqlite:///"):
            raise ValueError("sqlite:///relative/path.db or sqlite:////absolute/path.db")
        return value

    return parse


def _nonempty(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("a non-empty string")
    return value


def _path(raw: str) -> Path:
    return Path(_nonempty(raw))


_PORT = _int(1, 65535)

# env key -> (field name, parser). Empty values of optional keys mean "unset".
_SPEC: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PORT": ("port", _PORT),
    "HOST": ("host", _nonempty),
    "REUSE_PORT": ("reuse_port", _bool),
    "ADMIN_PORT": ("admin_port", _PORT),
    "APP_ENV": ("app_env", _choice(*APP_ENVS)),
    "LOG_LEVEL": ("log_level", _choice(*LOG_LEVELS)),
    "LOG_FORMAT": ("log_format", _choice(*LOG_FORMATS)),
    "DATABASE_URL": ("database_url", _url(*DATABASE_SCHEMES)),
    "DB_POOL_MIN": ("db_pool_min", _int(0)),
    "DB_POOL_MAX": ("db_pool_max", _int(1)),
    "DB_POOL_ACQUIRE_TIMEOUT_SECONDS": ("db_pool_acquire_timeout_seconds", _float(0, True)),
    "DB_POOL_IDLE_TIMEOUT_SECONDS": ("db_pool_idle_timeout_seconds", _float(0, True)),
    "DB_POOL_MAX_LIFETIME_SECONDS": ("db_pool_max_lifetime_seconds", _float(0, True)),
    "DB_POOL_RECONNECT": ("db_pool_reconnect", _bool),
    "CACHE_URL": ("cache_url", _url(*CACHE_SCHEMES)),
    "CACHE_TTL_SECONDS": ("cache_ttl_seconds", _float(0, True)),
    "CACHE_MAX_ENTRIES": ("cache_max_entries", _int(1)),
    "REDIS_POOL_SIZE": ("redis_pool_size", _int(1)),
    "REDIS_MAX_RETRIES": ("redis_max_retries", _int(0)),
    "REDIS_RETRY_BACKOFF_BASE_SECONDS": ("redis_retry_backoff_base_seconds", _float(0)),
    "REDIS_RETRY_BACKOFF_CAP_SECONDS": ("redis_retry_backoff_cap_seconds", _float(0)),
    "CACHE_FALLBACK": ("cache_fallback", _bool),
    "SLA_RESPONSE_MINUTES_CRITICAL": ("sla_response_minutes_critical", _int(1)),
    "SLA_RESPONSE_MINUTES_HIGH": ("sla_response_minutes_high", _int(1)),
    "SLA_RESPONSE_MINUTES_MEDIUM": ("sla_response_minutes_medium", _int(1)),
    "SLA_RESPONSE_MINUTES_LOW": ("sla_response_minutes_low", _int(1)),
    "SLA_SWEEP_INTERVAL_SECONDS": ("sla_sweep_interval_seconds", _float(0, True)),
    "ADMIN_TOKEN": ("admin_token", _nonempty),
    "ARTIFICIAL_DELAY_MS": ("artificial_delay_ms", _float(0)),
    "ARTIFICIAL_CPU_MS": ("artificial_cpu_ms", _float(0)),
    "ARTIFICIAL_UNREADY": ("artificial_unready", _bool),
    "SHUTDOWN_DRAIN_SECONDS": ("shutdown_drain_seconds", _float(0)),
    "GRACEFUL_SHUTDOWN": ("graceful_shutdown", _bool),
    "UPLOADS_DIR": ("uploads_dir", _path),
    "STATIC_DIR": ("static_dir", _path),
}
_OPTIONAL = frozenset({"ADMIN_PORT", "ADMIN_TOKEN", "STATIC_DIR"})
_SECRET = frozenset({"ADMIN_TOKEN"})

ENV_KEYS: tuple[str, ...] = tuple(_SPEC)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Parse ``environ`` (usually ``os.environ``); unknown keys are ignored."""
    values: dict[str, Any] = {}
    for key, (name, parse) in _SPEC.items():
        raw = environ.get(key)
        if raw is None or (key in _OPTIONAL and not raw.strip()):
            continue
        try:
            values[name] = parse(raw)
        except ValueError as exc:
            shown = "<hidden>" if key in _SECRET else repr(_shown_value(key, raw))
            raise SettingsError(f"{key}={shown} is invalid: expected {exc}") from None
    settings = Settings(**values)
    _check_consistency(settings)
    return settings


def _shown_value(key: str, raw: str) -> str:
    return redact_url(raw) if key == "DATABASE_URL" else raw


def _check_consistency(s: Settings) -> None:
    if s.db_pool_min > s.db_pool_max:
        raise SettingsError(
            f"DB_POOL_MIN={s.db_pool_min} is invalid: expected <= DB_POOL_MAX={s.db_pool_max}"
        )
    if s.admin_port is not None and s.admin_port == s.port:
        raise SettingsError(
            f"ADMIN_PORT={s.admin_port} is invalid: expected a port other than PORT"
        )
    if s.redis_retry_backoff_base_seconds > s.redis_retry_backoff_cap_seconds:
        raise SettingsError(
            f"REDIS_RETRY_BACKOFF_BASE_SECONDS={s.redis_retry_backoff_base_seconds:g} is invalid: "
            f"expected <= REDIS_RETRY_BACKOFF_CAP_SECONDS={s.redis_retry_backoff_cap_seconds:g}"
        )
