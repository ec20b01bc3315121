"""`harness compare` and `harness baseline` in-process: exit statuses, files, the store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from harness.compare.runs import RunData
from harness.status import ExitStatus


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def reports(tmp_path: Path, baseline_run: RunData, same_run: RunData, slow_run: RunData,
            failing_run: RunData) -> Path:
    """A reports folder holding copies of the synthetic runs (commands write into them)."""
    for run_data in (baseline_run, same_run, slow_run, failing_run):
        shutil.copytree(run_data.folder, tmp_path / run_data.run_id)
    return tmp_path


def test_commands_are_registered(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == ExitStatus.OK
    for command in ("compare", "baseline", "plan"):
        assert command in out
    for sub in ("set", "add", "show", "trends"):
        assert run(capsys, "baseline", sub, "--help")[0] == ExitStatus.OK


def test_same_distribution_exits_0(capsys: pytest.CaptureFixture[str], reports: Path) -> None:
    code, out, _ = run(capsys, "compare", "same", str(reports / "baseline"),
                       "--report-dir", str(reports))
    assert code == ExitStatus.OK
    assert "PASS" in out
    verdict = json.loads((reports / "same" / "compare.json").read_text())
    assert verdict["verdict"] == "pass"


def test_slower_run_exits_1_naming_the_metric(capsys: pytest.CaptureFixture[str],
                                              reports: Path) -> None:
    code, out, _ = run(capsys, "compare", "slow", str(reports / "baseline"),
                       "--report-dir", str(reports))
    assert code == ExitStatus.CHECK_FAILED
    assert "latency.all.p95: regression: worse by" in " ".join(out.split())
    assert (reports / "slow" / "compare.html").is_file()
    assert (reports / "slow" / "compare-junit.xml").is_file()


def test_more_errors_exit_1_naming_error_rate(capsys: pytest.CaptureFixture[str],
                                              reports: Path) -> None:
    code, out, _ = run(capsys, "compare", "failing", str(reports / "baseline"),
                       "--report-dir", str(reports), "--out", str(reports / "cmp"))
    assert code == ExitStatus.CHECK_FAILED
    assert "error-rate: regression" in out
    assert (reports / "cmp" / "compare.md").is_file()


def test_a_generous_min_effect_lets_the_slow_run_pass(capsys: pytest.CaptureFixture[str],
                                                      reports: Path) -> None:
    args = ["compare", "slow", str(reports / "baseline"), "--report-dir", str(reports)]
    for kind in ("p50", "p95", "p99"):
        args += ["--min-effect", f"{kind}=30"]
    assert run(capsys, *args)[0] == ExitStatus.OK


@pytest.mark.parametrize("args, words", [
    (["compare", "nothing-here"], "no results.json found"),
    (["compare", "same", "history:zero"], "history"),
    (["compare", "same", "baseline"], "no promoted baseline"),
    (["compare", "same", "--min-effect", "p95"], "KIND=PERCENT"),
    (["compare", "same", "--min-effect", "p42=5"], "unknown metric kind"),
])
def test_bad_usage_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], reports: Path,
                                         args: list[str], words: str) -> None:
    code, _, err = run(capsys, *args, "--report-dir", str(reports))
    assert code == ExitStatus.BAD_CONFIG
    assert words in err and len(err.strip().splitlines()) == 1


def test_baseline_set_then_compare_auto(capsys: pytest.CaptureFixture[str], reports: Path
                                        ) -> None:
    code, out, _ = run(capsys, "baseline", "set", "baseline", "--report-dir", str(reports))
    assert code == ExitStatus.OK and "baseline for scenario 'nightly': baseline" in out
    index = json.loads((reports / "history" / "index.json").read_text())
    assert index["baselines"] == {"nightly": "baseline"}
    # the promoted run survives its folder's deletion: it is copied into the store
    shutil.rmtree(reports / "baseline")
    code, out, _ = run(capsys, "compare", "slow", "--report-dir", str(reports), "--record")
    assert code == ExitStatus.CHECK_FAILED
    code, out, _ = run(capsys, "baseline", "show", "--report-dir", str(reports))
    assert code == ExitStatus.OK
    assert "baseline ★" in out and "regression" in out


def test_history_baseline_and_trends(capsys: pytest.CaptureFixture[str], reports: Path) -> None:
    for name in ("baseline", "same"):
        assert run(capsys, "baseline", "add", name, "--report-dir", str(reports))[0] == 0
    code, out, _ = run(capsys, "compare", "slow", "history", "--report-dir", str(reports))
    assert code == ExitStatus.CHECK_FAILED
    assert "against baseline, same" in " ".join(out.split())
    code, out, _ = run(capsys, "baseline", "trends", "--report-dir", str(reports))
    assert code == ExitStatus.OK
    assert (reports / "history" / "trends.html").is_file()


def test_only_a_passed_run_is_promoted_without_force(capsys: pytest.CaptureFixture[str],
                                                     reports: Path) -> None:
    results = reports / "same" / "results.json"
    data = json.loads(results.read_text())
    data["status"] = "untrusted"
    results.write_text(json.dumps(data))
    code, _, err = run(capsys, "baseline", "set", "same", "--report-dir", str(reports))
    assert code == ExitStatus.BAD_CONFIG and "'untrusted', not 'passed'" in err
    assert run(capsys, "baseline", "set", "same", "--force", "--report-dir", str(reports))[0] == 0


def _tag(reports: Path, run_id: str, **tags: str) -> None:
    results = reports / run_id / "results.json"
    data = json.loads(results.read_text())
    data["tags"] = tags
    results.write_text(json.dumps(data))


def test_tag_picks_the_history_to_compare_with(capsys: pytest.CaptureFixture[str],
                                               reports: Path) -> None:
    """`--tag env=staging` compares only with staging runs: the slow run is compared with the
    staging `same` run, never with the prod-tagged `baseline`."""
    _tag(reports, "baseline", env="prod")
    _tag(reports, "same", env="staging")
    for name in ("baseline", "same"):
        assert run(capsys, "baseline", "add", name, "--report-dir", str(reports))[0] == 0
    code, out, _ = run(capsys, "compare", "slow", "history", "--tag", "env=staging",
                       "--report-dir", str(reports))
    flat = " ".join(out.split())
    assert code == ExitStatus.CHECK_FAILED
    assert "run slow against same verdict" in flat  # one run: `same`, not `baseline`
    code, _, err = run(capsys, "compare", "slow", "history", "--tag", "env=qa",
                       "--report-dir", str(reports))
    assert code == ExitStatus.BAD_CONFIG and "tagged env=qa" in err
    code, out, _ = run(capsys, "baseline", "show", "--tag", "env=prod", "--report-dir",
                       str(reports))
    assert code == ExitStatus.OK and "baseline" in out and "same" not in out
    code, _, _ = run(capsys, "baseline", "trends", "--tag", "env=staging", "--report-dir",
                     str(reports))
    trends = (reports / "history" / "trends.md").read_text()
    assert code == ExitStatus.OK and "env=staging" in trends and "`same`" in trends
    assert "`baseline`" not in trends
    assert run(capsys, "compare", "slow", "--tag", "env", "--report-dir",
               str(reports))[0] == ExitStatus.BAD_CONFIG
