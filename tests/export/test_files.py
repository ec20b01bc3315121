"""CSV and Parquet files of the export table, and `harness export`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.export.files import ExportFormat, write_frame
from harness.status import ExitStatus
from tests.compare.synthetic import write_run


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("reports") / "run-7", seed=3, ramp=4.0, steady=12.0)


def test_csv_and_parquet_hold_the_same_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame({"series": pd.array(["request", "replica"], dtype="string"),
                          "requests": pd.array([12, None], dtype="Int64"),
                          "p95_ms": pd.array([3.5, None], dtype="Float64")})
    csv = pd.read_csv(write_frame(frame, ExportFormat.CSV, tmp_path / "a.csv"))
    parquet = pd.read_parquet(write_frame(frame, ExportFormat.PARQUET, tmp_path / "b.parquet"))
    assert csv["requests"].iloc[0] == 12 and pd.isna(csv["requests"].iloc[1])
    pd.testing.assert_frame_equal(parquet, frame)  # Parquet keeps the nullable dtypes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.parquet"]  # no temporaries


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_command_writes_the_run(run_folder: Path, tmp_path: Path, fmt: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"run.{fmt}"
    code = main(["export", str(run_folder), "--format", fmt, "--out", str(out)])
    assert code == ExitStatus.OK, capsys.readouterr().err
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert set(frame["series"]) == {"request"}
    assert len(frame) == 8 * 4  # 8 intervals of 2 s, 4 request names
    assert f"{out}: 32 request rows, 0 replica rows (run-7)" in " ".join(
        capsys.readouterr().out.split())


def test_export_by_run_id_writes_into_the_run_folder(run_folder: Path) -> None:
    code = main(["export", "run-7", "--report-dir", str(run_folder.parent), "-f", "parquet"])
    assert code == ExitStatus.OK
    assert len(pd.read_parquet(run_folder / "export.parquet")) == 32


@pytest.mark.parametrize(("args", "words"), [
    (["--format", "xlsx"], "--format 'xlsx': expected csv or parquet"),
    (["--report-dir", "/nonexistent"], "run 'nowhere': no results.json found"),
])
def test_bad_input_exits_2_naming_it(args: list[str], words: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "nowhere", *args]) == ExitStatus.BAD_CONFIG
    assert words in capsys.readouterr().err
