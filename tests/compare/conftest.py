"""Synthetic run folders shared by the compare tests (made once per session: each takes a second
or two of histogram encoding)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.compare.runs import RunData, load_run
from tests.compare.synthetic import write_run


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def make_run(runs_dir: Path) -> Callable[..., RunData]:
    """`make_run(name, seed=..., **write_run options)`, cached by name."""
    made: dict[str, RunData] = {}

    def make(name: str, **options: object) -> RunData:
        if name not in made:
            made[name] = load_run(write_run(runs_dir / name, **options))  # type: ignore[arg-type]
        return made[name]

    return make


@pytest.fixture(scope="session")
def baseline_run(make_run: Callable[..., RunData]) -> RunData:
    return make_run("baseline", seed=1)


@pytest.fixture(scope="session")
def same_run(make_run: Callable[..., RunData]) -> RunData:
    """Drawn from the same distributions as baseline_run, other random numbers."""
    return make_run("same", seed=2)


@pytest.fixture(scope="session")
def slow_run(make_run: Callable[..., RunData]) -> RunData:
    """Every latency 10 % higher than baseline_run's (so every percentile +10 %)."""
    return make_run("slow", seed=3, slowdown=1.10)


@pytest.fixture(scope="session")
def failing_run(make_run: Callable[..., RunData]) -> RunData:
    """1 % of requests failed (baseline_run: none)."""
    return make_run("failing", seed=4, error_percent=1.0)
