"""The app's settings as the bundled Kubernetes ConfigMap states them (the single source).

The embedded and local backends start replicas with these values, overridden only where the
backend must (addresses, database URL) and by a scenario's `app_settings`.
"""

from __future__ import annotations

from pathlib import Path

from harness import paths
from harness.config.k8s import manifest_documents
from harness.errors import ConfigError

__all__ = ["bundled_app_settings", "check_setting_keys"]


def bundled_app_settings(base_dir: Path | None = None) -> dict[str, str]:
    """The `data` of the ConfigMap in stack/k8s/base (an empty dict if the base has none)."""
    folder = base_dir or paths.k8s_base_dir()
    for path in sorted(folder.glob("*.yaml")):
        for document in manifest_documents(path):
            if isinstance(document, dict) and document.get("kind") == "ConfigMap":
                data = document.get("data") or {}
                if not isinstance(data, dict):
                    raise ConfigError(str(path), ("data",), "expected a mapping of settings")
                return {str(k): str(v) for k, v in data.items()}
    return {}


def check_setting_keys(settings: dict[str, str]) -> dict[str, str]:
    """`settings` unchanged, or ValueError naming the first key that is no variable name."""
    for key in settings:
        if not key.replace("_", "").isalnum() or key.upper() != key:
            raise ValueError(f"app_settings key {key!r} must be an UPPER_CASE variable name")
    return settings
