"""`harness down`: stop what `harness up` started."""

from __future__ import annotations

import typer

from harness.commands.up import state_file
from harness.stack.embedded import stop_from_state

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("down")
    def down() -> int:
        """Stop the stack `harness up` started and remove its temporary files."""
        state = state_file()
        if not state.exists():
            typer.echo("nothing to stop: no stack is up")
            return 0
        stopped = stop_from_state(state)
        typer.echo(f"stopped {len(stopped)} replica(s): {', '.join(stopped) or '-'}")
        return 0
