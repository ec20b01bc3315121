"""Every environment variable the harness reads, declared in one place.

Precedence, everywhere: command-line flag > HARNESS_* environment variable > file > default.
"""

__all__ = [
    "ENV_CHECK_SCHEMA",
    "ENV_DATABASE_URL",
    "ENV_DEBUG",
    "ENV_REDIS_URL",
    "ENV_REMOTE_WRITE",
    "ENV_REPORT_DIR",
    "ENV_ROOT",
    "ENV_STACK",
    "ENV_STATE_DIR",
    "ENV_TARGET",
    "ENV_WORKERS",
    "ENV_GENERATOR_REALTIME",
    "SECRET_ENV_VARS",
]

ENV_ROOT = "HARNESS_ROOT"
ENV_STATE_DIR = "HARNESS_STATE_DIR"
ENV_REPORT_DIR = "HARNESS_REPORT_DIR"
ENV_STACK = "HARNESS_STACK"
ENV_TARGET = "HARNESS_TARGET"
ENV_WORKERS = "HARNESS_WORKERS"
ENV_GENERATOR_REALTIME = "HARNESS_GENERATOR_REALTIME"
ENV_DEBUG = "HARNESS_DEBUG"
ENV_DATABASE_URL = "HARNESS_DATABASE_URL"
ENV_REDIS_URL = "HARNESS_REDIS_URL"
ENV_REMOTE_WRITE = "HARNESS_REMOTE_WRITE"
# Tests: validate results.json and compare.json against the published schemas as they are written.
ENV_CHECK_SCHEMA = "HARNESS_CHECK_SCHEMA"

# Values of these never reach a log, a report or results.json (see harness.redact).
SECRET_ENV_VARS = (
    "DD_API_KEY",
    "DD_APP_KEY",
    "GRAFANA_TOKEN",
    "DATABASE_PASSWORD",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "SERVICEDESK_ADMIN_TOKEN",
)
