from pathlib import Path

import pytest
from servicedesk.models import Priority
from servicedesk.settings import ENV_KEYS, Settings, SettingsError, load_settings, redact_url

CONTRACT_KEYS = {
    "PORT", "HOST", "REUSE_PORT", "ADMIN_PORT", "APP_ENV", "LOG_LEVEL", "LOG_FORMAT",
    "DATABASE_URL", "DB_POOL_MIN", "DB_POOL_MAX", "DB_POOL_ACQUIRE_TIMEOUT_SECONDS",
    "DB_POOL_IDLE_TIMEOUT_SECONDS", "DB_POOL_MAX_LIFETIME_SECONDS", "CACHE_URL",
    "CACHE_TTL_SECONDS", "CACHE_MAX_ENTRIES", "REDIS_POOL_SIZE", "REDIS_MAX_RETRIES",
    "REDIS_RETRY_BACKOFF_BASE_SECONDS", "REDIS_RETRY_BACKOFF_CAP_SECONDS",
    "SLA_RESPONSE_MINUTES_CRITICAL", "SLA_RESPONSE_MINUTES_HIGH", "SLA_RESPONSE_MINUTES_MEDIUM",
    "SLA_RESPONSE_MINUTES_LOW", "SLA_SWEEP_INTERVAL_SECONDS", "ADMIN_TOKEN",
    "ARTIFICIAL_DELAY_MS", "ARTIFICIAL_CPU_MS", "UPLOADS_DIR", "STATIC_DIR",
    "DB_POOL_RECONNECT", "CACHE_FALLBACK",  # resilience switches for the harness's fault tests
    "SHUTDOWN_DRAIN_SECONDS", "GRACEFUL_SHUTDOWN",  # SIGTERM drain; the switch for rollout tests
    "ARTIFICIAL_UNREADY",  # a version that never turns ready (a bad rollout)
}  # fmt: skip


def test_every_contract_key_is_read() -> None:
    assert set(ENV_KEYS) == CONTRACT_KEYS


def test_defaults_match_the_contract() -> None:
    s = load_settings({})
    assert (s.port, s.host, s.reuse_port, s.admin_port) == (3000, "0.0.0.0", False, None)
    assert (s.app_env, s.log_level, s.log_format) == ("development", "info", "json")
    assert s.database_url == "sqlite:///./servicedesk.db"
    assert (s.db_pool_min, s.db_pool_max) == (10, 50)
    assert s.db_pool_acquire_timeout_seconds == 5
    assert s.db_pool_idle_timeout_seconds == 600
    assert s.db_pool_max_lifetime_seconds == 1800
    assert (s.cache_url, s.cache_ttl_seconds, s.cache_max_entries) == ("memory://", 30, 10000)
    assert (s.redis_pool_size, s.redis_max_retries) == (20, 3)
    assert (s.redis_retry_backoff_base_seconds, s.redis_retry_backoff_cap_seconds) == (0.05, 1.0)
    assert s.sla_response_minutes == {
        Priority.CRITICAL: 60, Priority.HIGH: 240, Priority.MEDIUM: 480, Priority.LOW: 1440
    }  # fmt: skip
    assert s.sla_sweep_interval_seconds == 15
    assert s.admin_token is None
    assert s.artificial_delay_ms == 0
    assert (s.shutdown_drain_seconds, s.graceful_shutdown) == (5, True)
    assert s.uploads_dir == Path("./uploads")
    assert s.static_dir is None


def test_every_key_is_parsed() -> None:
    s = load_settings(
        {
            "PORT": "8080", "HOST": "127.0.0.1", "REUSE_PORT": "true", "ADMIN_PORT": "9090",
            "APP_ENV": "production", "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text",
            "DATABASE_URL": "postgresql://sd:pw@db:5432/servicedesk",
            "DB_POOL_MIN": "2", "DB_POOL_MAX": "7", "DB_POOL_ACQUIRE_TIMEOUT_SECONDS": "1.5",
            "DB_POOL_IDLE_TIMEOUT_SECONDS": "60", "DB_POOL_MAX_LIFETIME_SECONDS": "120",
            "CACHE_URL": "redis://cache:6379/1", "CACHE_TTL_SECONDS": "5",
            "CACHE_MAX_ENTRIES": "100", "REDIS_POOL_SIZE": "4", "REDIS_MAX_RETRIES": "0",
            "REDIS_RETRY_BACKOFF_BASE_SECONDS": "0.01", "REDIS_RETRY_BACKOFF_CAP_SECONDS": "0.5",
            "SLA_RESPONSE_MINUTES_CRITICAL": "15", "SLA_RESPONSE_MINUTES_HIGH": "30",
            "SLA_RESPONSE_MINUTES_MEDIUM": "45", "SLA_RESPONSE_MINUTES_LOW": "90",
            "SLA_SWEEP_INTERVAL_SECONDS": "0.5", "ADMIN_TOKEN": "s3cret",
            "ARTIFICIAL_DELAY_MS": "250", "UPLOADS_DIR": "/data/uploads", "STATIC_DIR": "/srv",
        }
    )  # fmt: skip
    assert s == Settings(
        port=8080, host="127.0.0.1", reuse_port=True, admin_port=9090, app_env="production",
        log_level="warning", log_format="text",
        database_url="postgresql://sd:pw@db:5432/servicedesk", db_pool_min=2, db_pool_max=7,
        db_pool_acquire_timeout_seconds=1.5, db_pool_idle_timeout_seconds=60,
        db_pool_max_lifetime_seconds=120, cache_url="redis://cache:6379/1", cache_ttl_seconds=5,
        cache_max_entries=100, redis_pool_size=4, redis_max_retries=0,
        redis_retry_backoff_base_seconds=0.01, redis_retry_backoff_cap_seconds=0.5,
        sla_response_minutes_critical=15, sla_response_minutes_high=30,
        sla_response_minutes_medium=45, sla_response_minutes_low=90,
        sla_sweep_interval_seconds=0.5, admin_token="s3cret", artificial_delay_ms=250,
        uploads_dir=Path("/data/uploads"), static_dir=Path("/srv"),
    )  # fmt: skip
    assert s.database_scheme == "postgresql"
    assert s.cache_scheme == "redis"


