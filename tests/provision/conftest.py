"""Fixtures for the provision tests: the golden inputs, and the stand-in Grafana and Datadog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config.load import load_slo
from harness.config.model import SloSpec
from harness.provision.sources import StackNumbers
from tests.provision.fakes import FakeDatadog, FakeGrafana

TESTDATA = Path(__file__).parent / "testdata"
# Distinctive values, so a test can prove they never leak into output, logs or files.
DD_API_KEY = "ddapi-5f1e0c9b7a3d4e2f8a6b1c0d9e8f7a6b"
DD_APP_KEY = "ddapp-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b"
GRAFANA_TOKEN = "glsa_T0k3nV4lu3_9f8e7d6c5b4a3210_abcdef"


@pytest.fixture
def golden_slo() -> SloSpec:
    return load_slo(TESTDATA / "in-slo.yaml")


@pytest.fixture
def golden_stack() -> StackNumbers:
    return StackNumbers(**json.loads((TESTDATA / "in-stack.json").read_text()))


@pytest.fixture
def fake_datadog() -> Iterator[FakeDatadog]:
    server = FakeDatadog(api_key=DD_API_KEY, app_key=DD_APP_KEY)
    yield server
    server.stop()


@pytest.fixture
def fake_grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana(token=GRAFANA_TOKEN)
    yield server
    server.stop()


def _golden(name: str, text: str) -> None:
    """Compare `text` with testdata/<name>; `UPDATE_GOLDEN=1 pytest tests/provision` rewrites
    the goldens (then review the diff before committing)."""
    import os

    path = TESTDATA / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if not path.is_file():
        pytest.fail(f"missing golden {path}; create it with UPDATE_GOLDEN=1 and review it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden (UPDATE_GOLDEN=1 to accept)"


@pytest.fixture
def golden():  # type: ignore[no-untyped-def]
    return _golden


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    """A Typer app with the provision commands, as harness.cli registers them."""
    import typer

    from harness.commands import dashboards, monitors, rules

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test app"""

    for module in (dashboards, rules, monitors):
        module.register(app)
    return app
