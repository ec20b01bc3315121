"""`harness replay` in-process: the table, JSON, and exit 2 for what it cannot replay."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.cli import main
from harness.status import ExitStatus
from tests.plan.test_replay import make_trace
from tests.report.factory import make_result


def write_run(folder: Path) -> Path:
    result = make_result("passed", duration=120.0)
    scaling = make_trace([1400.0] * 8).section(origin=0.0)
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(replace(result, extra={"scaling": scaling}).to_json())
    return folder


def test_replay_prints_one_row_per_target_and_the_caveat(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_run(tmp_path / "run")
    code = main(["replay", str(folder), "--cpu-target", "50", "--cpu-target", "90"])
    out = capsys.readouterr().out
    assert code == ExitStatus.OK
    assert "cannot predict latency" in out
    rows = [line for line in out.splitlines() if line.startswith(("run:", "cpu "))]
    assert [r.split(",")[0] for r in rows] == ["run: cpu 70 %", "cpu 50 %", "cpu 90 %"]
    assert rows[1].split("window 300 s")[1].split()[0] == "6"  # peak: ceil(2 x 140 / 50)


def test_replay_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_run(tmp_path / "run")
    assert main(["replay", str(folder / "results.json"), "--min", "3", "--max", "5",
                 "--scale-down-window", "1m", "--format", "json"]) == ExitStatus.OK
    data = json.loads(capsys.readouterr().out)
    (only,) = data["replays"]
    assert (only["min_replicas"], only["max_replicas"], only["scale_down_window"]) == (3, 5, 60)
    assert data["run"]["peak_replicas"] == 4 and "cannot predict latency" in data["caveat"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--cpu-target", "0"], "--cpu-target", id="target-zero"),
        pytest.param(["--min", "4", "--max", "3"], "--max 3 is below --min 4", id="max-below"),
        pytest.param(["--min", "11"], "--min: the replay would run 11-10", id="min-above-hpa"),
        pytest.param(["--max", "1"], "--max: the replay would run 2-1", id="max-below-hpa"),
        pytest.param(["--scale-down-window", "soon"], "--scale-down-window", id="bad-window"),
        pytest.param(["--scale-down-window", "2h"], "not within 0s-1h", id="long-window"),
        pytest.param(["--format", "xml"], "--format", id="bad-format"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          args: list[str], message: str) -> None:
    folder = write_run(tmp_path / "run")
    assert main(["replay", str(folder), *args]) == ExitStatus.BAD_CONFIG
    assert message in capsys.readouterr().err


def test_what_cannot_be_replayed_exits_2_naming_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path / "missing")]) == ExitStatus.BAD_CONFIG
    assert "no results.json" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "results.json").write_text("{not json")
    assert main(["replay", str(corrupt)]) == ExitStatus.BAD_CONFIG
    assert "corrupt/results.json" in capsys.readouterr().err
    old = tmp_path / "old"
    old.mkdir()
    (old / "results.json").write_text(make_result("passed", duration=60.0).to_json())
    assert main(["replay", str(old)]) == ExitStatus.BAD_CONFIG
    err = capsys.readouterr().err
    assert "old/results.json: extra -> scaling" in err and "older harness" in err
    none = tmp_path / "none"
    none.mkdir()
    (none / "results.json").write_text(
        make_result("passed", duration=60.0, extra=False).to_json())
    assert main(["replay", str(none)]) == ExitStatus.BAD_CONFIG
    assert "no scaling trace" in capsys.readouterr().err
