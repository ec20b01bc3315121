"""Fixtures for `harness validate` tests: a private copy of the bundled stack to break."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.validate import ValidationReport, validate_stack

REPO = Path(__file__).resolve().parents[2]
BUNDLED_STACK = REPO / "stack"
# Local secrets and the app's code play no part in validation; leave them out of the copies.
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "servicedesk", ".env", "secrets.env")


def copy_stack(dest: Path) -> Path:
    target = dest / "stack"
    shutil.copytree(BUNDLED_STACK, target, ignore=_IGNORE)
    return target


@pytest.fixture
def stack_copy(tmp_path: Path) -> Path:
    return copy_stack(tmp_path)


@pytest.fixture(scope="session")
def bundled_report(tmp_path_factory: pytest.TempPathFactory) -> ValidationReport:
    return validate_stack(copy_stack(tmp_path_factory.mktemp("bundled")))
