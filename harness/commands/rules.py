"""`harness rules build`: Prometheus recording and multi-window burn-rate alerting rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import paths
from harness.status import ExitStatus

__all__ = ["default_rules_file", "register"]


def default_rules_file() -> Path:
    """Where the compose stack's Prometheus loads rules from (stack/prometheus/rules/)."""
    return paths.stack_dir() / "prometheus" / "rules" / "servicedesk.rules.yml"


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Prometheus rules generated from the SLO spec and the stack's numbers.",
        no_args_is_help=True,
    )

    @group.command("build")
    def build(
        out: Annotated[
            Path | None,
            typer.Option("--out", dir_okay=False,
                         help="The rules file (default: stack/prometheus/rules/"
                         "servicedesk.rules.yml, which the compose stack's Prometheus loads); "
                         "`-` prints it."),
        ] = None,
        check: Annotated[
            bool,
            typer.Option("--check", help="Write nothing; exit 1 when the file differs from what "
                         "the sources produce."),
        ] = False,
        slo_file: Annotated[
            Path | None,
            typer.Option("--slo", dir_okay=False,
                         help="The SLO spec (default: loadtests/slo.yaml)."),
        ] = None,
    ) -> int:
        """SLI recordings for every burn-rate window and the compliance period, SLO metadata,
        page/ticket burn-rate alerts per SLO, and capacity alerts (pool, connections, replicas,
        cache)."""
        from harness.config.load import load_slo
        from harness.provision.rules import build_rules, render_rules
        from harness.provision.sources import load_stack_numbers

        text = render_rules(build_rules(load_slo(slo_file), load_stack_numbers()))
        if out is not None and str(out) == "-":
            typer.echo(text, nl=False)
            return int(ExitStatus.OK)
        target = out or default_rules_file()
        if check:
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if current != text:
                typer.echo(f"out of date: {target} (run `harness rules build`)", err=True)
                raise typer.Exit(int(ExitStatus.CHECK_FAILED))
            typer.echo(f"{target} is up to date")
            return int(ExitStatus.OK)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {target}")
        return int(ExitStatus.OK)

    app.add_typer(group, name="rules")
