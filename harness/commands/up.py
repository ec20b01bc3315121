"""`harness up`: start the embedded stack and leave it running until `harness down`."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from harness import paths, settings
from harness.commands.folders import writable_dir
from harness.config.k8s import load_deployment
from harness.config.model import SeedSpec
from harness.errors import StackError
from harness.stack.embedded import EmbeddedStack, ProbeSpec

__all__ = ["register", "state_file"]


def state_file() -> Path:
    return paths.state_dir() / "embedded.json"


def register(app: typer.Typer) -> None:
    @app.command("up")
    def up(
        replicas: int | None = typer.Option(
            None, "--replicas", min=1, max=64,
            help="Replicas to start (default: the bundled Deployment's replicas).",
        ),
        tickets: int = typer.Option(5000, "--tickets", min=0, help="Tickets to seed."),
        as_json: bool = typer.Option(False, "--json", help="Print the endpoints as JSON."),
    ) -> int:
        """Start the embedded stack (replicas on 127.0.0.1, seeded) and print its endpoints."""
        state = state_file()
        if state.exists():
            raise StackError(f"a stack is already up (state in {state}); run `harness down` first")
        # Checked before anything starts: a stack whose state cannot be kept could not be stopped.
        writable_dir(state.parent, settings.ENV_STATE_DIR)
        deployment = load_deployment(paths.k8s_base_dir() / "deployment.yaml")
        stack = EmbeddedStack(
            replicas=replicas or deployment.replicas,
            log_dir=paths.state_dir() / "logs",
            seed=SeedSpec(tickets=tickets),
            probe=ProbeSpec.of(deployment),
        )
        err = Console(stderr=True)
        try:
            with err.status("starting replicas and seeding tickets…"):
                endpoints = stack.up()
        except BaseException:
            stack.down()
            raise
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(stack.state(), indent=2), encoding="utf-8")
        shown = endpoints.describe()
        if as_json:
            typer.echo(json.dumps({**shown, "tokens_file": endpoints.tokens_file}, indent=2))
        else:
            out = Console()
            for name, url in shown.items():
                out.print(f"[bold]{name:>12}[/]  {url}")
            out.print(f"[dim]{'tokens':>12}  {endpoints.tokens_file}[/]")
            out.print("[dim]stop it with `harness down`[/]")
        return 0
