"""The rollout rules' readings: the preStop sleep, the app's drain from its settings."""

import ast

import pytest

from harness import paths
from harness.validate.rules.rollout import APP_DRAIN_DEFAULT_SECONDS, drain_seconds, prestop_seconds


def test_the_default_drain_is_the_apps() -> None:
    source = (paths.app_dir() / "servicedesk" / "settings.py").read_text()
    defaults = {
        node.target.id: node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    assert ast.literal_eval(defaults["shutdown_drain_seconds"]) == APP_DRAIN_DEFAULT_SECONDS


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, APP_DRAIN_DEFAULT_SECONDS),
        ({"SHUTDOWN_DRAIN_SECONDS": "12.5"}, 12.5),
        ({"SHUTDOWN_DRAIN_SECONDS": "12", "GRACEFUL_SHUTDOWN": "False"}, 0.0),
        ({"SHUTDOWN_DRAIN_SECONDS": "12", "GRACEFUL_SHUTDOWN": "true"}, 12.0),
        ({"SHUTDOWN_DRAIN_SECONDS": "soon"}, None),
    ],
)
def test_drain_seconds(settings: dict[str, str], expected: float | None) -> None:
    assert drain_seconds(settings) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({}, 0.0),
        ({"lifecycle": {"preStop": {"sleep": {"seconds": 7}}}}, 7.0),
        ({"lifecycle": {"preStop": {"exec": {"command": ["/bin/sleep", "3"]}}}}, 3.0),
        ({"lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "sleep 4 && x"]}}}}, 4.0),
        ({"lifecycle": {"preStop": {"httpGet": {"path": "/stop", "port": 3000}}}}, 0.0),
    ],
)
def test_prestop_seconds(container: dict, expected: float) -> None:  # type: ignore[type-arg]
    assert prestop_seconds(container) == expected
