"""Helpers for end-to-end runs of the real `harness` command on the embedded stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def harness(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


@pytest.fixture
def report_root(tmp_path: Path) -> Path:
    return tmp_path / "reports"
