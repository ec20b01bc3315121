"""The nightly performance workflow: valid YAML, the expected jobs and triggers, and every
command its steps run is one the README documents (with the same options)."""

from __future__ import annotations

import ast
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "nightly-perf.yml"
README = ROOT / "README.md"
BENCHMARKS = ROOT / "benchmarks" / "micro"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _commands(script: str) -> list[list[str]]:
    """Each command of a `run:` script as its words, `${{ … }}` expressions kept as one word."""
    text = re.sub(r"\$\{\{.*?\}\}", "EXPR", script.replace("\\\n", " "))
    commands = []
    for line in text.splitlines():
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part, comments=True)
            if words:
                commands.append(words)
    return commands


def _shape(words: list[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """(program and subcommands, the --options used): `.venv/bin/` is dropped, a command's
    words run up to its first option or placeholder argument."""
    program = words[0].removeprefix(".venv/bin/")
    head = [program]
    for word in words[1:]:
        if word.startswith("-") or not re.fullmatch(r"[a-z][a-z/_-]*", word):
            break
        head.append(word)
    options = frozenset(w.split("=", 1)[0] for w in words if w.startswith("--"))
    return tuple(head), options


def _readme_commands() -> list[tuple[tuple[str, ...], frozenset[str]]]:
    # Every fenced block, whatever its language; only the shell ones hold commands.
    fenced = re.findall(r"^```([\w-]*)\n(.*?)^```", README.read_text(encoding="utf-8"),
                        re.S | re.M)
    blocks = [body for language, body in fenced if language in ("", "bash", "sh")]
    return [_shape(words) for block in blocks for words in _commands(block)]


def test_triggers_are_a_schedule_and_by_hand(workflow: dict[Any, Any]) -> None:
    triggers = workflow.get("on", workflow.get(True))  # PyYAML reads a bare `on` as True
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (schedule,) = triggers["schedule"]
    assert len(schedule["cron"].split()) == 5
    assert triggers["workflow_dispatch"]["inputs"]["baseline"]["default"] == "auto"


def test_expected_jobs_and_artifacts(workflow: dict[Any, Any]) -> None:
    jobs = workflow["jobs"]
    assert set(jobs) == {"load-test", "micro-benchmarks"}
    load = jobs["load-test"]
    runs = [s["run"] for s in load["steps"] if "run" in s]
    assert any("harness run --scenario nightly" in r and "--compare" in r for r in runs)
    uploads = [s for s in load["steps"] if str(s.get("uses", "")).startswith(
        "actions/upload-artifact@")]
    paths = "\n".join(s["with"]["path"] for s in uploads)
    assert "junit.xml" in paths and "compare-junit.xml" in paths and "trends.html" in paths
    assert all(s.get("if") == "always()" for s in uploads)  # reports even when the job fails
    caches = {s["uses"].split("@")[0] for s in load["steps"] if "cache" in str(s.get("uses"))}
    assert caches == {"actions/cache/restore", "actions/cache/save"}
    bench = [s["run"] for s in jobs["micro-benchmarks"]["steps"] if "run" in s]
    assert any("--benchmark-compare-fail=" in r for r in bench)
    for job in jobs.values():
        assert job["timeout-minutes"] <= 30


def test_steps_call_only_readme_commands(workflow: dict[Any, Any]) -> None:
    documented = _readme_commands()
    used = [words for job in workflow["jobs"].values() for step in job["steps"]
            if "run" in step for words in _commands(step["run"])]
    assert used
    for words in used:
        head, options = _shape(words)
        matches = [opts for h, opts in documented if h == head]
        assert matches, f"{' '.join(head)} is not a command the README documents"
        assert any(options <= opts for opts in matches), (
            f"{' '.join(head)}: options {sorted(options)} are not all in one README example")


def test_the_checker_rejects_an_undocumented_command() -> None:
    documented = _readme_commands()
    head, _ = _shape(["make", "deploy"])
    assert not [h for h, _ in documented if h == head]
    head, options = _shape([".venv/bin/harness", "run", "--scenario", "x", "--frobnicate"])
    assert not any(options <= o for h, o in documented if h == head)


def _benchmark_names() -> set[str]:
    names = set()
    for path in BENCHMARKS.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names |= {node.name for node in tree.body
                  if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    return names


def test_the_stored_benchmark_baseline_covers_every_benchmark() -> None:
    (stored,) = sorted((BENCHMARKS / "baseline").glob("*/0001_*.json"))
    data = json.loads(stored.read_text(encoding="utf-8"))
    recorded = {bench["name"] for bench in data["benchmarks"]}
    assert recorded == _benchmark_names()
    assert all(bench["stats"]["median"] > 0 for bench in data["benchmarks"])
