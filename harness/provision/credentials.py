"""Where Grafana and Datadog are and the secrets to reach them, from the environment only.

Tokens and keys never appear in a repr, a message or a file (harness.redact masks their values
anywhere else; harness.settings.SECRET_ENV_VARS lists them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.errors import UsageError

__all__ = [
    "ENV_DATADOG_HOST",
    "ENV_DD_API_KEY",
    "ENV_DD_APP_KEY",
    "ENV_DD_SITE",
    "ENV_GRAFANA_TOKEN",
    "ENV_GRAFANA_URL",
    "DatadogCredentials",
    "GrafanaCredentials",
    "datadog_api_url",
]

ENV_GRAFANA_URL = "GRAFANA_URL"
ENV_GRAFANA_TOKEN = "GRAFANA_TOKEN"  # a service account token
ENV_DD_API_KEY = "DD_API_KEY"
ENV_DD_APP_KEY = "DD_APP_KEY"
ENV_DD_SITE = "DD_SITE"  # datadoghq.com, datadoghq.eu, us3.datadoghq.com, ...
ENV_DATADOG_HOST = "DATADOG_HOST"  # a full API URL; wins over DD_SITE (as in the datadog package)
DEFAULT_SITE = "datadoghq.com"
_SITE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _check_url(value: str, what: str) -> str:
    url = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+", url):
        raise UsageError(f"{what}: {url!r} is not an http(s) URL")
    return url


def datadog_api_url(site: str) -> str:
    """https://api.<site>, the Monitors API host of a Datadog site."""
    site = site.strip().lower()
    if not _SITE.match(site):
        raise UsageError(f"{ENV_DD_SITE}={site!r} is not a Datadog site such as datadoghq.com, "
                         "datadoghq.eu or us5.datadoghq.com")
    return f"https://api.{site}"


@dataclass(frozen=True)
class GrafanaCredentials:
    url: str
    token: str = field(repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], url: str | None = None
                     ) -> GrafanaCredentials | None:
        """None when the URL or the token is missing."""
        base = (url or environ.get(ENV_GRAFANA_URL, "")).strip()
        token = environ.get(ENV_GRAFANA_TOKEN, "").strip()
        if not base or not token:
            return None
        return cls(_check_url(base, "--grafana-url"), token)


@dataclass(frozen=True)
class DatadogCredentials:
    api_url: str
    api_key: str = field(repr=False)
    app_key: str = field(repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], api_url: str | None = None
                     ) -> DatadogCredentials | None:
        """None when either key is missing."""
        api_key = environ.get(ENV_DD_API_KEY, "").strip()
        app_key = environ.get(ENV_DD_APP_KEY, "").strip()
        if not api_key or not app_key:
            return None
        if api_url or environ.get(ENV_DATADOG_HOST, "").strip():
            where = _check_url(api_url or environ[ENV_DATADOG_HOST], "the Datadog API URL")
        else:
            where = datadog_api_url(environ.get(ENV_DD_SITE, "").strip() or DEFAULT_SITE)
        return cls(where, api_key, app_key)
