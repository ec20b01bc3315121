"""The verdict table printed at the end of a run: one row per check, failures first."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report.formatting import (
    STATUS_HEADLINES,
    checks_in_report_order,
    format_observed,
    format_threshold,
    format_window,
    partial_notice,
    verdict_counts,
)
from harness.report.results import RunResult, RunStatus
from harness.verify.check import Verdict

__all__ = ["STATUS_STYLES", "VERDICT_STYLES", "print_verdict", "status_line", "verdict_table"]

VERDICT_STYLES = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red", Verdict.SKIPPED: "yellow"}
STATUS_STYLES = {
    RunStatus.PASSED: "bold green",
    RunStatus.FAILED: "bold red",
    RunStatus.INTERRUPTED: "bold yellow",
    RunStatus.ERROR: "bold red",
}


def verdict_table(result: RunResult) -> Table:
    """id, title, verdict (coloured), observed, threshold and window of every check."""
    counts = verdict_counts(result.checks)
    table = Table(
        title=f"Checks: run {result.run_id} ({result.scenario} on {result.stack})",
        caption=(
            f"{counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
            f"{counts[Verdict.SKIPPED]} skipped"
        ),
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("title")
    table.add_column("verdict", no_wrap=True)
    table.add_column("observed", justify="right", no_wrap=True)
    table.add_column("threshold", justify="right", no_wrap=True)
    table.add_column("window")
    for check in checks_in_report_order(result.checks):
        verdict = Text(check.verdict.value.upper(), style=VERDICT_STYLES[check.verdict])
        title = Text(check.title)
        if check.verdict is Verdict.SKIPPED and check.reason:
            title.append(f"\n{check.reason}", style="dim")
        table.add_row(
            check.id,
            title,
            verdict,
            format_observed(check),
            format_threshold(check),
            format_window(check.window),
        )
    if not result.checks:
        table.add_row(Text("no checks were evaluated", style="dim"), "", "", "", "", "")
    return table


def status_line(result: RunResult, report: Path | None = None) -> Text:
    """'FAILED: at least one check failed (exit 1). Report: reports/…/report.html'."""
    line = Text(
        f"{STATUS_HEADLINES[result.status]} (exit {result.exit_status})",
        style=STATUS_STYLES[result.status],
    )
    if report is not None:
        line.append(". Report: ")
        line.append(str(report), style="underline")
    return line


def print_verdict(result: RunResult, console: Console, report: Path | None = None) -> None:
    """Print the verdict table, the partial-run notice if any, and the status line.

    `report` is the report folder or its report.html; pass it whenever a report was written.
    """
    console.print(verdict_table(result))
    notice = partial_notice(result)
    if notice:
        console.print(Text(notice, style="yellow"))
    console.print(status_line(result, report))
