"""Fixtures for tests that run the real load process against a local target (benchmarks.targets)."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


class Target:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture
def target() -> Iterator[Callable[..., Target]]:
    """Start benchmarks.targets (bounded lifetime); `target(stall_every=2, stall_for=0.5)`."""
    started: list[subprocess.Popen[str]] = []

    def start(stall_every: float = 0.0, stall_for: float = 1.0) -> Target:
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.targets", "--port", "0", "--lifetime", "300",
             "--stall-every", str(stall_every), "--stall-for", str(stall_for)],
            stdout=subprocess.PIPE, text=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        return Target(process, int(line.split()[1]))

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def locustfile(tmp_path: Path) -> Callable[[str], Path]:
    """Write a locustfile from its body; `locustfile(TEXT)` -> its path."""

    def write(text: str) -> Path:
        path = tmp_path / f"locustfile_{abs(hash(text))}.py"
        path.write_text(text, encoding="utf-8")
        return path

    return write
