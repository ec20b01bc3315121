"""Session-wide test settings."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness import settings


@pytest.fixture(autouse=True, scope="session")
def _validate_written_files() -> Iterator[None]:
    """Every results.json and compare.json a test makes (in-process or through a `harness`
    subprocess, which inherits the environment) is validated against the published schema as it
    is written; a violation fails the test that wrote it (harness.report.schema)."""
    previous = os.environ.get(settings.ENV_CHECK_SCHEMA)
    os.environ[settings.ENV_CHECK_SCHEMA] = "1"
    yield
    if previous is None:
        os.environ.pop(settings.ENV_CHECK_SCHEMA, None)
    else:
        os.environ[settings.ENV_CHECK_SCHEMA] = previous
