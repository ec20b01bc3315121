"""The verdict table printed at the end of a run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from rich.console import Console

from harness.report.terminal import VERDICT_STYLES, print_verdict, status_line, verdict_table
from harness.verify.check import Verdict


def _printed(result, report=None) -> str:
    console = Console(record=True, width=200, color_system=None)
    print_verdict(result, console, report)
    return console.export_text()


def test_table_columns_and_failures_first(result_factory):
    table = verdict_table(result_factory("failed"))
    assert [c.header for c in table.columns] == [
        "id",
        "title",
        "verdict",
        "observed",
        "threshold",
        "window",
    ]
    ids = [cell.plain for cell in table.columns[0].cells]
    assert ids[:2] == ["slo.latency.p99", "slo.error-rate"]
    verdicts = list(table.columns[2].cells)
    assert [v.plain for v in verdicts] == ["FAIL", "FAIL", "PASS", "PASS", "PASS", "SKIPPED"]
    assert verdicts[0].style == VERDICT_STYLES[Verdict.FAIL] == "bold red"
    assert verdicts[2].style == "bold green"
    assert list(table.columns[3].cells)[0] == "690 ms"
    assert list(table.columns[4].cells)[0] == "≤ 300 ms"
    assert list(table.columns[5].cells)[0] == "sliding 60s 210–300 s"


def test_printed_output_ends_with_status_and_report_path(result_factory):
    text = _printed(result_factory("failed"), Path("reports/run-7/report.html"))
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[-1] == (
        "FAILED: at least one check failed (exit 1). Report: reports/run-7/report.html"
    )
    assert "2 failed" in text
    assert "the embedded stack uses SQLite" in text


def test_interrupted_run_prints_the_partial_notice(result_factory):
    text = _printed(result_factory("interrupted"))
    assert "no checks were evaluated" in text
    assert "PARTIAL REPORT" in text
    assert text.rstrip().endswith(
        "INTERRUPTED: the run was interrupted; this report is partial (exit 130)"
    )


def test_status_line_is_coloured_by_status(result_factory):
    assert status_line(result_factory("passed")).style == "bold green"
    assert status_line(result_factory("failed")).style == "bold red"
    assert status_line(result_factory("interrupted")).style == "bold yellow"


def test_narrow_terminal_keeps_every_id_whole_and_fits(result_factory):
    result = result_factory("failed")
    console = Console(record=True, width=80, color_system=None)
    print_verdict(result, console, Path("reports/run-7/report.html"))
    text = console.export_text()
    assert all(len(line) <= 80 for line in text.splitlines())
    for check in result.checks:
        assert check.id in text  # not cut to "slo.group.write…"
    assert "p99 latency, all" in text  # the title sits under the id
    assert "210–300 s" in text and "sliding 60s" in text
    table = verdict_table(result, width=80)
    assert [c.header for c in table.columns] == [
        "id / title",
        "verdict",
        "observed",
        "threshold",
        "window",
    ]


def test_narrow_terminal_folds_a_very_long_id_instead_of_cropping_the_window(result_factory):
    result = result_factory("failed")
    long_id = replace(
        result.checks[3], id="autoscaling.scale-down-stabilization", unit="connections"
    )
    result = replace(result, checks=(*result.checks, long_id))
    console = Console(record=True, width=80, color_system=None)
    print_verdict(result, console)
    lines = console.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    row = next(i for i, line in enumerate(lines) if "autoscaling.scale-down" in line)
    assert lines[row].split()[0] + lines[row + 1].split()[0] == long_id.id  # folded, whole
    assert "60–240 s" in lines[row] and "steady state" in lines[row + 1]