@pytest.mark.parametrize(  # fmt: skip
    ("env", "message"),
    [
        ({"PORT": "http"}, "PORT='http' is invalid: expected an integer >= 1 and <= 65535"),
        ({"PORT": "70000"}, "PORT='70000' is invalid: expected an integer >= 1 and <= 65535"),
        ({"DB_POOL_MAX": "0"}, "DB_POOL_MAX='0' is invalid: expected an integer >= 1"),
        ({"DB_POOL_MAX": "ten"}, "DB_POOL_MAX='ten' is invalid: expected an integer >= 1"),
        ({"REUSE_PORT": "maybe"}, "REUSE_PORT='maybe' is invalid: expected one of true, false"),
        (
            {"APP_ENV": "qa"},
            "APP_ENV='qa' is invalid: expected one of development, staging, production",
        ),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' is invalid: expected one of json, text"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL='mysql://x/y' is invalid: expected a URL"),
        ({"DATABASE_URL": "sqlite://x.db"}, "expected sqlite:///relative/path.db"),
        ({"CACHE_URL": "memcached://x"}, "CACHE_URL='memcached://x' is invalid"),
        ({"CACHE_TTL_SECONDS": "0"}, "CACHE_TTL_SECONDS='0' is invalid: expected a number > 0"),
        ({"CACHE_TTL_SECONDS": "nan"}, "CACHE_TTL_SECONDS='nan' is invalid"),
        (
            {"ARTIFICIAL_DELAY_MS": "-1"},
            "ARTIFICIAL_DELAY_MS='-1' is invalid: expected a number >= 0",
        ),
        (
            {"DB_POOL_MIN": "20", "DB_POOL_MAX": "10"},
            "DB_POOL_MIN=20 is invalid: expected <= DB_POOL_MAX=10",
        ),
        ({"PORT": "3000", "ADMIN_PORT": "3000"}, "ADMIN_PORT=3000 is invalid"),
        (
            {"REDIS_RETRY_BACKOFF_BASE_SECONDS": "2"},
            "REDIS_RETRY_BACKOFF_BASE_SECONDS=2 is invalid",
        ),
    ],
)  # noqa: E501
def test_bad_values_give_one_line_naming_the_key(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_empty_optional_keys_mean_unset() -> None:
    s = load_settings({"ADMIN_PORT": "", "ADMIN_TOKEN": " ", "STATIC_DIR": ""})
    assert (s.admin_port, s.admin_token, s.static_dir) == (None, None, None)


def test_secrets_never_show() -> None:
    s = load_settings(
        {"ADMIN_TOKEN": "tok-SECRET", "DATABASE_URL": "postgresql://sd:pw-SECRET@db:5432/sd"}
    )
    for text in (repr(s), str(s), str(s.redacted())):
        assert "SECRET" not in text
    assert s.redacted()["database_url"] == "postgresql://sd:***@db:5432/sd"
    assert s.redacted()["admin_token"] == "<set>"


def test_bad_database_url_error_hides_the_password() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"DATABASE_URL": "mysql://sd:pw-SECRET@db/sd"})
    assert "SECRET" not in str(caught.value)


def test_redact_url_leaves_password_free_urls_alone() -> None:
    assert redact_url("redis://cache:6379/0") == "redis://cache:6379/0"
    assert redact_url("redis://:pw@cache:6379/0") == "redis://:***@cache:6379/0"


def test_for_cli_shrinks_only_the_pool() -> None:
    s = load_settings({"DB_POOL_MIN": "10", "DB_POOL_MAX": "50", "PORT": "1234"})
    small = s.for_cli()
    assert (small.db_pool_min, small.db_pool_max, small.port) == (1, 2, 1234)
