"""The comparison as a table on the terminal: one row per metric, regressions first."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.compare.report import format_change, format_p, format_value
from harness.compare.verdict import Comparison, Outcome

__all__ = ["comparison_table", "print_comparison"]

STYLES = {
    Outcome.REGRESSION: "bold red",
    Outcome.IMPROVEMENT: "bold blue",
    Outcome.UNCHANGED: "green",
    Outcome.NO_DATA: "yellow",
}
ORDER = {Outcome.REGRESSION: 0, Outcome.IMPROVEMENT: 1, Outcome.UNCHANGED: 2, Outcome.NO_DATA: 3}


def comparison_table(cmp: Comparison) -> Table:
    table = Table(
        title=f"Compare: run {cmp.candidate} against {', '.join(cmp.baseline_runs)}",
        caption=f"{len(cmp.regressions)} regression(s) of {len(cmp.metrics)} metrics; "
                f"{cmp.window_seconds:g} s windows, alpha {cmp.thresholds.alpha:g}",
        title_justify="left", caption_justify="left", box=box.SIMPLE_HEAD,
    )
    for column, justify in (("verdict", "left"), ("metric", "left"), ("baseline", "right"),
                            ("this run", "right"), ("change", "right"), ("p (Holm)", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for m in sorted(cmp.metrics, key=lambda m: ORDER[m.outcome]):
        table.add_row(
            Text(m.outcome.value, style=STYLES[m.outcome]), m.metric.id,
            format_value(m.baseline, m.metric.unit), format_value(m.candidate, m.metric.unit),
            format_change(m), format_p(m.p_value),
        )
    return table


def print_comparison(cmp: Comparison, console: Console) -> None:
    console.print(comparison_table(cmp))
    for m in cmp.metrics:
        if m.outcome in (Outcome.REGRESSION, Outcome.IMPROVEMENT, Outcome.NO_DATA):
            console.print(Text(f"{m.metric.id}: {m.outcome.value}: {m.reason}",
                               style=STYLES[m.outcome]))
    if cmp.regressed:
        names = ", ".join(m.metric.id for m in cmp.regressions)
        console.print(Text(f"REGRESSION: {names} (exit 1)", style="bold red"))
    else:
        console.print(Text("PASS: no metric regressed beyond noise (exit 0)", style="bold green"))
    for note in cmp.notes:
        console.print(f"note: {note}")
