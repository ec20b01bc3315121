"""A scenario's `app_settings` checked with the app's own parser before anything starts.

Without this, a bad value (DB_POOL_MAX: "lots") would surface only when every replica exits at
start, as a stack failure; with it, it is what it is: a configuration error naming the file and
the field (exit 2). The app's settings module (stack/app/servicedesk/settings.py) is the one
definition of what each key accepts; it is pure Python and imported only for this.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import Any

from harness import paths
from harness.config.appsettings import bundled_app_settings
from harness.errors import ConfigError

__all__ = ["check_app_settings"]

# What the backends set themselves; placeholders so that only the scenario's values are judged.
_BACKEND_SET = {"DATABASE_URL": "sqlite:///check.db", "CACHE_URL": "memory://", "PORT": "3000",
                "ADMIN_PORT": "3001", "HOST": "127.0.0.1"}


def _app_settings_module() -> Any:
    folder = str(paths.app_dir())
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module("servicedesk.settings")
    finally:
        if added:
            sys.path.remove(folder)


def check_app_settings(settings: Mapping[str, str], source: str) -> None:
    """Raise ConfigError (file, app_settings -> KEY) if the app would refuse a value."""
    if not settings:
        return
    try:
        module = _app_settings_module()
    except ImportError:  # no app checkout next to the harness: the replicas will say
        return
    environ = {**bundled_app_settings(), **_BACKEND_SET, **settings}
    try:
        module.load_settings(environ)
    except module.SettingsError as exc:
        message = str(exc)
        key = message.split("=", 1)[0]
        if key in settings:
            raise ConfigError(source, ("app_settings", key), message.split("=", 1)[1]) from None
        for own in settings:  # a combination (DB_POOL_MIN > DB_POOL_MAX) names the other key
            if own in message:
                raise ConfigError(source, ("app_settings", own), message) from None
