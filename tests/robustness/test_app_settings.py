"""A scenario's app_settings are checked with the app's own parser before anything starts."""

from __future__ import annotations

import pytest

from harness.config.appcheck import check_app_settings
from harness.errors import ConfigError


@pytest.mark.parametrize(("settings", "field"), [
    ({"DB_POOL_MAX": "lots"}, "app_settings -> DB_POOL_MAX: 'lots' is invalid"),
    ({"DB_POOL_MIN": "20"}, "app_settings -> DB_POOL_MIN: 20 is invalid: expected <= DB_POOL_MAX"),
    ({"CACHE_FALLBACK": "maybe"}, "app_settings -> CACHE_FALLBACK"),
    ({"REDIS_RETRY_BACKOFF_BASE_SECONDS": "-1"}, "app_settings -> REDIS_RETRY_BACKOFF_BASE"),
])
def test_a_value_the_app_would_refuse_is_a_config_error(settings, field):
    with pytest.raises(ConfigError) as caught:
        check_app_settings(settings, "s.yaml")
    assert str(caught.value).startswith(f"s.yaml: {field}")


def test_good_values_and_unknown_keys_pass():
    check_app_settings({"DB_POOL_MAX": "5", "CACHE_FALLBACK": "false", "MY_FLAG": "x"}, "s.yaml")
    check_app_settings({}, "s.yaml")
