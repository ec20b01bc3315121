"""Where the bundled files live. The harness runs from its repository checkout."""

from __future__ import annotations

import os
from pathlib import Path

from harness import settings

__all__ = [
    "app_dir",
    "k8s_base_dir",
    "loadtests_dir",
    "project_root",
    "reports_dir",
    "scenarios_dir",
    "slo_spec_path",
    "stack_dir",
    "state_dir",
]


def project_root() -> Path:
    override = os.environ.get(settings.ENV_ROOT)
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent


def stack_dir() -> Path:
    return project_root() / "stack"


def app_dir() -> Path:
    return stack_dir() / "app"


def k8s_base_dir() -> Path:
    return stack_dir() / "k8s" / "base"


def loadtests_dir() -> Path:
    return project_root() / "loadtests"


def scenarios_dir() -> Path:
    return loadtests_dir() / "scenarios"


def slo_spec_path() -> Path:
    return loadtests_dir() / "slo.yaml"


def reports_dir() -> Path:
    return project_root() / "reports"


def state_dir() -> Path:
    """Where `harness up` remembers what it started, so `harness down` can stop it."""
    override = os.environ.get(settings.ENV_STATE_DIR)
    if override:
        return Path(override)
    return project_root() / ".harness"
