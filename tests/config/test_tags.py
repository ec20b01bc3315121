"""Run tags: KEY=VALUE parsing, label-name rules, precedence and matching."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.config.load import load_scenario
from harness.config.tags import matches, merge_tags, parse_tags
from harness.errors import ConfigError, UsageError


def test_parse_repeated_flags_last_wins() -> None:
    assert parse_tags(["env=staging", "team=sre", "env=prod"]) == {"env": "prod", "team": "sre"}
    assert parse_tags(["build = 1.2=rc1"]) == {"build": "1.2=rc1"}  # split at the first =


@pytest.mark.parametrize("item, words", [
    ("env", "expected KEY=VALUE"),
    ("1env=x", "label name"),
    ("__env=x", "label name"),
    ("my-env=x", "label name"),
    ("scenario=x", "taken by the harness"),
    ("le=x", "taken by the harness"),
    ("env=", "1 to 200 printable"),
    ("env=" + "x" * 201, "1 to 200 printable"),
])
def test_bad_tags_are_usage_errors_naming_the_flag(item: str, words: str) -> None:
    with pytest.raises(UsageError, match=f"--tag '{re.escape(item[:10])}.*{words}"):
        parse_tags([item])


def test_flags_beat_the_scenario_file_key_by_key() -> None:
    merged = merge_tags({"env": "dev", "team": "sre"}, {"env": "staging"})
    assert merged == {"env": "staging", "team": "sre"}


def test_matches_needs_every_wanted_pair() -> None:
    tags = {"env": "staging", "team": "sre"}
    assert matches(tags, {}) and matches(tags, {"env": "staging"})
    assert not matches(tags, {"env": "prod"}) and not matches({}, {"env": "staging"})


def test_scenario_file_tags_are_checked_and_named(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: good\ndescription: d\nstages: [{duration: 5, users: 1}]\n"
                    "tags: {env: staging}\n")
    assert load_scenario(str(good)).tags == {"env": "staging"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: d\nstages: [{duration: 5, users: 1}]\n"
                   "tags: {run_id: x}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: tags: .*'run_id' is taken"):
        load_scenario(str(bad))
