"""Secrets given through the environment never reach a log, a report or results.json: a run on
the local stack (its database password too) with every secret variable set, every produced file
scanned (compressed ones opened)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from harness.settings import SECRET_ENV_VARS
from tests.e2e.conftest import harness

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SCENARIO = """name: secrets
description: a short run with every secret set
stages:
  - {duration: 15s, users: 10, spawn_rate: 10, steady: true}
seed: {tickets: 100}
autoscaling: {enabled: false}
faults:
  - {at: 5s, kind: restart-postgres}
"""
URL_PASSWORD = re.compile(r"(?:postgres(?:ql)?|redis)://[^:/@\s\"']+:([^@\s\"']+)@")


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def test_no_secret_in_any_file_the_run_writes(tmp_path):
    secrets = {name: f"sekret-{name.lower()}-4f9a1c" for name in SECRET_ENV_VARS}
    scenario = tmp_path / "secrets.yaml"
    scenario.write_text(SCENARIO)
    reports = tmp_path / "reports"
    done = harness("run", "--stack", "local", "--scenario", str(scenario), "--no-progress",
                   "--report-dir", str(reports), "--run-id", "secrets", env=secrets,
                   timeout=400)
    assert (reports / "secrets" / "results.json").exists(), done.stderr
    files = [p for p in (reports / "secrets").rglob("*") if p.is_file()]
    assert len(files) > 5 and any(p.name == "postgres.log" for p in files)
    leaks = []
    for path in files:
        text = _text(path)
        leaks += [(path.name, name) for name, value in secrets.items() if value in text]
        leaks += [(path.name, m.group(0)) for m in URL_PASSWORD.finditer(text)
                  if m.group(1) != "***"]
    for stream in (done.stdout, done.stderr):
        leaks += [("output", name) for name, value in secrets.items() if value in stream]
    assert not leaks, leaks
