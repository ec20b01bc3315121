"""The verdict table printed at the end of a run: one row per check, failures first."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.report.formatting import (
    STATUS_HEADLINES,
    checks_in_report_order,
    format_observed,
    format_seconds,
    format_threshold,
    format_window,
    partial_notice,
    verdict_counts,
)
from harness.report.results import RunResult, RunStatus
from harness.verify.check import CheckResult, Verdict

__all__ = ["STATUS_STYLES", "VERDICT_STYLES", "print_verdict", "status_line", "verdict_table"]

WIDE = 120  # columns from which the title gets a column of its own
MAX_ID_WIDTH = 24
VERDICT_STYLES = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red", Verdict.SKIPPED: "yellow",
                  Verdict.UNTRUSTED: "bold magenta"}
STATUS_STYLES = {
    RunStatus.PASSED: "bold green",
    RunStatus.FAILED: "bold red",
    RunStatus.INTERRUPTED: "bold yellow",
    RunStatus.ERROR: "bold red",
    RunStatus.UNTRUSTED: "bold magenta",
}


def verdict_table(result: RunResult, width: int | None = None) -> Table:
    """id, title, verdict (coloured), observed, threshold and window of every check.

    On a terminal narrower than WIDE (`width`, e.g. console.width), the title goes under the id
    instead of in a column of its own, so no column is squeezed to a few letters.
    """
    counts = verdict_counts(result.checks)
    compact = width is not None and width < WIDE
    table = Table(
        title=f"Checks: run {result.run_id} ({result.scenario} on {result.stack})",
        caption=(
            f"{counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
            f"{counts[Verdict.SKIPPED]} skipped"
            + (f", {counts[Verdict.UNTRUSTED]} untrusted" if counts[Verdict.UNTRUSTED] else "")
        ),
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        pad_edge=not compact,
    )
    if compact:  # ids up to MAX_ID_WIDTH stay whole; longer ones fold rather than crop others
        longest_id = max((len(c.id) for c in result.checks), default=2)
        table.add_column("id / title", min_width=min(longest_id, MAX_ID_WIDTH), overflow="fold")
    else:
        table.add_column("id", no_wrap=True)
    if not compact:
        table.add_column("title")
    table.add_column("verdict", no_wrap=True)
    narrow = 12 if compact else None  # "2 connections" wraps after the number
    table.add_column("observed", justify="right", no_wrap=not compact, max_width=narrow)
    table.add_column("threshold", justify="right", no_wrap=not compact, max_width=narrow)
    table.add_column("window", min_width=10)
    for check in checks_in_report_order(result.checks):
        verdict = Text(check.verdict.value.upper(), style=VERDICT_STYLES[check.verdict])
        ident = Text(check.id, style="cyan")
        title = Text(check.title)
        if check.verdict is Verdict.SKIPPED and check.reason:
            title.append(f"\n{check.reason}", style="dim")
        if compact:
            ident.append("\n")
            ident.append_text(title)
        cells = [ident] if compact else [ident, title]
        table.add_row(
            *cells,
            verdict,
            format_observed(check),
            format_threshold(check),
            _window(check, compact),
        )
    if not result.checks:
        empty: list[Text | str] = [Text("no checks were evaluated", style="dim")]
        table.add_row(*empty, *("" for _ in table.columns[1:]))
    return table


def _window(check: CheckResult, compact: bool) -> str:
    if not compact or check.window is None:
        return format_window(check.window)
    window = check.window
    return f"{format_seconds(window.start)}–{format_seconds(window.end)} s\n{window.label}"


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
    console.print(verdict_table(result, width=console.width))
    if result.generator is not None and result.generator.advice:
        style = "magenta" if result.generator.saturated else "dim"
        console.print(Text(result.generator.advice, style=style))
    notice = partial_notice(result)
    if notice:
        console.print(Text(notice, style="yellow"))
    console.print(status_line(result, report))
