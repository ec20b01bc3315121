"""Fixtures for the report tests; the RunResults themselves come from factory.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.report.results import RunResult
from tests.report.factory import make_result


@pytest.fixture
def result_factory() -> Callable[..., RunResult]:
    return make_result


@pytest.fixture(params=["passed", "failed", "interrupted", "empty"])
def any_result(request: pytest.FixtureRequest) -> RunResult:
    return make_result(request.param)
