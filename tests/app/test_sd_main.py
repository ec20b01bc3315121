import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servicedesk.__main__ import main

APP_DIR = Path(__file__).resolve().parents[2] / "stack" / "app"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(APP_DIR), **env}
    return subprocess.run(
        [sys.executable, "-m", "servicedesk", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_lists_the_commands() -> None:
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for command in ("serve", "migrate", "seed"):
        assert command in result.stdout
    seed_help = run_cli("seed", "--help", env={})
    for flag in ("--tickets", "--agents", "--customers", "--tokens-out", "--seed"):
        assert flag in seed_help.stdout


def test_bad_settings_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"], environ={"DB_POOL_MAX": "lots"}) == 2
    err = capsys.readouterr().err
    assert err == "servicedesk: error: DB_POOL_MAX='lots' is invalid: expected an integer >= 1\n"


def test_bad_arguments_exit_2() -> None:
    result = run_cli("seed", "--tickets", "-5", "--tokens-out", "x", env={})
    assert result.returncode == 2 and "expected a positive integer" in result.stderr


def test_migrate_then_seed(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "LOG_LEVEL": "warning"}
    assert run_cli("migrate", env=env).returncode == 0
    assert run_cli("migrate", env=env).returncode == 0
    out = tmp_path / "tokens.json"
    result = run_cli(
        "seed", "--tickets", "200", "--agents", "2", "--customers", "5",
        "--tokens-out", str(out), "--seed", "9", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    tokens = json.loads(out.read_text())
    assert len(tokens["agents"]) == 2 and len(tokens["customers"]) == 5 and tokens["admin"]
    again = run_cli("seed", "--tokens-out", str(out), "--seed", "9", env=env)
    assert again.returncode == 1 and "already holds the users of --seed 9" in again.stderr


def test_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/x.db"}
    result = run_cli("migrate", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("servicedesk: error: cannot open a database connection")
    assert "Traceback" not in result.stderr
