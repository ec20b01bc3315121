"""Fixtures for the bundled stack's own tests: where it is, a private copy, required binaries."""

from __future__ import annotations

import glob
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[2]
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "servicedesk", ".env", "secrets.env")


@pytest.fixture(scope="session")
def bundled_stack() -> Path:
    return REPO / "stack"


@pytest.fixture
def stack_copy(tmp_path: Path, bundled_stack: Path) -> Path:
    target = tmp_path / "stack"
    shutil.copytree(bundled_stack, target, ignore=_IGNORE)
    return target


# Where Debian puts binaries that are not always on PATH (PostgreSQL's server programs, nginx).
_FALLBACKS = ("/usr/sbin/{name}", "/usr/lib/postgresql/*/bin/{name}")


def _require(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        found = sorted(
            (p for pattern in _FALLBACKS for p in glob.glob(pattern.format(name=name))),
            key=lambda p: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", p)],
        )
        path = found[-1] if found else None
    if path is None:
        pytest.fail(f"`{name}` is required by this test and is not installed (install {package})")
    return path


@pytest.fixture(scope="session")
def require_binary() -> Callable[[str, str], str]:
    """`require_binary(name, package)`: the binary's path; a missing one fails the test loudly
    instead of skipping it."""
    return _require


# Under mutmut (it sets MUTANT_UNDER_TEST for each mutant's run) the autoscaler's ~780 mutants each
# run the property tests: a few derandomized examples keep a pass within the hour (README).
_EXAMPLES_UNDER_MUTATION = 20


@pytest.fixture
def property_settings() -> Callable[[int], settings]:
    """`property_settings(n)`: settings for a property test of n examples, no deadline; under
    mutmut, at most 20 examples, derandomized and without the example database."""

    def make(examples: int) -> settings:
        if os.environ.get("MUTANT_UNDER_TEST"):
            return settings(max_examples=min(examples, _EXAMPLES_UNDER_MUTATION),
                            derandomize=True, database=None, deadline=None)
        return settings(max_examples=examples, deadline=None)

    return make
