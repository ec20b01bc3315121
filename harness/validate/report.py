"""Print a validation report: a rich table for people, JSON for machines."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from harness.validate.model import Severity, ValidationReport

__all__ = ["render_json", "render_text"]

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


def render_json(report: ValidationReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False)


def render_text(report: ValidationReport, console: Console) -> None:
    counts = report.counts()
    if report.findings:
        table = Table(show_lines=True, expand=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("rule", no_wrap=True)
        table.add_column("where", overflow="fold")
        table.add_column("finding", overflow="fold", ratio=2)
        table.add_column("fix", overflow="fold", ratio=1)
        for f in report.findings:
            where = f"{f.file}\n{f.object}\n[dim]{', '.join(f.targets)}[/]"
            table.add_row(
                f"[{_STYLE[f.severity]}]{f.severity.value}[/]", f.rule_id, where, f.message, f.fix
            )
        console.print(table)
    verdict = "[bold red]FAIL[/]" if report.has_errors else "[bold green]OK[/]"
    console.print(
        f"{verdict}  {counts['error']} error(s), {counts['warning']} warning(s), "
        f"{counts['info']} info "
        f"in {', '.join(report.targets)} ({report.seconds:.2f} s)",
        highlight=False,
    )
