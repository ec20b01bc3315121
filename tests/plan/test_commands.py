"""`harness plan` in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.status import ExitStatus
from tests.plan.steprun import write_step_run


def test_plan_picks_the_newest_stress_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    write_step_run(tmp_path / "step-run")
    code = main(["plan", "--projected-rps", "250", "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitStatus.OK
    assert "knee at 400 users" in out
    data = json.loads((tmp_path / "step-run" / "capacity.json").read_text())
    assert data["projected_rps"] == 250.0
    base = next(e for e in data["environments"] if e["target"] == "base")
    assert base["replicas_needed"] == 3  # ceil(250 x 1.25 / 125) = ceil(2.5)
    assert (tmp_path / "step-run" / "capacity.html").is_file()


def test_plan_needs_a_step_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_step_run(tmp_path / "flat")
    data = json.loads((folder / "results.json").read_text())
    for stage in data["stages"]:
        stage["users"] = 10
    (folder / "results.json").write_text(json.dumps(data))
    code = main(["plan", str(folder)])
    err = capsys.readouterr().err
    assert code == ExitStatus.BAD_CONFIG
    assert "does not step its load" in err
    assert main(["plan", "--report-dir", str(tmp_path / "empty")]) == ExitStatus.BAD_CONFIG
