"""`harness scenarios`: the bundled scenarios, one line each."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from harness.config.durations import format_duration
from harness.config.load import bundled_scenarios, load_scenario

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("scenarios")
    def scenarios() -> int:
        """List the bundled scenarios: name, duration, peak users and what each is for."""
        table = Table(box=None, pad_edge=False)
        table.add_column("scenario", style="bold cyan")
        table.add_column("duration", justify="right")
        table.add_column("max users", justify="right")
        table.add_column("what it is for")
        for name in bundled_scenarios():
            scenario = load_scenario(name)
            table.add_row(
                name,
                format_duration(scenario.duration),
                str(max(s.users for s in scenario.stages)),
                scenario.description,
            )
        Console(width=160).print(table)
        return 0
